#!/usr/bin/env python3
"""receiver.py: a real HTTP webhook receiver for the anomaly end-to-end test.

Listens on 127.0.0.1 (port written to --port-file), answers every POST with 200 and appends
one JSON line per request to --log: {"method", "path", "authorization", "content_type",
"body"} (body parsed as JSON, or null with "raw" when it is not JSON).
"""
import argparse
import http.server
import json
import os
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rec = {"method": "POST", "path": self.path,
                   "authorization": self.headers.get("Authorization"),
                   "content_type": self.headers.get("Content-Type")}
            try:
                rec["body"] = json.loads(raw)
            except ValueError:
                rec["body"], rec["raw"] = None, raw.decode("utf-8", "replace")
            with lock, open(args.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
