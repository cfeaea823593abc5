"""A tiny HTTP service for the compose-python example (stdlib only).

GET / answers with a greeting; the port comes from $PORT (default 8000).
"""

import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GREETING = os.environ.get("GREETING", "Hello from compose-python!")
PORT = int(os.environ.get("PORT", "8000"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = (GREETING + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        print(f"{self.address_string()} {format % args}")


def main() -> None:
    # As PID 1 in a container, Python ignores SIGTERM unless it handles it:
    # without this, `docker stop` (and every restart) waits 10 s for SIGKILL.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    print(f"serving on port {PORT}")
    server.serve_forever()


if __name__ == "__main__":
    main()
