"""The emulator as a real HTTP server on 127.0.0.1 (stdlib ``ThreadingHTTPServer``).

``with OpenAIEmulatorServer(emu) as server: httpx.get(f"{server.base_url}/models")``. Port 0
(the default) picks a free port. A dropped-connection fault closes the socket without writing
a byte, so the client sees exactly what a lost response looks like.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from rotator.testing.openai_emulator.emulator import OpenAIEmulator

LOOPBACK = "127.0.0.1"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # parallel clients must not wait for SYN retransmits

    def __init__(self, emulator: OpenAIEmulator, port: int) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.emulator = emulator
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-answer are normal here; stay quiet."""

    def hang_up_all(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections so they finish."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        headers = dict(self.headers.items())
        reply = self.server.emulator.handle_raw(self.command, self.path, headers, body)
        if reply.drop is not None:
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line."""


class OpenAIEmulatorServer:
    """Serves an :class:`OpenAIEmulator` over HTTP on 127.0.0.1 until stopped."""

    def __init__(self, emulator: OpenAIEmulator, *, port: int = 0) -> None:
        self.emulator = emulator
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator server is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``, the OpenAI base URL to give a client."""
        return f"http://{LOOPBACK}:{self.port}/v1"

    def start(self) -> OpenAIEmulatorServer:
        if self._server is not None:
            raise RuntimeError("the emulator server is already running")
        self._server = _Server(self.emulator, self._port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"openai-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        server.shutdown()
        server.hang_up_all()
        server.server_close()
        thread.join(timeout=5)

    def __enter__(self) -> OpenAIEmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
