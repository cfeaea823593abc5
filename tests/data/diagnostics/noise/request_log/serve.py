"""A real http.server request log whose URLs look like path:line locations."""

import threading
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

server = ThreadingHTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{server.server_address[1]}"
for path in ("/serve.py", "/serve.py:12", "/main.go:45:3", "/static/app.js:10:5",
             "/Dockerfile:3", "/api/orders?trace=File%20%22serve.py%22,%20line%202"):
    try:
        urllib.request.urlopen(base + path).read()
    except urllib.error.HTTPError as exc:
        print(f"GET {path} -> {exc.code}", flush=True)
server.shutdown()
