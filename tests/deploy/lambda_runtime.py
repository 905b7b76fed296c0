"""Run the unzipped package the way AWS's Python runtime does, on 127.0.0.1.

* :class:`RuntimeAPI`: a small Lambda Runtime API server (``/2018-06-01/runtime/...``): it hands
  out one event per ``GET invocation/next`` (with the request id, deadline, function ARN and
  trace headers Lambda sends) and records every ``invocation/{id}/response``,
  ``invocation/{id}/error`` and ``init/error``.
* :class:`ForwardProxy`: a plain-HTTP forward proxy, to show the function honours the proxy
  variables the template sets.
* :class:`LambdaProcess`: ``build/lambda-rt/lang/bin/python -m awslambdaric <_HANDLER>`` in the
  task folder, with the variables Lambda sets (``_HANDLER``, ``LAMBDA_TASK_ROOT``,
  ``AWS_LAMBDA_RUNTIME_API``, ``AWS_EXECUTION_ENV``, ``AWS_LAMBDA_FUNCTION_NAME``, ...) and the
  function's own environment, and nothing else from this process.

``scripts/lambda_runtime_env.py`` (``make lambda-rt``) sets up the interpreter and awslambdaric.
Used by ``tests/deploy/test_lambda_runtime_client.py`` and ``benchmarks/lambda_runtime.py``.
What is not emulated: a read-only task folder, the memory limit, freezing between invocations,
timeouts, arm64 (the package is pure Python).
"""

from __future__ import annotations

import http.client
import json
import queue
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
RT = ROOT / "build" / "lambda-rt"
PREFIX = "/2018-06-01/runtime"
FUNCTION_NAME = "rotator-test-rotator"
REGION = "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION_NAME}"


@dataclass
class Invocation:
    """One event handed out and what the runtime posted back for it."""

    request_id: str
    event: bytes
    done: threading.Event = field(default_factory=threading.Event)
    body: bytes = b""
    outcome: str | None = None  # "response" or "error": the path the runtime posted to
    answered_at: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body)


class RuntimeAPI:
    """The Runtime API on 127.0.0.1 (an ephemeral port); one invocation at a time."""

    def __init__(self, *, timeout_s: float = 180) -> None:
        self.timeout_s = timeout_s
        self.pending: queue.Queue[Invocation | None] = queue.Queue()
        self.invocations: dict[str, Invocation] = {}
        self.calls: list[str] = []
        self.init_error: dict[str, Any] | None = None
        self.init_error_type: str | None = None
        self.init_failed = threading.Event()
        self.first_next_at = 0.0  # perf_counter() of the first GET next: init is over
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # awslambdaric's client keeps its connection

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads ``calls`` instead."""

            def _reply(self, code: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(code)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    self._reply(404, b"{}", {})
                    return
                api.calls.append("GET next")
                api.first_next_at = api.first_next_at or time.perf_counter()
                invocation = api.pending.get()
                if invocation is None:  # shutting down
                    self.close_connection = True
                    self._reply(500, b"{}", {})
                    return
                deadline = int((time.time() + api.timeout_s) * 1000)
                self._reply(
                    200,
                    invocation.event,
                    {
                        "Content-Type": "application/json",
                        "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                        "Lambda-Runtime-Deadline-Ms": str(deadline),
                        "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                        "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;"
                        "Parent=53995c3f42cd8ad8;Sampled=0",
                    },
                )

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
                if self.path == f"{PREFIX}/init/error":
                    api.calls.append("POST init/error")
                    api.init_error, api.init_error_type = json.loads(body), error_type
                    api.init_failed.set()
                    self._reply(202, b'{"status":"OK"}', {})
                    return
                parts = self.path.removeprefix(f"{PREFIX}/invocation/").split("/")
                invocation = api.invocations.get(parts[0])
                if len(parts) != 2 or invocation is None or parts[1] not in {"response", "error"}:
                    self._reply(404, b"{}", {})
                    return
                api.calls.append(f"POST {parts[1]}")
                invocation.body = body
                invocation.outcome = parts[1]
                invocation.answered_at = time.perf_counter()
                invocation.done.set()
                self._reply(202, b'{"status":"OK"}', {})

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                """A runtime killed while it waits for ``next`` resets its connection: fine."""

        self.server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.pending.put(None)
        self.server.shutdown()
        self.server.server_close()

    def submit(self, event: dict[str, Any]) -> Invocation:
        invocation = Invocation(str(uuid.uuid4()), json.dumps(event).encode())
        self.invocations[invocation.request_id] = invocation
        self.pending.put(invocation)
        return invocation

    def invoke(self, event: dict[str, Any], *, timeout: float = 120) -> Invocation:
        """Hand ``event`` to the runtime and wait for its response or error."""
        invocation = self.submit(event)
        if not invocation.done.wait(timeout):
            raise TimeoutError(f"no answer to {event.get('Step', event)} within {timeout} s")
        return invocation


class LambdaProcess:
    """awslambdaric on the bare python3.13 of build/lambda-rt, serving one RuntimeAPI."""

    def __init__(
        self,
        task_root: Path,
        api: RuntimeAPI,
        function_env: dict[str, str],
        *,
        handler: str = "handler.lambda_handler",
    ) -> None:
        self.task_root = task_root
        self.handler = handler
        self.env = {
            # What Lambda's python3.13 runtime sets (the documented reserved variables).
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(RT / "runtime"),
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": "INFO",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{FUNCTION_NAME}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/01/[$LATEST]0123456789abcdef",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PATH": f"{RT / 'lang' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH": str(RT / "runtime"),
            **function_env,
        }
        self.process: subprocess.Popen[str] | None = None
        self.started_at = 0.0
        self.output = ""

    def __enter__(self) -> Self:
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(
            [str(RT / "lang" / "bin" / "python"), "-m", "awslambdaric", self.handler],
            cwd=self.task_root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> str:
        """End the runtime (it would wait for events forever) and return everything it printed."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
        output, _ = self.process.communicate(timeout=30)
        self.output = output
        return output

    def wait_exit(self, timeout: float = 30) -> int:
        assert self.process is not None
        return self.process.wait(timeout)


class ForwardProxy:
    """A plain-HTTP forward proxy on 127.0.0.1 that records ``(method, host:port)`` it relays.

    Enough to show that a client honours ``HTTP_PROXY``/``HTTPS_PROXY`` (httpx and botocore read
    both the same way); it does not implement ``CONNECT``, so https targets are out of scope.
    """

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads ``seen``."""

            def _relay(self) -> None:
                target = urlsplit(self.path)
                if target.scheme != "http" or not target.netloc:
                    self.send_error(400, "absolute http:// URLs only")
                    return
                proxy.seen.append((self.command, target.netloc))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in {"proxy-connection", "connection", "keep-alive"}
                }
                connection = http.client.HTTPConnection(target.netloc, timeout=60)
                try:
                    path = target.path + (f"?{target.query}" if target.query else "")
                    connection.request(self.command, path or "/", body=body, headers=headers)
                    answer = connection.getresponse()
                    payload = answer.read()
                finally:
                    connection.close()
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in {"transfer-encoding", "connection", "content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = do_PUT = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
