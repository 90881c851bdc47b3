"""Local servers the notification tests post to: an HTTP recorder (127.0.0.1 only)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: Message  # case-insensitive, as HTTP headers are
    body: bytes


@dataclass
class Recorder:
    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200


def start_recorder() -> tuple[Recorder, ThreadingHTTPServer]:
    """An HTTP server on 127.0.0.1 (a free port) that records every POST and answers
    with `recorder.status`. Stop it with server.shutdown()."""
    recorder = Recorder(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            recorder.requests.append(
                Received(path=self.path, headers=self.headers, body=self.rfile.read(length))
            )
            self.send_response(recorder.status)
            self.end_headers()
            self.wfile.write(b'{"errcode":0}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return recorder, server
