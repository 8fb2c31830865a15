#!/usr/bin/env python3
"""workload.py: the data side of the anomaly end-to-end test (anomaly_e2e_test.sh).

One deployment, store/web (2 pods of 1000m request on one 8-core node), whose CPU demand is
steady: BASE_CORES with a deterministic +-4 % wobble per minute, so the week of history has no
anomaly of its own. It writes into --out:

  backfill.om     the week before now (a sample every 60 s, every 5 s in the last 15 minutes)
                  for promtool tsdb create-blocks-from openmetrics: cAdvisor-style
                  container_cpu_usage_seconds_total and container_memory_working_set_bytes
                  per pod, node_cpu_seconds_total
  cluster.json    a v1 List (Deployment, ReplicaSet, Pods, Node, autoscaling/v2 HPA) for the
                  test API server (tests/kube_api_server)
  prometheus.yml  Prometheus scraping the live /metrics below every 5 s (honor_labels)

then serves the same series live on 127.0.0.1 (port written to --port-file) until SIGTERM. The
counters are exact integrals of the demand, so the live samples continue the backfilled ones.

The spike: while the file --spike-file exists, its content (a number of cores) is added to the
deployment's demand. A thread polls it every 0.1 s and records when it appeared and went, and
the counters integrate the extra cores over exactly that time (they never go backwards).
"""
import argparse
import http.server
import json
import os
import signal
import sys
import threading
import time

BASE_CORES = 0.8
WOBBLE = 0.04
NAMESPACE, NAME = "store", "web"
RS = NAME + "-6d4cf7b9c5"
PODS = [RS + "-k2x9p", RS + "-m7w4q"]
WEIGHTS = [0.5, 0.5]
NODE, NODE_CORES, SYSTEM_CORES = "node-a", 8.0, 0.25
MEMORY_BYTES = 300 * 2**20


def demand(minute):
    """Cores during the minute (integer minutes since the epoch): steady with a wobble."""
    u = ((minute * 2654435761) % 1000003) / 1000003.0  # deterministic, in [0, 1)
    return BASE_CORES * (1 + WOBBLE * (2 * u - 1))


class Workload:
    def __init__(self, anchor, spike_file):
        self.anchor = anchor  # seconds since the epoch, a whole minute
        self.spike_file = spike_file
        self.lock = threading.Lock()
        self.spikes = []  # [start, end or None, cores]
        self.prefix = [0.0]  # prefix[k]: core-seconds from the anchor to anchor + k minutes
        self.first_minute = anchor // 60

    def _prefix(self, k):
        while len(self.prefix) <= k:
            m = self.first_minute + len(self.prefix) - 1
            self.prefix.append(self.prefix[-1] + demand(m) * 60)
        return self.prefix[k]

    def base_integral(self, t):
        s = t - self.anchor
        k = int(s // 60)
        return self._prefix(k) + demand(self.first_minute + k) * (s - 60 * k)

    def spike_integral(self, t):
        with self.lock:
            total = 0.0
            for start, end, cores in self.spikes:
                stop = t if end is None else min(t, end)
                if stop > start:
                    total += cores * (stop - start)
            return total

    def pod_cpu_seconds(self, p, t):
        return WEIGHTS[p] * (self.base_integral(t) + self.spike_integral(t))

    def node_lines(self, t, stamp):
        busy = SYSTEM_CORES * (t - self.anchor) + sum(
            self.pod_cpu_seconds(p, t) for p in range(len(PODS)))
        idle = max(0.0, NODE_CORES * (t - self.anchor) - busy)
        labels = '{cpu="total",mode="%s",job="node-exporter",instance="%s:9100"}'
        return ["node_cpu_seconds_total%s %.6f%s" % (labels % ("user", NODE), busy, stamp),
                "node_cpu_seconds_total%s %.6f%s" % (labels % ("idle", NODE), idle, stamp)]

    def lines(self, t, with_time):
        stamp = " %d" % t if with_time else ""
        cpu, mem = [], []
        for p, pod in enumerate(PODS):
            labels = ('{namespace="%s",pod="%s",container="app",node="%s",job="kubelet",'
                      'instance="%s"}' % (NAMESPACE, pod, NODE, NODE))
            cpu.append("container_cpu_usage_seconds_total%s %.6f%s" %
                       (labels, self.pod_cpu_seconds(p, t), stamp))
            mem.append("container_memory_working_set_bytes%s %d%s" % (labels, MEMORY_BYTES, stamp))
        return cpu, mem, self.node_lines(t, stamp)

    def poll_spike(self, stop):
        while not stop.is_set():
            now = time.time()
            try:
                with open(self.spike_file) as f:
                    cores = float(f.read().strip() or "0")
            except FileNotFoundError:
                cores = None
            with self.lock:
                open_spike = self.spikes and self.spikes[-1][1] is None
                if cores is not None and not open_spike:
                    self.spikes.append([now, None, cores])
                elif cores is None and open_spike:
                    self.spikes[-1][1] = now
            stop.wait(0.1)


def write_backfill(w, path, end):
    cpu, mem, node = [], [], []
    # Every 60 s, then every 5 s (the scrape interval) for the last 15 minutes: a rate()
    # window whose start falls where the spacing changes extrapolates short (Prometheus
    # extrapolates to the window's edges by at most 1.1 average intervals), and the 5- and
    # 10-minute windows of the reconciler's first minutes start in this last quarter-hour.
    dense = end - 15 * 60
    for t in list(range(w.anchor, dense, 60)) + list(range(dense, end + 1, 5)):
        c, m, n = w.lines(t, True)
        cpu.extend(c)
        mem.extend(m)
        node.extend(n)
    # OpenMetrics wants each metric family's samples together, series by series in time order.
    by_series = lambda lines: sorted(lines, key=lambda l: (l.rsplit(" ", 2)[0], int(l.rsplit(" ", 1)[1])))
    with open(path, "w") as f:
        f.write("# TYPE container_cpu_usage_seconds counter\n")
        f.write("\n".join(by_series(cpu)) + "\n")
        f.write("# TYPE container_memory_working_set_bytes gauge\n")
        f.write("\n".join(by_series(mem)) + "\n")
        f.write("# TYPE node_cpu_seconds counter\n")
        f.write("\n".join(by_series(node)) + "\n")
        f.write("# EOF\n")


def cluster_json(anchor):
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(anchor - 86400))
    container = {"name": "app", "image": "registry.example/web:1.0",
                 "resources": {"requests": {"cpu": "1000m", "memory": str(512 * 2**20)},
                               "limits": {"memory": str(1024 * 2**20)}}}
    items = [
        {"apiVersion": "v1", "kind": "Node",
         "metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE},
                      "creationTimestamp": started},
         "spec": {},
         "status": {"capacity": {"cpu": "8000m", "memory": "32Gi", "pods": "110"},
                    "allocatable": {"cpu": "8000m", "memory": "31Gi", "pods": "110"},
                    "conditions": [{"type": "Ready", "status": "True"}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": NAME, "namespace": NAMESPACE, "uid": "dep-web",
                      "labels": {"app": NAME}, "creationTimestamp": started},
         "spec": {"replicas": len(PODS), "selector": {"matchLabels": {"app": NAME}},
                  "template": {"metadata": {"labels": {"app": NAME}},
                               "spec": {"containers": [container]}}},
         "status": {"replicas": len(PODS), "readyReplicas": len(PODS),
                    "availableReplicas": len(PODS)}},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet",
         "metadata": {"name": RS, "namespace": NAMESPACE, "labels": {"app": NAME},
                      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                           "name": NAME, "uid": "dep-web", "controller": True}]},
         "spec": {"replicas": len(PODS), "selector": {"matchLabels": {"app": NAME}}},
         "status": {"replicas": len(PODS), "readyReplicas": len(PODS)}},
        {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
         "metadata": {"name": NAME, "namespace": NAMESPACE},
         "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME},
                  "minReplicas": 2, "maxReplicas": 8,
                  "metrics": [{"type": "External", "external": {
                      "metric": {"name": "smart_cpu_pressure",
                                 "selector": {"matchLabels": {"deployment": NAME}}},
                      "target": {"type": "Value", "value": "1"}}}]},
         "status": {"currentReplicas": len(PODS), "desiredReplicas": len(PODS)}},
    ]
    for pod in PODS:
        items.append(
            {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": pod, "namespace": NAMESPACE, "labels": {"app": NAME},
                          "creationTimestamp": started,
                          "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                               "name": RS, "uid": "rs-web", "controller": True}]},
             "spec": {"nodeName": NODE, "containers": [container]},
             "status": {"phase": "Running", "startTime": started,
                        "conditions": [{"type": "Ready", "status": "True"}]}})
    return json.dumps({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": items})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--spike-file", required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    now = int(time.time())
    anchor = (now - 7 * 86400 - 3600) // 60 * 60  # a week and an hour, whole minutes
    w = Workload(anchor, args.spike_file)
    write_backfill(w, os.path.join(args.out, "backfill.om"), (now - 30) // 60 * 60)
    with open(os.path.join(args.out, "cluster.json"), "w") as f:
        f.write(cluster_json(anchor))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/metrics":
                self.send_error(404)
                return
            cpu, mem, node = w.lines(time.time(), False)
            body = "\n".join(["# TYPE container_cpu_usage_seconds_total counter"] + cpu +
                             ["# TYPE container_memory_working_set_bytes gauge"] + mem +
                             ["# TYPE node_cpu_seconds_total counter"] + node) + "\n"
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    with open(os.path.join(args.out, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\nscrape_configs:\n"
                "- job_name: anomalies\n  honor_labels: true\n  static_configs:\n"
                "  - targets: ['127.0.0.1:%d']\n" % port)
    stop = threading.Event()
    threading.Thread(target=w.poll_spike, args=(stop,), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(args.port_file + ".tmp", args.port_file)
    print("workload: store/web at %.2f cores, history from %d, live on 127.0.0.1:%d" %
          (BASE_CORES, anchor, port), flush=True)
    server.serve_forever()
    stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
