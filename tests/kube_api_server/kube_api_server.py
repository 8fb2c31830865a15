#!/usr/bin/env python3
"""kube_api_server.py: a TEST SERVER THAT STANDS IN FOR kube-apiserver. It is not Kubernetes.

There is no kube-apiserver on the build machines (DESIGN.md, "Testing against real things"), so
tests talk to this small HTTP(S) server instead. It speaks the real wire format of the endpoints
our code calls and nothing more:

  POST /apis/authentication.k8s.io/v1/tokenreviews           TokenReview (authentication.k8s.io/v1)
  POST /apis/authorization.k8s.io/v1/subjectaccessreviews    SubjectAccessReview (authorization.k8s.io/v1)
  GET  /api/v1/namespaces/{ns}/configmaps/{name}             v1 ConfigMap (from the configured objects)
  GET  /version, /healthz

Outcomes are configured by the test at run time through a control API under /_fake/ (never part
of the Kubernetes API):

  POST   /_fake/config     JSON merged into the configuration (see DEFAULT_CONFIG below)
  POST   /_fake/reset      back to DEFAULT_CONFIG, recorded requests dropped
  GET    /_fake/requests   {"requests": [...]}: every non-control request, oldest first
  DELETE /_fake/requests   drop recorded requests

Configuration keys:
  tokens        {"<token>": {"username", "uid", "groups", "extra"}}: tokens that authenticate;
                any other token gets status.authenticated=false with status.error set.
  sar_rules     [{"user"?, "group"?, "verb"?, "resource"?, "subresource"?, "namespace"?,
                  "name"?, "path"?, "allowed": bool, "denied": bool, "reason"?}]: the first
                rule whose given fields all match the review decides; no match = no opinion
                (allowed=false, denied=false).
  faults        {"tokenreviews"|"subjectaccessreviews"|"configmaps": {"status": 500,
                  "count": n, "delay": seconds}}: answer that many requests (n < 0 or absent:
                all) with that HTTP status and a metav1.Status body; "close" instead of a status
                drops the connection; "delay" alone (no status) answers normally, that late.
  configmaps    {"<ns>/<name>": {"<key>": "<value>"}}
  bearer_token  if set, every Kubernetes request must carry "Authorization: Bearer <it>" (401
                otherwise), like the adapter's ServiceAccount token.

Usage: kube_api_server.py --port-file F [--port 0] [--tls-cert C --tls-key K [--client-ca CA]]
The chosen port is written to --port-file (atomically) once the server listens.
"""

import argparse
import copy
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_CONFIG = {
    "tokens": {},
    "sar_rules": [],
    "faults": {},
    "configmaps": {},
    "bearer_token": "",
}

_lock = threading.Lock()
_config = copy.deepcopy(DEFAULT_CONFIG)
_requests = []


def _status_body(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def _rule_matches(rule, spec):
    ra = spec.get("resourceAttributes")
    nra = spec.get("nonResourceAttributes")
    if "user" in rule and rule["user"] != spec.get("user", ""):
        return False
    if "group" in rule and rule["group"] not in (spec.get("groups") or []):
        return False
    if "path" in rule:
        if nra is None or nra.get("path") != rule["path"]:
            return False
    for key in ("verb", "resource", "subresource", "namespace", "name", "api_group"):
        if key not in rule:
            continue
        attrs = ra if ra is not None else nra or {}
        field = "group" if key == "api_group" else key
        if attrs.get(field, "") != rule[key]:
            return False
    return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-kube-apiserver/1"

    def log_message(self, fmt, *args):  # quiet; the test reads /_fake/requests instead
        pass

    # -- helpers -------------------------------------------------------------------------
    def _send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _peer_cn(self):
        try:
            cert = self.connection.getpeercert()
        except (AttributeError, ValueError):
            return ""
        if not cert:
            return ""
        for rdn in cert.get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    return v
        return ""

    def _record(self, raw_body):
        parsed = urllib.parse.urlsplit(self.path)
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = raw_body.decode(errors="replace")
        entry = {
            "method": self.command,
            "path": parsed.path,
            "query": parsed.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
            "client_cn": self._peer_cn(),
            "time": time.time(),
        }
        with _lock:
            _requests.append(entry)

    def _fault(self, kind):
        """Applies a configured fault for `kind`; True when the request was answered."""
        with _lock:
            fault = _config["faults"].get(kind)
            if not fault:
                return False
            count = fault.get("count", -1)
            if count == 0:
                return False
            if count > 0:
                fault["count"] = count - 1
            status = fault.get("status")
            delay = float(fault.get("delay", 0))
        if delay > 0:
            time.sleep(delay)
        if status is None:
            return delay <= 0 and self._fault_default(kind)
        if status == "close":
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return True
        self._send_json(int(status), _status_body(int(status), "InternalError",
                                                  "injected fault for " + kind))
        return True

    def _fault_default(self, kind):
        # A fault entry with neither status nor delay keeps the old default: HTTP 500.
        self._send_json(500, _status_body(500, "InternalError", "injected fault for " + kind))
        return True

    def _check_caller(self):
        with _lock:
            want = _config.get("bearer_token") or ""
        if not want:
            return True
        if self.headers.get("Authorization", "") == "Bearer " + want:
            return True
        self._send_json(401, _status_body(401, "Unauthorized", "Unauthorized"))
        return False

    # -- Kubernetes endpoints ------------------------------------------------------------
    def _token_review(self, review):
        spec = (review or {}).get("spec") or {}
        token = spec.get("token", "")
        with _lock:
            user = copy.deepcopy(_config["tokens"].get(token))
        status = {"authenticated": False, "error": "token not recognized"}
        if user is not None:
            status = {"authenticated": True, "user": user}
            if spec.get("audiences"):
                status["audiences"] = spec["audiences"]
        out = {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
               "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}
        self._send_json(201, out)

    def _subject_access_review(self, review):
        spec = (review or {}).get("spec") or {}
        with _lock:
            rules = copy.deepcopy(_config["sar_rules"])
        status = {"allowed": False}
        for rule in rules:
            if _rule_matches(rule, spec):
                status = {"allowed": bool(rule.get("allowed", False))}
                if rule.get("denied"):
                    status["denied"] = True
                if rule.get("reason"):
                    status["reason"] = rule["reason"]
                break
        out = {"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}
        self._send_json(201, out)

    # -- dispatch ------------------------------------------------------------------------
    def _control(self, method, path, raw):
        global _config, _requests
        if path == "/_fake/config" and method == "POST":
            update = json.loads(raw or b"{}")
            with _lock:
                for k, v in update.items():
                    _config[k] = v
            return self._send_json(200, {"ok": True})
        if path == "/_fake/reset" and method == "POST":
            with _lock:
                _config = copy.deepcopy(DEFAULT_CONFIG)
                _requests = []
            return self._send_json(200, {"ok": True})
        if path == "/_fake/requests" and method == "GET":
            with _lock:
                out = {"requests": copy.deepcopy(_requests)}
            return self._send_json(200, out)
        if path == "/_fake/requests" and method == "DELETE":
            with _lock:
                _requests = []
            return self._send_json(200, {"ok": True})
        return self._send_json(404, _status_body(404, "NotFound", "unknown control path"))

    def _handle(self):
        raw = self._read_body()
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/_fake/"):
            return self._control(self.command, path, raw)
        self._record(raw)
        if path in ("/healthz", "/livez", "/readyz"):
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if path == "/version":
            return self._send_json(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0-fake"})
        if not self._check_caller():
            return
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self._send_json(400, _status_body(400, "BadRequest", "body is not JSON"))
        if path == "/apis/authentication.k8s.io/v1/tokenreviews" and self.command == "POST":
            if self._fault("tokenreviews"):
                return
            return self._token_review(body)
        if path == "/apis/authorization.k8s.io/v1/subjectaccessreviews" and self.command == "POST":
            if self._fault("subjectaccessreviews"):
                return
            return self._subject_access_review(body)
        parts = path.strip("/").split("/")
        if (self.command == "GET" and len(parts) == 6 and parts[:3] == ["api", "v1", "namespaces"]
                and parts[4] == "configmaps"):
            if self._fault("configmaps"):
                return
            key = parts[3] + "/" + parts[5]
            with _lock:
                data = copy.deepcopy(_config["configmaps"].get(key))
            if data is None:
                return self._send_json(404, _status_body(
                    404, "NotFound", 'configmaps "%s" not found' % parts[5]))
            return self._send_json(200, {
                "kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"name": parts[5], "namespace": parts[3], "resourceVersion": "1"},
                "data": data})
        return self._send_json(404, _status_body(404, "NotFound", "the server could not find "
                                                 "the requested resource"))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--client-ca", help="request (not require) client certs signed by this CA")
    args = ap.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.client_ca:
            ctx.load_verify_locations(args.client_ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
