"""A tiny greeting service on the standard library."""

import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from greeting import greet

# Computed at start-up, so a broken greet() crashes the service at once.
BANNER = greet("tilt-lsp")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = (BANNER + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        print("request:", format % args, flush=True)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8765"))
    print(f"greeter listening on http://localhost:{port}", flush=True)
    HTTPServer(("127.0.0.1", port), Handler).serve_forever()
