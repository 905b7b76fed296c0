"""Adapters: the only modules importing boto3, botocore and httpx; each implements ports."""
