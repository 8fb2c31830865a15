#!/usr/bin/env python3
"""Synthetic probes: load shapes the bundled traces lack, evaluated with the issue-3 protocol.

    bazel --output_base=/root/.cache/bazel-ob/predictor build //cli:smart-autoscaler
    python3 predictor/tools/probes.py --binary bazel-bin/cli/smart-autoscaler [--dir /tmp/probes]

Writes fifteen 14-day, 5-minute CSVs (seeded, so every run writes the same files; the series
start on a Monday, so the two scored days are a Saturday and a Sunday), runs `smart-autoscaler
forecast --evaluate` on each (1 h horizon, origins every --origin-step over the last 2 days, 7
days of training) and prints one markdown row per probe: the ensemble's MASE ratio to
persistence (at t+1h, and for the peak over the 10-minute lead window) and to the daily and
weekly seasonal-naive, the p10-p90 coverage, and the best
single model. These are probes for finding failure modes, not a benchmark to tune on.
"""
import argparse
import datetime as dt
import json
import math
import os
import random
import subprocess
import sys

STEPS_PER_DAY = 288
DAYS = 14


def probes():
    rnd = random.Random(7)
    n = DAYS * STEPS_PER_DAY

    def hour(i):
        return (i % STEPS_PER_DAY) / 12.0

    def weekday(i):  # 0 = Monday
        return (i // STEPS_PER_DAY) % 7

    out = {}
    # Office hours on weekdays, quiet nights and weekends.
    out["business"] = [
        max(0.0, (60 + 10 * math.sin(math.pi * (hour(i) - 9) / 9)
                  if weekday(i) < 5 and 9 <= hour(i) < 18 else 10) + rnd.gauss(0, 3))
        for i in range(n)]
    # A daily cycle at half height on weekends.
    out["weeklysine"] = [(1.0 if weekday(i) < 5 else 0.5) * (40 + 20 * math.sin(
        2 * math.pi * i / STEPS_PER_DAY)) + rnd.gauss(0, 2) for i in range(n)]
    x, walk = 50.0, []
    for _ in range(n):
        x += rnd.gauss(0, 1)
        walk.append(x)
    out["randomwalk"] = walk
    out["noise"] = [50 + rnd.gauss(0, 5) for _ in range(n)]
    out["sinetrend"] = [30 + 0.005 * i + 15 * math.sin(2 * math.pi * i / STEPS_PER_DAY) +
                        rnd.gauss(0, 2) for i in range(n)]
    level, shifts = 40.0, []
    for i in range(n):
        if i > 0 and i % (2 * STEPS_PER_DAY + 37) == 0:
            level = rnd.choice([20, 40, 60, 80])
        shifts.append(level + rnd.gauss(0, 2))
    out["levelshift"] = shifts
    # A 30-minute batch job every 6 hours.
    out["batch6h"] = [20 + (50 if i % 72 < 6 else 0) + rnd.gauss(0, 2) for i in range(n)]
    x, ar = 0.0, []
    for _ in range(n):
        x = 0.9 * x + rnd.gauss(0, 3)
        ar.append(50 + x)
    out["ar1"] = ar
    burst, bursty = 0.0, []
    for i in range(n):
        if rnd.random() < 0.003:
            burst = rnd.uniform(50, 200)
        burst *= 0.85
        bursty.append(30 + 10 * math.sin(2 * math.pi * i / STEPS_PER_DAY) + burst +
                      rnd.gauss(0, 2))
    out["bursty"] = bursty
    # Issue 14: shapes the bundled traces lack. The scored days are the last two (12-13).
    jump = int(12.5 * STEPS_PER_DAY)
    daily = [10 * math.sin(2 * math.pi * i / STEPS_PER_DAY) for i in range(n)]
    out["jump_up_stays"] = [(70 if i >= jump else 30) + daily[i] + rnd.gauss(0, 2)
                            for i in range(n)]
    out["drop_stays"] = [(25 if i >= jump else 60) + daily[i] + rnd.gauss(0, 2)
                         for i in range(n)]
    # Utilisation in percent: demand ramps from 40 to 140 over the last 3 days, pinned at 100.
    ramp0 = n - 3 * STEPS_PER_DAY
    out["ramp_into_saturation"] = [
        min(100.0, max(0.0, 40 + 100 * max(0, i - ramp0) / (3 * STEPS_PER_DAY) +
                       rnd.gauss(0, 2))) for i in range(n)]
    # A daily cycle whose top is cut off at 100 % for several hours a day.
    out["saturated_daily"] = [min(100.0, max(0.0, 70 + 45 * math.sin(
        2 * math.pi * i / STEPS_PER_DAY) + rnd.gauss(0, 2))) for i in range(n)]
    # Weekdays, Saturday and Sunday each with their own profile; with 7 days of training
    # every weekday shape has been seen once.
    def weekly(i):
        h = hour(i)
        if weekday(i) < 5:
            return 20 + 60 * math.exp(-((h - 14) / 3) ** 2)
        if weekday(i) == 5:
            return 15 + 25 * math.exp(-((h - 20) / 2) ** 2)
        return 12 + 5 * math.sin(2 * math.pi * h / 24)
    out["weekly_7d_training"] = [weekly(i) + rnd.gauss(0, 2) for i in range(n)]
    # Two regimes, switching every 6-18 h: a calm daily cycle, and a busy noisy plateau.
    regime, left, two = 0, 0, []
    for i in range(n):
        if left == 0:
            regime, left = 1 - regime, rnd.randint(72, 216)
        left -= 1
        two.append(30 + daily[i] + rnd.gauss(0, 2) if regime == 0 else
                   75 + rnd.gauss(0, 6))
    out["two_regimes"] = two
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="bazel-bin/cli/smart-autoscaler")
    ap.add_argument("--dir", default="/tmp/probes")
    ap.add_argument("--origin-step", default="60m")
    ap.add_argument("--train-days", type=int, default=7)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    start = dt.datetime(2024, 3, 4)  # a Monday
    print("| probe | ens/pers | **peak ens/pers** | ens/snaive-d | ens/snaive-w | coverage | "
          "best single model |")
    print("|---|---|---|---|---|---|---|")
    for name, values in probes().items():
        path = os.path.join(a.dir, name + ".csv")
        with open(path, "w") as f:
            f.write("timestamp,value\n")
            for i, v in enumerate(values):
                t = start + dt.timedelta(minutes=5 * i)
                f.write(f"{t:%Y-%m-%d %H:%M:%S},{v:.4f}\n")
        r = subprocess.run([a.binary, "forecast", "--input", path, "--evaluate", "--horizon", "60m",
                            "--lead", "10m", "--origin-step", a.origin_step, "--eval-days", "2",
                            "--train-days", str(a.train_days)], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{name}: exit {r.returncode}: {r.stderr}", file=sys.stderr)
            return 1
        m = json.loads(r.stdout)["models"]
        e = m["ensemble"]["mase"]
        best = min((v["mase"], k) for k, v in m.items() if k != "ensemble")[1]
        peak = m["ensemble"]["peak_mase"] / m["persistence"]["peak_mase"]
        print(f"| {name} | {e / m['persistence']['mase']:.3f} | {peak:.3f} | "
              f"{e / m['seasonal_naive_daily']['mase']:.3f} | "
              f"{e / m['seasonal_naive_weekly']['mase']:.3f} | {m['ensemble']['coverage']:.2f} | "
              f"{best} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
