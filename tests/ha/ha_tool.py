#!/usr/bin/env python3
"""ha_tool.py: the HA test's helpers (tests/ha/ha_test.sh). Each subcommand does one thing:

  receiver PORT_FILE LOG      a real local HTTP webhook receiver: every POST's JSON body is
                              appended to LOG as one line (plus "path"); answers 200
  started LOG TYPE NS/DEP     prints how many anomaly.started notifications of TYPE for NS/DEP
                              LOG holds
  poll OUT URL...             polls each adapter URL in turn through curl with the e2e client
                              certificate (CURL_CA, CURL_CERT, CURL_KEY) until the file STOP
                              (env POLL_STOP) exists; one JSON line per request to OUT:
                              {"url", "sent", "code", "value", "timestamp"}
  hpa REPLICAS KUBE_PORT CLUSTER_JSON NS DEPLOYMENT
                              sets status.currentReplicas of the deployment's HPA in the test API
                              server (an RFC 7386 merge, as the HPA controller's status update)
  analyse POLL_LOG URL KILL_EPOCH INTERVAL   the survivor's record after KILL_EPOCH: prints
                              requests, failures, max age (s) of the served value, distinct
                              timestamps; exits 1 on a failure or an age over 2 x INTERVAL
  diff POLL_LOG URL_A URL_B   relative difference of the values both adapters served in the
                              same polling round: prints n, median, p90 and max (as %)

Example: python3 ha_tool.py poll "$W/poll.jsonl" "https://127.0.0.1:$PORT/apis/..."
"""
import datetime
import http.server
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request


def receiver(port_file, log):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                rec = json.loads(body)
            except ValueError:
                rec = {"unparsed": body.decode("utf-8", "replace")}
            rec["path"] = self.path
            with open(log, "a") as f:
                f.write(json.dumps(rec) + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


def parse_quantity(q):
    mult = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9}
    return float(q[:-1]) * mult[q[-1]] if q[-1] in mult else float(q)


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def poll(out, urls):
    stop = os.environ["POLL_STOP"]
    auth = ["--cacert", os.environ["CURL_CA"], "--cert", os.environ["CURL_CERT"],
            "--key", os.environ["CURL_KEY"]]
    with open(out, "a") as f:
        while not os.path.exists(stop):
            round_start = time.time()
            for url in urls:
                sent = time.time()
                rec = {"url": url, "sent": sent, "round": round_start, "code": 0}
                try:
                    p = subprocess.run(["curl", "-s", "-m", "10", "-w", "\n%{http_code}"] + auth + [url],
                                       capture_output=True, text=True, timeout=20)
                    body, _, code = p.stdout.rpartition("\n")
                    rec["code"] = int(code or 0)
                    if rec["code"] == 200:
                        item = json.loads(body)["items"][0]
                        rec["value"] = parse_quantity(item["value"])
                        rec["timestamp"] = parse_time(item["timestamp"])
                    else:
                        rec["body"] = body[:300]
                except (subprocess.TimeoutExpired, ValueError, KeyError, IndexError) as e:
                    rec["error"] = repr(e)
                f.write(json.dumps(rec) + "\n")
                f.flush()
            time.sleep(max(0.0, 0.5 - (time.time() - round_start)))


def hpa(replicas, kube_port, cluster_json, ns, deployment):
    with open(cluster_json) as f:
        items = json.load(f)["items"]
    h = next(i for i in items if i["kind"] == "HorizontalPodAutoscaler"
             and i["metadata"]["namespace"] == ns
             and i["spec"]["scaleTargetRef"]["name"] == deployment)
    patch = {"apiVersion": h["apiVersion"], "kind": h["kind"],
             "metadata": {"name": h["metadata"]["name"], "namespace": ns},
             "status": {"currentReplicas": int(replicas), "desiredReplicas": int(replicas)}}
    req = urllib.request.Request(
        "http://127.0.0.1:%s/_fake/objects" % kube_port, method="POST",
        data=json.dumps({"ops": [{"op": "merge", "object": patch}]}).encode(),
        headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def started(log, anomaly_type, ns_dep):
    ns, dep = ns_dep.split("/")
    with open(log) as f:
        print(sum(1 for r in map(json.loads, f)
                  if r.get("event") == "anomaly.started" and r.get("type") == anomaly_type
                  and r.get("namespace") == ns and r.get("deployment") == dep))


def records(log, url):
    with open(log) as f:
        return [r for r in map(json.loads, f) if r["url"] == url]


def analyse(log, url, kill_epoch, interval):
    rs = [r for r in records(log, url) if r["sent"] >= float(kill_epoch)]
    failures = [r for r in rs if r["code"] != 200 or "value" not in r]
    ages = [r["sent"] - r["timestamp"] for r in rs if "timestamp" in r]
    stamps = sorted({r["timestamp"] for r in rs if "timestamp" in r})
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    span = rs[-1]["sent"] - rs[0]["sent"] if rs else 0
    print("requests=%d failures=%d span_s=%.0f max_age_s=%.1f distinct_timestamps=%d max_gap_s=%.1f"
          % (len(rs), len(failures), span, max(ages or [0]), len(stamps), max(gaps or [0])))
    for r in failures[:5]:
        print("failure:", json.dumps(r))
    limit = 2 * float(interval)
    ok = rs and not failures and max(ages) <= limit and max(gaps or [0]) <= limit
    sys.exit(0 if ok else 1)


def diff(log, url_a, url_b):
    a = {r["round"]: r for r in records(log, url_a) if "value" in r}
    b = {r["round"]: r for r in records(log, url_b) if "value" in r}
    rel = []
    for k in sorted(set(a) & set(b)):
        va, vb = a[k]["value"], b[k]["value"]
        rel.append(0.0 if va == vb else 100 * abs(va - vb) / max(abs(va), abs(vb)))
    if not rel:
        print("n=0")
        sys.exit(1)
    rel.sort()
    print("n=%d median_pct=%.3f p90_pct=%.3f max_pct=%.3f"
          % (len(rel), statistics.median(rel), rel[int(0.9 * (len(rel) - 1))], rel[-1]))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"receiver": receiver, "poll": lambda out, *urls: poll(out, urls), "hpa": hpa,
     "started": started, "analyse": analyse, "diff": diff}[cmd](*args)
