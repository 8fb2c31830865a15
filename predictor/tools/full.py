#!/usr/bin/env python3
"""Rolling-origin evaluation of every model and the ensemble on all traces; renders the tables
of BENCHMARKS.md's "Predictor (issue 3)" section.

    bazel --output_base=/root/.cache/bazel-ob/predictor build //cli:smart-autoscaler
    python3 predictor/tools/full.py --binary bazel-bin/cli/smart-autoscaler \
        --traces ../shared/data/traces --out /tmp/full.jsonl > /tmp/tables.md

Runs `smart-autoscaler forecast --evaluate --horizon 60m --lead 10m --origin-step 60m
--eval-days 2 --train-days 7` per file (pools at --step=5m), at most --jobs at a time, writes
one JSON line per file to --out, and prints the markdown tables and a summary of the acceptance
criteria. --render-only re-renders an existing --out file. --origin-step, --eval-days and
--train-days change the protocol (e.g. --origin-step 5m scores every step of the same two days,
576 origins per file instead of 48, about 3.5 minutes on 2 cores).
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys

FILES = [
    "cluster/alibaba2018_cpu_300s", "cluster/google2019_cpu_300s",
    "nab/Twitter_volume_AAPL", "nab/Twitter_volume_GOOG",
    "nab/cpu_utilization_asg_misconfiguration", "nab/ec2_cpu_utilization_24ae8d",
    "nab/ec2_cpu_utilization_53ea38", "nab/ec2_cpu_utilization_5f5533",
    "nab/ec2_cpu_utilization_825cc2", "nab/rds_cpu_utilization_cc0c53",
    "pools/cluster1", "pools/cluster11", "pools/cluster13", "pools/cluster14",
    "pools/cluster17", "pools/cluster19", "requests/worldcup98_requests_per_minute",
]
MODELS = [
    ("persistence", "pers"), ("seasonal_naive_daily", "snaive-d"),
    ("seasonal_naive_weekly", "snaive-w"), ("seasonal_mean_daily", "smean-d"),
    ("holt_winters", "HW"), ("arima", "ARIMA"), ("gradient_boosting", "GBT"),
    ("random_forest", "RF"), ("ensemble", "**ens**"),
]


def run_one(a, name):
    args = [a.binary, "forecast", "--input", os.path.join(a.traces, name + ".csv"), "--evaluate",
            "--horizon", "60m", "--lead", "10m", "--origin-step", a.origin_step,
            "--eval-days", str(a.eval_days), "--train-days", str(a.train_days)]
    if name.startswith("pools/"):
        args.append("--step=5m")
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{name}: exit {r.returncode}: {r.stderr}")
    d = json.loads(r.stdout)
    d["file"] = name
    return d


def peak_ratio(d):
    """The ensemble's lead-window p50 peak MASE over persistence's."""
    return d["models"]["ensemble"]["peak_mase"] / d["models"]["persistence"]["peak_mase"]


def peak90_ratio(d):
    """The same for the p90 peak (absent in files written before it was reported: nan)."""
    e, p = d["models"]["ensemble"], d["models"]["persistence"]
    if "peak_p90_mase" not in e:
        return float("nan")
    return e["peak_p90_mase"] / p["peak_p90_mase"]


def render(rows):
    models = [m for m in MODELS if all(m[0] in d["models"] for d in rows)]
    out = ["MASE at t+1h (lower is better); in brackets the ratio to persistence.", "",
           "| file | step | " + " | ".join(s for _, s in models) + " |",
           "|---|---|" + "---|" * len(models)]
    ratios = {m: [] for m, _ in models}
    for d in rows:
        p = d["models"]["persistence"]["mase"]
        cells = []
        for m, _ in models:
            v = d["models"][m]["mase"]
            ratios[m].append(v / p)
            cells.append(f"{v:.3f} ({v / p:.2f})")
        out.append(f"| {d['file']} | {d['step_s'] // 60}m | " + " | ".join(cells) + " |")
    out.append("| **average ratio** | | " +
               " | ".join(f"{sum(ratios[m]) / len(ratios[m]):.3f}" for m, _ in models) + " |")
    out.append("| **max ratio** | | " +
               " | ".join(f"{max(ratios[m]):.3f}" for m, _ in models) + " |")
    out += ["", "Ensemble detail: ratio to the daily and weekly seasonal-naive; the lead-window peak "
            "(what the reconciler serves: max of p50, and of p90, over the 10-minute lead window) "
            "as MASE of the ensemble and of persistence and their ratio, beside the 1-hour MASE "
            "ratio; p10-p90 coverage at t+1h, mean fit+forecast ms per origin (wall clock).", "",
            "| file | ens/snaive-d | ens/snaive-w | 1h ratio | peak MASE ens | peak MASE pers | "
            "**peak ratio** | p90-peak ratio | coverage | ms ens |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for d in rows:
        e, p = d["models"]["ensemble"], d["models"]["persistence"]
        sd, sw = d["models"]["seasonal_naive_daily"], d["models"]["seasonal_naive_weekly"]
        out.append(f"| {d['file']} | {e['mase'] / sd['mase']:.3f} | {e['mase'] / sw['mase']:.3f} | "
                   f"{e['mase'] / p['mase']:.3f} | {e['peak_mase']:.3f} | {p['peak_mase']:.3f} | "
                   f"{peak_ratio(d):.3f} | {peak90_ratio(d):.3f} | {e['coverage']:.2f} | "
                   f"{e['mean_ms']:.1f} |")
    peaks = [peak_ratio(d) for d in rows]
    worse_peak = [(d["file"], round(r, 3)) for d, r in zip(rows, peaks) if r > 1.0]
    ens = ratios["ensemble"]
    worse_p = [(d["file"], round(r, 3)) for d, r in zip(rows, ens) if r > 1.0]
    worse_s = [(d["file"], round(d["models"]["ensemble"]["mase"] /
                                 d["models"]["seasonal_naive_daily"]["mase"], 3))
               for d in rows
               if d["models"]["ensemble"]["mase"] > d["models"]["seasonal_naive_daily"]["mase"]]
    worse_w = [(d["file"], round(d["models"]["ensemble"]["mase"] /
                                 d["models"]["seasonal_naive_weekly"]["mase"], 3))
               for d in rows
               if d["models"]["ensemble"]["mase"] > d["models"]["seasonal_naive_weekly"]["mase"]]
    cov = [(d["file"], round(d["models"]["ensemble"]["coverage"], 2)) for d in rows
           if not 0.7 <= d["models"]["ensemble"]["coverage"] <= 0.9]
    out += ["", f"<!-- summary: average ratio {sum(ens) / len(ens):.3f}; worse than persistence: "
            f"{worse_p}; average peak ratio {sum(peaks) / len(peaks):.3f}; peak worse than "
            f"persistence's: {worse_peak}; max ms {max(d['models']['ensemble']['mean_ms'] for d in rows):.1f}; worse than daily seasonal-naive: {worse_s}; worse than weekly: "
            f"{worse_w}; coverage outside 70-90 %: {cov} -->"]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="bazel-bin/cli/smart-autoscaler")
    ap.add_argument("--traces", default="../shared/data/traces")
    ap.add_argument("--out", default="/tmp/predictor_full.jsonl")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--render-only", action="store_true")
    ap.add_argument("--origin-step", default="60m")
    ap.add_argument("--eval-days", type=int, default=2)
    ap.add_argument("--train-days", type=int, default=7)
    a = ap.parse_args()
    if not a.render_only:
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
            rows = list(ex.map(lambda f: run_one(a, f), FILES))
        with open(a.out, "w") as o:
            for d in rows:
                o.write(json.dumps(d) + "\n")
    with open(a.out) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    print(render(rows))


if __name__ == "__main__":
    sys.exit(main())
