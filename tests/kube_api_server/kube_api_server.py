#!/usr/bin/env python3
"""kube_api_server.py: a TEST SERVER THAT STANDS IN FOR kube-apiserver. It is not Kubernetes.

There is no kube-apiserver on the build machines, so
tests talk to this small HTTP(S) server instead. It speaks the real wire format of the endpoints
our code calls and nothing more:

  POST /apis/authentication.k8s.io/v1/tokenreviews           TokenReview (authentication.k8s.io/v1)
  POST /apis/authorization.k8s.io/v1/subjectaccessreviews    SubjectAccessReview (authorization.k8s.io/v1)
  POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews  SelfSubjectAccessReview: the sar_rules
                                                             decide for the caller (user/groups of
                                                             its bearer token in `tokens`)
  GET  /api/v1/namespaces/{ns}/configmaps/{name}             v1 ConfigMap (from the configured objects)
  GET  any other path listed in `raw`                         a configured answer (aggregated APIs
                                                             such as external.metrics.k8s.io)
  GET  /version, /healthz

and, for the informer-style client, these resources with the usual URL layout
(/api/v1/[namespaces/{ns}/]pods[/{name}], /apis/{group}/{version}/[namespaces/{ns}/]{plural}...):

  apps/v1 deployments, replicasets    v1 pods, nodes (cluster-scoped), services, endpoints
  autoscaling/v2 horizontalpodautoscalers    coordination.k8s.io/v1 leases
  apiregistration.k8s.io/v1 apiservices (cluster-scoped)

  GET    collection   list; labelSelector (=, ==, !=, exists, !key, in, notin), limit/continue
                      pagination (continue tokens expire with compaction -> 410 Expired);
                      metadata.resourceVersion of the list
  GET    ?watch=1     a watch stream with Transfer-Encoding: chunked, one JSON event per line
                      ({"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": ...}) from
                      resourceVersion (empty/"0": synthetic ADDED of the current objects first);
                      BOOKMARKs only with allowWatchBookmarks=true; a resourceVersion older than
                      the compaction point gets an ERROR event with a 410 Status; ends after
                      timeoutSeconds.
  GET    object       404 when absent
  POST   collection   create: 201, 409 AlreadyExists
  PUT    object       update: 409 Conflict when metadata.resourceVersion is set and stale
  DELETE object       200 with the last state

Objects carry metadata.resourceVersion from one counter shared by all resources, as etcd
revisions are. They come from --fixtures (a JSON file {"items": [...]} of objects with kind and
apiVersion, e.g. fixtures/cluster.json) and from the control API.

Outcomes are configured by the test at run time through a control API under /_fake/ (never part
of the Kubernetes API):

  POST   /_fake/config     JSON merged into the configuration (see DEFAULT_CONFIG below)
  POST   /_fake/reset      back to DEFAULT_CONFIG, recorded requests dropped
  GET    /_fake/requests   {"requests": [...]}: every non-control request, oldest first
  DELETE /_fake/requests   drop recorded requests
  POST   /_fake/objects    {"ops": [{"op": "add"|"modify"|"merge"|"delete", "object": {...}}],
                           "compact": bool}: apply the ops in order, each producing a watch event
                           (add of an existing object = MODIFIED; merge applies the object
                           as an RFC 7386 merge patch to the stored one); with "compact" the
                           resourceVersions up to now expire at once, so open watches end with a
                           410 ERROR event before delivering these events. Answers
                           {"resourceVersion": "<current>"}.
  POST   /_fake/compact    expire every resourceVersion before the current one: open watches get
                           an ERROR 410 event and end, older continue tokens and watch
                           resourceVersions get 410.
  POST   /_fake/bookmark   every open watch with allowWatchBookmarks=true sends a BOOKMARK at the
                           current resourceVersion.
  GET    /_fake/state      {"resourceVersion": "<current>", "watches": <open watch count>}

Configuration keys:
  tokens        {"<token>": {"username", "uid", "groups", "extra"}}: tokens that authenticate;
                any other token gets status.authenticated=false with status.error set.
  sar_rules     [{"user"?, "group"?, "verb"?, "resource"?, "subresource"?, "namespace"?,
                  "name"?, "path"?, "allowed": bool, "denied": bool, "reason"?}]: the first
                rule whose given fields all match the review decides; no match = no opinion
                (allowed=false, denied=false).
  faults        {"tokenreviews"|"subjectaccessreviews"|"configmaps"|"<plural>"|
                 "watch:<plural>": {"status": 500,
                  "count": n, "delay": seconds}}: answer that many requests (n < 0 or absent:
                all) with that HTTP status and a metav1.Status body ("<plural>": list, get,
                create, update and delete of that resource; "watch:<plural>": its watches);
                "close" instead of a status
                drops the connection; "delay" alone (no status) answers normally, that late.
  configmaps    {"<ns>/<name>": {"<key>": "<value>"}}
  raw           {"<path>" or "<path>?<query>": {"status": 200, "body": {...}}}: answers for GETs of
                paths no other route serves (exact query first, then the path alone).
  bearer_token  if set, every Kubernetes request must carry "Authorization: Bearer <it>" (401
                otherwise), like the adapter's ServiceAccount token.

Usage: kube_api_server.py --port-file F [--port 0] [--tls-cert C --tls-key K [--client-ca CA]]
                          [--fixtures FILE]
The chosen port is written to --port-file (atomically) once the server listens.
"""

import argparse
import base64
import bisect
import copy
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_CONFIG = {
    "tokens": {},
    "sar_rules": [],
    "faults": {},
    "configmaps": {},
    "bearer_token": "",
    "raw": {},
}

_lock = threading.Lock()
_cond = threading.Condition(_lock)  # notified on every object change, compaction, bookmark
_config = copy.deepcopy(DEFAULT_CONFIG)
_requests = []

# plural -> (URL prefix, kind, apiVersion, namespaced)
RESOURCES = {
    "deployments": ("apis/apps/v1", "Deployment", "apps/v1", True),
    "replicasets": ("apis/apps/v1", "ReplicaSet", "apps/v1", True),
    "pods": ("api/v1", "Pod", "v1", True),
    "nodes": ("api/v1", "Node", "v1", False),
    "horizontalpodautoscalers": ("apis/autoscaling/v2", "HorizontalPodAutoscaler",
                                 "autoscaling/v2", True),
    "leases": ("apis/coordination.k8s.io/v1", "Lease", "coordination.k8s.io/v1", True),
    "services": ("api/v1", "Service", "v1", True),
    "endpoints": ("api/v1", "Endpoints", "v1", True),
    "apiservices": ("apis/apiregistration.k8s.io/v1", "APIService", "apiregistration.k8s.io/v1",
                    False),
}
KIND_TO_PLURAL = {v[1]: k for k, v in RESOURCES.items()}
GROUP_SUFFIX = {"deployments": "apps", "replicasets": "apps", "pods": "", "nodes": "",
                "horizontalpodautoscalers": "autoscaling", "leases": "coordination.k8s.io",
                "services": "", "endpoints": "", "apiservices": "apiregistration.k8s.io"}

# Object state, all guarded by _lock.
_fixtures = []                      # items loaded by --fixtures, restored by /_fake/reset
_store = {p: {} for p in RESOURCES}  # plural -> {"ns/name" or "name": object}
_rv = 1                             # current resourceVersion (shared by all resources)
_events = []                        # [(rv, plural, type, object)], rv ascending
_compacted = 0                      # resourceVersions below this are expired
_compact_gen = 0                    # bumped by compaction: open watches end with 410
_bookmark_gen = 0                   # bumped by /_fake/bookmark
_open_watches = 0

_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
            409: "Conflict", 410: "Expired", 429: "TooManyRequests", 500: "InternalError",
            503: "ServiceUnavailable"}


def _status_body(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def _apply_json_patch(obj, ops):
    """RFC 6902 test/replace/add on object paths (list indexes allowed); ValueError on failure."""
    if not isinstance(ops, list):
        raise ValueError("json patch body must be a list of operations")
    for op in ops:
        path = [p.replace("~1", "/").replace("~0", "~") for p in op.get("path", "").split("/")[1:]]
        if not path:
            raise ValueError("json patch: empty path")
        parent = obj
        for part in path[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.get(part)
            if parent is None:
                raise ValueError("json patch: path %s does not exist" % op.get("path"))
        last = path[-1]
        if isinstance(parent, list):
            last = int(last)
            present = 0 <= last < len(parent)
        else:
            present = last in parent
        kind = op.get("op")
        if kind == "test":
            if not present or parent[last] != op.get("value"):
                raise ValueError("the server rejected our request due to an error in our request: "
                                 "testing value %s failed" % op.get("path"))
        elif kind in ("replace", "add"):
            if kind == "replace" and not present:
                raise ValueError("json patch: replace of missing path %s" % op.get("path"))
            parent[last] = op.get("value")
        else:
            raise ValueError("json patch: unsupported op %r" % kind)
    return obj


def _merge_patch(target, patch):
    """RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = _merge_patch(target.get(k), v)
    return target


def _now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _key(plural, ns, name):
    return "%s/%s" % (ns, name) if RESOURCES[plural][3] else name


def _obj_key(plural, obj):
    md = obj.get("metadata") or {}
    return _key(plural, md.get("namespace", ""), md.get("name", ""))


def _put_locked(plural, obj, event_type):
    """Stores `obj` (or removes it for DELETED) at a new resourceVersion and logs the event."""
    global _rv
    _rv += 1
    obj = copy.deepcopy(obj)
    _, kind, api_version, namespaced = RESOURCES[plural]
    obj["kind"] = kind
    obj["apiVersion"] = api_version
    md = obj.setdefault("metadata", {})
    if namespaced:
        md.setdefault("namespace", "default")
    else:
        md.pop("namespace", None)
    md.setdefault("uid", str(uuid.uuid4()))
    md.setdefault("creationTimestamp", _now_rfc3339())
    md["resourceVersion"] = str(_rv)
    key = _obj_key(plural, obj)
    if event_type == "DELETED":
        _store[plural].pop(key, None)
    else:
        _store[plural][key] = obj
    _events.append((_rv, plural, event_type, copy.deepcopy(obj)))
    _cond.notify_all()
    return obj


def _compact_locked():
    global _compacted, _compact_gen
    _compacted = _rv
    _compact_gen += 1
    del _events[:]
    _cond.notify_all()


def _load_objects_locked(items):
    for item in items:
        plural = KIND_TO_PLURAL.get(item.get("kind", ""))
        if plural is None:
            continue
        _put_locked(plural, item, "ADDED")


def _split_selector(text):
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def _parse_selector(text):
    """Label selector string -> list of predicates over a labels dict; ValueError if bad."""
    preds = []
    for term in _split_selector(text or ""):
        low = " " + term + " "
        if " notin " in low or " in " in low:
            neg = " notin " in low
            key, _, rest = term.partition(" notin " if neg else " in ")
            rest = rest.strip()
            if not (rest.startswith("(") and rest.endswith(")")):
                raise ValueError("bad set term " + term)
            values = {v.strip() for v in rest[1:-1].split(",") if v.strip()}
            key = key.strip()
            if neg:
                preds.append(lambda l, k=key, vs=values: l.get(k) not in vs)
            else:
                preds.append(lambda l, k=key, vs=values: k in l and l[k] in vs)
        elif "!=" in term:
            key, _, val = term.partition("!=")
            preds.append(lambda l, k=key.strip(), v=val.strip(): l.get(k) != v)
        elif "=" in term:
            key, _, val = term.partition("==" if "==" in term else "=")
            preds.append(lambda l, k=key.strip(), v=val.strip(): l.get(k) == v)
        elif term.startswith("!"):
            preds.append(lambda l, k=term[1:].strip(): k not in l)
        else:
            preds.append(lambda l, k=term: k in l)
    return preds


def _matches(obj, ns, preds):
    md = obj.get("metadata") or {}
    if ns and md.get("namespace", "") != ns:
        return False
    labels = md.get("labels") or {}
    return all(p(labels) for p in preds)


def _list_item(obj):
    item = copy.deepcopy(obj)
    item.pop("kind", None)  # kube-apiserver omits kind/apiVersion on items of typed lists
    item.pop("apiVersion", None)
    return item


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
        self._send_json(int(status), _status_body(int(status),
                                                  _REASONS.get(int(status), "InternalError"),
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

    def _self_subject_access_review(self, review):
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        with _lock:
            user = copy.deepcopy(_config["tokens"].get(token)) or {}
        spec = dict((review or {}).get("spec") or {}, user=user.get("username", ""),
                    groups=user.get("groups", []))
        with _lock:
            rules = copy.deepcopy(_config["sar_rules"])
        status = {"allowed": False}
        for rule in rules:
            if _rule_matches(rule, spec):
                status = {"allowed": bool(rule.get("allowed", False))}
                if rule.get("reason"):
                    status["reason"] = rule["reason"]
                break
        out = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "metadata": {"creationTimestamp": None}, "spec": (review or {}).get("spec") or {},
               "status": status}
        self._send_json(201, out)

    def _raw(self, path):
        query = urllib.parse.urlsplit(self.path).query
        with _lock:
            raw = _config.get("raw") or {}
            answer = copy.deepcopy(raw.get(path + "?" + query) if query else None)
            if answer is None:
                answer = copy.deepcopy(raw.get(path))
        if answer is None:
            return False
        self._send_json(int(answer.get("status", 200)), answer.get("body", {}))
        return True

    # -- dispatch ------------------------------------------------------------------------
    def _control(self, method, path, raw):
        global _config, _requests, _bookmark_gen
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
                for p in _store:
                    _store[p] = {}
                _load_objects_locked(_fixtures)
                _compact_locked()
            return self._send_json(200, {"ok": True})
        if path == "/_fake/requests" and method == "GET":
            with _lock:
                out = {"requests": copy.deepcopy(_requests)}
            return self._send_json(200, out)
        if path == "/_fake/requests" and method == "DELETE":
            with _lock:
                _requests = []
            return self._send_json(200, {"ok": True})
        if path == "/_fake/objects" and method == "POST":
            update = json.loads(raw or b"{}")
            with _lock:
                for op in update.get("ops", []):
                    obj = op.get("object") or {}
                    plural = KIND_TO_PLURAL.get(obj.get("kind", ""))
                    if plural is None:
                        return self._send_json(400, _status_body(400, "BadRequest",
                                                                 "unknown kind in " + json.dumps(obj)))
                    key = _obj_key(plural, dict(obj, metadata=dict(
                        obj.get("metadata") or {},
                        namespace=(obj.get("metadata") or {}).get("namespace", "default"))))
                    if op.get("op") == "delete":
                        old = _store[plural].get(key)
                        if old is not None:
                            _put_locked(plural, old, "DELETED")
                    elif op.get("op") == "merge" and key in _store[plural]:
                        merged = _merge_patch(copy.deepcopy(_store[plural][key]), obj)
                        merged["metadata"].pop("resourceVersion", None)
                        _put_locked(plural, merged, "MODIFIED")
                    else:
                        _put_locked(plural, obj, "MODIFIED" if key in _store[plural] else "ADDED")
                if update.get("compact"):
                    _compact_locked()
                rv = str(_rv)
            return self._send_json(200, {"resourceVersion": rv})
        if path == "/_fake/compact" and method == "POST":
            with _lock:
                _compact_locked()
                rv = str(_rv)
            return self._send_json(200, {"resourceVersion": rv})
        if path == "/_fake/bookmark" and method == "POST":
            with _lock:
                _bookmark_gen += 1
                _cond.notify_all()
                rv = str(_rv)
            return self._send_json(200, {"resourceVersion": rv})
        if path == "/_fake/state" and method == "GET":
            with _lock:
                out = {"resourceVersion": str(_rv), "watches": _open_watches}
            return self._send_json(200, out)
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
        if (path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
                and self.command == "POST"):
            if self._fault("selfsubjectaccessreviews"):
                return
            return self._self_subject_access_review(body)
        parts = path.strip("/").split("/")
        route = self._route(parts)
        if route is not None:
            return self._resource(route, body)
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
        if self.command == "GET" and self._raw(path):
            return
        return self._send_json(404, _status_body(404, "NotFound", "the server could not find "
                                                 "the requested resource"))

    # -- resources (list, watch, get, create, update, delete) -----------------------------
    def _route(self, parts):
        """(plural, namespace, name) for a resource URL, or None."""
        if parts[:2] == ["api", "v1"]:
            prefix, rest = "api/v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            prefix, rest = "/".join(parts[:3]), parts[3:]
        else:
            return None
        ns = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            ns, rest = rest[1], rest[2:]
        if not rest or len(rest) > 2:
            return None
        plural = rest[0]
        info = RESOURCES.get(plural)
        if info is None or info[0] != prefix or (ns and not info[3]):
            return None
        return plural, ns, rest[1] if len(rest) == 2 else ""

    def _resource(self, route, body):
        plural, ns, name = route
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        q = lambda k, d="": (query.get(k) or [d])[0]
        method = self.command
        if method == "GET" and not name and q("watch") in ("1", "true"):
            if self._fault("watch:" + plural):
                return
            return self._watch(plural, ns, q("labelSelector"), q("resourceVersion"),
                               int(q("timeoutSeconds", "1800") or 1800),
                               q("allowWatchBookmarks") == "true")
        if self._fault(plural):
            return
        group = GROUP_SUFFIX[plural]
        resource_name = plural + ("." + group if group else "")
        if method == "GET" and not name:
            return self._list(plural, ns, q("labelSelector"), int(q("limit", "0") or 0),
                              q("continue"))
        if method == "GET":
            with _lock:
                obj = copy.deepcopy(_store[plural].get(_key(plural, ns, name)))
            if obj is None:
                return self._send_json(404, _status_body(
                    404, "NotFound", '%s "%s" not found' % (resource_name, name)))
            return self._send_json(200, obj)
        if method == "POST" and not name:
            md = (body or {}).get("metadata") or {}
            if not md.get("name"):
                return self._send_json(422, _status_body(422, "Invalid", "metadata.name: Required"))
            md = dict(md, namespace=ns or md.get("namespace", "default"))
            md.pop("resourceVersion", None)
            with _lock:
                if _key(plural, md["namespace"], md["name"]) in _store[plural]:
                    return self._send_json(409, _status_body(
                        409, "AlreadyExists", '%s "%s" already exists' % (resource_name, md["name"])))
                obj = _put_locked(plural, dict(body, metadata=md), "ADDED")
            return self._send_json(201, obj)
        if method == "PUT" and name:
            md = dict((body or {}).get("metadata") or {}, name=name)
            if RESOURCES[plural][3]:
                md["namespace"] = ns
            with _lock:
                old = _store[plural].get(_key(plural, ns, name))
                if old is None:
                    return self._send_json(404, _status_body(
                        404, "NotFound", '%s "%s" not found' % (resource_name, name)))
                want = md.get("resourceVersion")
                if want and want != old["metadata"]["resourceVersion"]:
                    return self._send_json(409, _status_body(
                        409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object '
                        'has been modified; please apply your changes to the latest version '
                        'and try again' % (resource_name, name)))
                md["uid"] = old["metadata"].get("uid")
                md["creationTimestamp"] = old["metadata"].get("creationTimestamp")
                obj = _put_locked(plural, dict(body, metadata=md), "MODIFIED")
            return self._send_json(200, obj)
        if method == "PATCH" and name:
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if ctype != "application/json-patch+json":
                return self._send_json(415, _status_body(
                    415, "UnsupportedMediaType", "the body of the request was in an unknown "
                    "format - accepted media types include: application/json-patch+json"))
            with _lock:
                old = _store[plural].get(_key(plural, ns, name))
                if old is None:
                    return self._send_json(404, _status_body(
                        404, "NotFound", '%s "%s" not found' % (resource_name, name)))
                try:
                    patched = _apply_json_patch(copy.deepcopy(old), body)
                except ValueError as e:
                    return self._send_json(422, _status_body(422, "Invalid", str(e)))
                obj = _put_locked(plural, patched, "MODIFIED")
            return self._send_json(200, obj)
        if method == "DELETE" and name:
            with _lock:
                old = _store[plural].get(_key(plural, ns, name))
                if old is None:
                    return self._send_json(404, _status_body(
                        404, "NotFound", '%s "%s" not found' % (resource_name, name)))
                obj = _put_locked(plural, old, "DELETED")
            return self._send_json(200, obj)
        return self._send_json(405, _status_body(405, "MethodNotAllowed", "method not allowed"))

    def _list(self, plural, ns, selector, limit, token):
        try:
            preds = _parse_selector(selector)
        except ValueError as e:
            return self._send_json(400, _status_body(400, "BadRequest", str(e)))
        start = ""
        with _lock:
            list_rv = _rv
            if token:
                try:
                    t = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
                    list_rv, start = int(t["rv"]), t["start"]
                except (ValueError, KeyError, TypeError):
                    return self._send_json(400, _status_body(400, "BadRequest",
                                                             "invalid continue token"))
                if list_rv < _compacted:
                    return self._send_json(410, _status_body(
                        410, "Expired", "The provided continue parameter is too old to display "
                        "a consistent list result. You can start a new list without the "
                        "continue parameter."))
            keys = sorted(k for k in _store[plural] if k > start)
            items = [_store[plural][k] for k in keys if _matches(_store[plural][k], ns, preds)]
            metadata = {"resourceVersion": str(list_rv)}
            if limit > 0 and len(items) > limit:
                remaining = len(items) - limit
                items = items[:limit]
                last = _obj_key(plural, items[-1])
                metadata["continue"] = base64.urlsafe_b64encode(
                    json.dumps({"rv": list_rv, "start": last}).encode()).decode()
                metadata["remainingItemCount"] = remaining
            out = {"kind": RESOURCES[plural][1] + "List", "apiVersion": RESOURCES[plural][2],
                   "metadata": metadata, "items": [_list_item(o) for o in items]}
        return self._send_json(200, out)

    def _write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _watch(self, plural, ns, selector, rv, timeout, bookmarks):
        global _open_watches
        try:
            preds = _parse_selector(selector)
        except ValueError as e:
            return self._send_json(400, _status_body(400, "BadRequest", str(e)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        _, kind, api_version, _ = RESOURCES[plural]

        def line(ev_type, obj):
            return json.dumps({"type": ev_type, "object": obj}).encode() + b"\n"

        gone = line("ERROR", _status_body(410, "Expired", "too old resource version: %s" % rv))
        out = []
        with _lock:
            _open_watches += 1
            gen, bm = _compact_gen, _bookmark_gen
            if rv in ("", "0"):
                start = _rv
                for k in sorted(_store[plural]):
                    if _matches(_store[plural][k], ns, preds):
                        out.append(line("ADDED", _store[plural][k]))
            else:
                try:
                    start = int(rv)
                except ValueError:
                    start = -1
                if start < _compacted:
                    out.append(gone)
                    start = None
            pos = bisect.bisect_right([e[0] for e in _events], start) if start is not None else 0
        deadline = time.time() + timeout
        try:
            for chunk in out:
                self._write_chunk(chunk)
            while start is not None:
                out = []
                done = False
                with _lock:
                    while (pos >= len(_events) and gen == _compact_gen and bm == _bookmark_gen
                           and time.time() < deadline):
                        _cond.wait(min(1.0, max(0.0, deadline - time.time())))
                    if gen != _compact_gen:
                        out.append(gone)
                        done = True
                    else:
                        for ev_rv, ev_plural, ev_type, obj in _events[pos:]:
                            if ev_plural == plural and _matches(obj, ns, preds):
                                out.append(line(ev_type, obj))
                        pos = len(_events)
                        if bm != _bookmark_gen:
                            bm = _bookmark_gen
                            if bookmarks:
                                out.append(line("BOOKMARK", {
                                    "kind": kind, "apiVersion": api_version,
                                    "metadata": {"resourceVersion": str(_rv)}}))
                        if time.time() >= deadline:
                            done = True
                for chunk in out:
                    self._write_chunk(chunk)
                if done:
                    break
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
        finally:
            with _lock:
                _open_watches -= 1

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--client-ca", help="request (not require) client certs signed by this CA")
    ap.add_argument("--fixtures", help='JSON file {"items": [objects]} served from the start')
    args = ap.parse_args()
    if args.fixtures:
        with open(args.fixtures) as f:
            _fixtures.extend(json.load(f).get("items", []))
        with _lock:
            _load_objects_locked(_fixtures)

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
