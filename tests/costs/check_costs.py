#!/usr/bin/env python3
"""Recomputes a cost route answer independently and compares it field by field.

  check_costs.py CLUSTER_JSON NAMESPACE DEPLOYMENT USD_PER_VCPU_H USD_PER_GB_H < cost.json

The pods come from the cluster file (a v1 List: Pods owned by the Deployment's ReplicaSets,
their requests summed over containers, their creation times); the usage is the sample list
the route priced (?detail=usage), whose span lengths are re-derived from the sample times
(each sample holds until the next, at most 10 minutes). Exit 1 naming every field that differs.
"""
import datetime
import json
import sys

MAX_HOLD = 600.0  # seconds a sample stands for at most
GB = 1e9


def parse_time(s):
    s = s.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(s).timestamp()


def cpu_cores(q):
    return float(q[:-1]) / 1000 if q.endswith("m") else float(q)


def memory_bytes(q):
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
    for u in sorted(units, key=len, reverse=True):
        if q.endswith(u):
            return float(q[: -len(u)]) * units[u]
    return float(q)


def cluster_pods(cluster, ns, deployment):
    rs = {
        i["metadata"]["name"]
        for i in cluster["items"]
        if i["kind"] == "ReplicaSet"
        and i["metadata"]["namespace"] == ns
        and any(o["kind"] == "Deployment" and o["name"] == deployment
                for o in i["metadata"].get("ownerReferences", []))
    }
    pods = {}
    for i in cluster["items"]:
        m = i["metadata"]
        if i["kind"] != "Pod" or m["namespace"] != ns or not i["spec"].get("nodeName"):
            continue
        if i.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            continue
        if not any(o["kind"] == "ReplicaSet" and o["name"] in rs for o in m.get("ownerReferences", [])):
            continue
        req = [c.get("resources", {}).get("requests", {}) for c in i["spec"]["containers"]]
        pods[m["name"]] = {
            "start": parse_time(m.get("creationTimestamp") or i["status"]["startTime"]),
            "cpu": sum(cpu_cores(r["cpu"]) for r in req if "cpu" in r),
            "mem": sum(memory_bytes(r["memory"]) for r in req if "memory" in r),
        }
    return pods


def overlap(a0, a1, b0, b1):
    return max(0.0, min(a1, b1) - max(a0, b0))


def main():
    cluster = json.load(open(sys.argv[1]))
    ns, dep = sys.argv[2], sys.argv[3]
    p_cpu, p_gb = float(sys.argv[4]), float(sys.argv[5])
    route = json.load(sys.stdin)
    t0, t1 = parse_time(route["from"]), parse_time(route["to"])
    problems = []

    pods = cluster_pods(cluster, ns, dep)
    served = {p["pod"]: p for p in route["pods"]}
    if set(pods) != set(served):
        problems.append(f"pods: cluster file {sorted(pods)} vs route {sorted(served)}")
    for name, p in pods.items():
        s = served.get(name)
        if s and (s["cpu_request_millicores"] != round(p["cpu"] * 1000)
                  or s["memory_request_bytes"] != round(p["mem"])
                  or abs(parse_time(s["start"]) - p["start"]) > 1e-6):
            problems.append(f"pod {name}: route {s} vs cluster file {p}")

    # Usage spans from the sample times alone.
    samples = [(parse_time(u["start"]), u["cpu_cores"], u["memory_bytes"]) for u in route["usage"]]
    spans = []
    for k, (t, cpu, mem) in enumerate(samples):
        length = MAX_HOLD if k + 1 == len(samples) else min(MAX_HOLD, samples[k + 1][0] - t)
        if abs(length - route["usage"][k]["seconds"]) > 1e-6:
            problems.append(f"span {k}: {route['usage'][k]['seconds']} s, want {length} s")
        spans.append((t, t + length, cpu, mem))
    # Open pods ran until the last measurement: the newest sample's span, at most `to`.
    last = min(t1, spans[-1][1]) if spans else t1

    def req_over(a, b, key):
        return sum(p[key] * overlap(p["start"], last, a, b) for p in pods.values()) / 3600

    core_h = req_over(t0, t1, "cpu")
    gb_h = req_over(t0, t1, "mem") / GB
    want = {"cpu_cost": core_h * p_cpu, "memory_cost": gb_h * p_gb}
    want["total_cost"] = want["cpu_cost"] + want["memory_cost"]
    used_c = req_c = waste_c = above_c = 0.0
    used_m = req_m = waste_m = above_m = 0.0
    mem_measured = False
    for a, b, cpu, mem in spans:
        a, b = max(a, t0), min(b, t1)
        if b <= a:
            continue
        r = req_over(a, b, "cpu")
        u = cpu * (b - a) / 3600
        used_c, req_c = used_c + u, req_c + r
        waste_c += max(0.0, r - u)
        above_c += max(0.0, u - r)
        if mem is not None:
            mem_measured = True
            rm = req_over(a, b, "mem") / GB
            um = mem / GB * (b - a) / 3600
            used_m, req_m = used_m + um, req_m + rm
            waste_m += max(0.0, rm - um)
            above_m += max(0.0, um - rm)
    want["wasted_cpu_cost"] = waste_c * p_cpu
    want["wasted_memory_cost"] = waste_m * p_gb
    want["total_wasted_cost"] = want["wasted_cpu_cost"] + want["wasted_memory_cost"]
    want["allocated_total_cost"] = want["total_cost"] + above_c * p_cpu + above_m * p_gb
    want["cpu_utilization_percent"] = 100 * used_c / req_c if req_c > 0 else None
    want["memory_utilization_percent"] = 100 * used_m / req_m if mem_measured and req_m > 0 else None
    # The monthly projection: the window's requested rate from its first pod on, x 730 h.
    first = min([max(p["start"], t0) for p in pods.values()] + [t1])
    want["estimated_monthly_cost"] = want["total_cost"] / ((t1 - first) / 3600) * 730

    for k, v in want.items():
        got = route[k]
        if v is None or got is None:
            if v is not got:
                problems.append(f"{k}: route {got}, computed {v}")
        elif abs(got - v) > 2e-6 + 1e-6 * abs(v):
            problems.append(f"{k}: route {got}, computed {v}")
    if not spans:
        problems.append("no usage samples priced")
    for p in problems:
        print(f"{ns}/{dep}: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"{ns}/{dep}: {len(pods)} pods, {len(spans)} samples, total ${want['total_cost']:.6f},"
          f" cpu utilisation {want['cpu_utilization_percent']:.2f} %: equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
