"""The fake usage API behind a real socket: a threaded HTTP server on 127.0.0.1.

``with FakeServer(api) as server:`` binds a free port (or the one asked for),
serves every request on its own thread and stops on exit. ``server.url`` is
the base URL to give any tool (``http://127.0.0.1:<port>/v1``); plain http is
fine there because the traffic never leaves the machine.

Faults are real: a delay sleeps in the request's thread, a truncated body
sends the full ``Content-Length`` then closes the connection halfway, and a
trickled answer sends its status line, headers and body one byte at a time.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from codex_credits.testing._fake import FakeUsageApi

__all__ = ["FakeServer"]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "codex-credits-fake/1"
    sys_version = ""

    def _serve(self, body: bool = True) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        answer = self.server.api.handle(self.command, self.path, dict(self.headers.items()))
        if answer.delay:
            time.sleep(answer.delay)
        if answer.trickle and body:
            self._trickle(answer.status, answer.headers, answer.body, answer.trickle)
            return
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(answer.body)))
        if answer.truncated:
            self.send_header("connection", "close")
        self.end_headers()
        if not body:
            return
        if answer.truncated:
            self.wfile.write(answer.body[: len(answer.body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(answer.body)

    def _trickle(self, status: int, headers: dict[str, str], body: bytes, seconds: float) -> None:
        """The whole answer, status line and headers included, one byte at a time."""
        self.close_connection = True
        head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head += [f"content-length: {len(body)}", "connection: close"]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        try:
            for index in range(len(raw)):
                self.wfile.write(raw[index : index + 1])
                self.wfile.flush()
                time.sleep(seconds)
        except OSError:  # the client hung up, as it should
            return

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = _serve

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # any other method: the fake answers 405 itself
            return self._serve
        raise AttributeError(name)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the fake records requests in ``api.requests`` instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, api: FakeUsageApi, port: int) -> None:
        self.api = api
        super().__init__(("127.0.0.1", port), _Handler)


class FakeServer:
    """Run a :class:`FakeUsageApi` on ``127.0.0.1:port`` (0 picks a free port).

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, api: FakeUsageApi | None = None, *, port: int = 0) -> None:
        self.api = api if api is not None else FakeUsageApi()
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise RuntimeError("the fake server is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL: ``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeServer:
        """Bind and serve on a background thread."""
        if self._server is None:
            self._server = _Server(self.api, self._port)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="codex-credits-fake-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
