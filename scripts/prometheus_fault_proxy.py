#!/usr/bin/env python3
"""prometheus_fault_proxy.py: an HTTP proxy in front of a real Prometheus that injects faults,
for scripts/fault_campaign.sh. It forwards every request unchanged, except as the mode file says:

  pass         forward (the default, and when the file is missing)
  slow:<s>     wait <s> seconds, then forward (a Prometheus too slow for the client's timeout)
  partial      forward, then keep only every other series of each vector/matrix result (a
               Prometheus answering with data missing, e.g. after a lost scrape target)

  prometheus_fault_proxy.py --upstream http://127.0.0.1:9090 --mode-file /tmp/mode \
      --port-file /tmp/proxy.port
"""
import argparse
import http.server
import json
import socketserver
import time
import urllib.error
import urllib.request


def mode(path):
    try:
        with open(path) as f:
            return f.read().strip() or "pass"
    except OSError:
        return "pass"


def drop_half(body):
    doc = json.loads(body)
    data = doc.get("data") or {}
    if data.get("resultType") in ("vector", "matrix"):
        data["result"] = data.get("result", [])[::2]
    return json.dumps(doc).encode()


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _forward(self, method):
        m = mode(self.server.mode_file)
        if m.startswith("slow:"):
            time.sleep(float(m[5:]))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        req = urllib.request.Request(self.server.upstream + self.path, data=body, method=method)
        for k in ("Content-Type", "Accept"):
            if self.headers.get(k):
                req.add_header(k, self.headers[k])
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, payload, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            status, payload, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
        if m == "partial" and status == 200 and "json" in ctype:
            payload = drop_half(payload)
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype or "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): expected in slow mode

    def do_GET(self):
        self._forward("GET")

    def do_POST(self):
        self._forward("POST")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--mode-file", required=True)
    p.add_argument("--port-file", required=True)
    a = p.parse_args()
    s = Server(("127.0.0.1", 0), Proxy)
    s.upstream, s.mode_file = a.upstream.rstrip("/"), a.mode_file
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % s.server_address[1])
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    s.serve_forever()


if __name__ == "__main__":
    main()
