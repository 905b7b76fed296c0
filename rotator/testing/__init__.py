"""Faithful fakes for tests and the offline demo.

``openai_emulator``: a stateful OpenAI Administration API (in-process or on 127.0.0.1).
``memory_store`` (+ ``memory_secrets``): Secrets Manager in memory, with AWS's real stage semantics.
``moto_server``: moto's Secrets Manager server on 127.0.0.1.
"""
