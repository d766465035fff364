"""A real HTTP endpoint on a loopback port that answers Graph's validation request and records notifications."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Receiver:
    """Behaviour is switchable per test: `echo` (right, wrong, slow, html), `fail_next` POSTs answered 500."""

    def __init__(self):
        self.echo = "right"
        self.slow_seconds = 0.0
        self.fail_next = 0
        self.post_delay = 0.0
        self.validations: list[str] = []
        self.posts: list[dict] = []  # {"path", "value", "at"}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                token = parse_qs(parts.query).get("validationToken")
                if token:
                    receiver._validate(self, token[0])
                    return
                time.sleep(receiver.post_delay)
                with receiver.lock:
                    failing = receiver.fail_next > 0
                    receiver.fail_next -= 1 if failing else 0
                    receiver.posts.append({"path": parts.path, "value": json.loads(body)["value"], "at": time.time(),
                                           "failed": failing})
                self.send_response(500 if failing else 202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _validate(self, handler, token):
        self.validations.append(token)
        if self.slow_seconds:
            time.sleep(self.slow_seconds)
        answer, kind = (token, "text/plain") if self.echo in ("right", "slow") else \
            (token + "x", "text/plain") if self.echo == "wrong" else (token, "text/html")
        data = answer.encode()
        handler.send_response(200)
        handler.send_header("Content-Type", f"{kind}; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def delivered(self, path: str | None = None, failed: bool = False) -> list[dict]:
        """Every notification received (optionally on one path), in arrival order."""
        with self.lock:
            return [n for p in self.posts if path in (None, p["path"]) and p["failed"] == failed for n in p["value"]]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.delivered(path)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        return self.delivered(path)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
