#!/usr/bin/env python3
"""Summarises `smart-autoscaler backtest --json` output against the issue's acceptance items.

    smart-autoscaler backtest --input data/traces --json > all.jsonl
    python3 backtest/tools/summary.py all.jsonl
    python3 backtest/tools/summary.py --split all.jsonl   # development / held-out / all

Prints a Markdown table per trace and, over the traces where native at the default target
overloads at all: the median reduction of overloaded minutes of smart vs native_cost_matched
(item 1, and how many traces smart is worse on), vs native with the median replica-hour change
(item 2), and the scale-event ratio to native (item 3).
"""
import json
import statistics
import sys


def reduction(base, new):
    return None if base <= 0 else (base - new) / base


def main(path, split=False):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    if split:
        # Development half: the traces at even positions of the names in sorted order; the
        # held-out half: the odd positions. Defaults are tuned on the first only.
        rows.sort(key=lambda r: r["trace"])
        for name, part in (("development", rows[0::2]), ("held-out", rows[1::2]),
                           ("all", rows)):
            print("## %s (%d traces: %s)" % (name, len(part),
                                              ", ".join(r["trace"] for r in part)))
            summarise(part)
            print()
        return
    summarise(rows)


def summarise(rows):
    print("| trace | native om / rh | smart om / rh / events | cost-matched target, om / rh "
          "| oracle om / rh | smart vs cost-matched | smart vs native |")
    print("|---|---|---|---|---|---|---|")
    red_cm, red_n, rh, ev, worse = [], [], [], [], []
    for r in rows:
        p = {x["policy"]: x for x in r["policies"]}
        n, s, c, o = p["native"], p["smart"], p["native_cost_matched"], p["oracle"]
        rc = reduction(c["overloaded_minutes"], s["overloaded_minutes"])
        rn = reduction(n["overloaded_minutes"], s["overloaded_minutes"])
        fmt = lambda v: "n/a" if v is None else "%+.0f %%" % (-100 * v)
        print("| %s | %.1f / %.0f | %.1f / %.0f / %d | %.1f %%, %.1f / %.0f | %.1f / %.0f | %s | %s |" % (
            r["trace"], n["overloaded_minutes"], n["replica_hours"], s["overloaded_minutes"],
            s["replica_hours"], s["scale_events"], c["target_pct"], c["overloaded_minutes"],
            c["replica_hours"], o["overloaded_minutes"], o["replica_hours"], fmt(rc), fmt(rn)))
        if n["overloaded_minutes"] <= 0:
            continue
        if s["overloaded_minutes"] > c["overloaded_minutes"]:
            worse.append(r["trace"])
        red_cm.append(rc if rc is not None else (0.0 if s["overloaded_minutes"] <= 0 else -1.0))
        red_n.append(rn)
        rh.append(s["replica_hours"] / n["replica_hours"] - 1)
        ev.append(s["scale_events"] / max(1, n["scale_events"]))
    k = len(red_n)
    print()
    print("traces where native at the default target overloads: %d of %d" % (k, len(rows)))
    if k:
        print("1. median overloaded-minute reduction vs native_cost_matched: %.0f %% "
              "(smart worse on %d: %s)" % (100 * statistics.median(red_cm), len(worse),
                                            ", ".join(worse) or "none"))
        print("2. median overloaded-minute reduction vs native: %.0f %%, median replica-hours "
              "%+.1f %%" % (100 * statistics.median(red_n), 100 * statistics.median(rh)))
        print("3. median scale events / native's: %.2fx (max %.2fx)" % (
            statistics.median(ev), max(ev)))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--split"]
    main(args[0], split="--split" in sys.argv[1:])
