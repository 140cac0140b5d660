"""A webhook receiver for the sandbox's tests: a real HTTP server on 127.0.0.1 that records every POST.

`with receiving(statuses=[500, 500]) as rx:` answers 500 twice, then 200 (or `default`), each
`delay` seconds after recording it; `rx.url` is its URL, `rx.calls` the requests in arrival order,
`rx.wait_for(n)` waits for n of them. Always stopped on exit.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Call:
    """One request the receiver got: lower-cased headers, the raw body, the status it answered."""

    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def event(self) -> str:
        return self.headers["x-holded-webhook-event"]

    @property
    def id(self) -> str:
        return self.headers["x-holded-webhook-id"]

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self, statuses: list[int], default: int, delay: float) -> None:
        self.statuses = list(statuses)
        self.default = default
        self.delay = delay
        self.calls: list[Call] = []
        self.cond = threading.Condition()
        self.url = ""

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        with self.cond:
            status = self.statuses.pop(0) if self.statuses else self.default
            self.calls.append(Call(headers, body, status))
            self.cond.notify_all()
        return status

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Call]:
        """The first `count` calls, once they arrived (AssertionError after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.calls) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"expected {count} webhook calls, got {len(self.calls)}"
                self.cond.wait(left)
            return list(self.calls[:count])

    def events(self) -> list[str]:
        with self.cond:
            return [c.event for c in self.calls]


@contextmanager
def receiving(statuses: list[int] | None = None, default: int = 200, delay: float = 0.0) -> Iterator[Receiver]:
    """A started receiver on 127.0.0.1 and a free port (see the module docstring)."""
    receiver = Receiver(statuses or [], default, delay)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = receiver.answer({k.lower(): v for k, v in self.headers.items()}, body)
            if receiver.delay:  # recorded on arrival, answered later
                time.sleep(receiver.delay)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/holded"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
