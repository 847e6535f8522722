#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
#
# perf/rpc/report.py: turns one perf/rpc/run into BASE.md, BASE.json and BASE-*.png. Input: the run's manifest
# (one line per gale-bench point: system, transport, payload, connections, depth, round, offered rate, rate
# fraction, exit status, gale-bench's JSON file) and testpmd's per-round pps samples. Each figure is the median
# over rounds of that point; testpmd's is the median of all its 1 s samples. The headline compares gale native
# with each peer at the four targets and says pass or miss (and by how much). A closed-loop run that
# completed no call is left out of the medians and counted. `report.py --from-json BASE.json --out NEWBASE`
# re-renders a saved run.
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess

SYSTEMS = ["native", "kernel", "apache"]
LABEL = {
    "native": "gale native (memif)",
    "kernel": "gale kernel (loopback)",
    "apache": "Apache TNonblockingServer (loopback)",
}


def args():
    p = argparse.ArgumentParser()
    for a in ["manifest", "testpmd", "out", "command", "build", "root", "load-before", "load-after", "seconds",
              "warmup", "rounds", "idle", "scpu", "ccpu", "native-note", "apache-note", "testpmd-note", "elapsed"]:
        p.add_argument("--" + a, default="")
    p.add_argument("--plots", type=int, default=1)
    p.add_argument("--from-json", default="")
    p.add_argument("profiles", nargs="*")
    return p.parse_args()


def git(root, *a):
    try:
        return subprocess.run(["git", "-C", root, *a], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def load_points(path):
    pts = []
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) < 10:
            continue
        try:
            res = json.load(open(f[9]))
        except (OSError, ValueError):
            res = {}
        pts.append({
            "system": f[0], "transport": f[1], "payload": int(f[2]), "connections": int(f[3]),
            "depth": int(f[4]), "round": int(f[5]), "mode": {"0": "closed", "-1": "ref"}.get(f[6], "open"),
            "rate_offered": float(f[6]), "rate_fraction": float(f[7]), "exit": int(f[8]), "result": res,
        })
    return pts


def lat(res, key):
    return res.get("latency", {}).get(key)


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def aggregate(pts):
    """(system, transport, payload, conns, depth, mode, frac) -> medians over rounds."""
    groups = {}
    for p in pts:
        k = (p["system"], p["transport"], p["payload"], p["connections"], p["depth"], p["mode"], p["rate_fraction"])
        groups.setdefault(k, []).append(p)
    agg = {}
    for k, g in groups.items():
        # A closed-loop run that completed no call at all failed (it never got going); it is left out of the
        # medians and counted. In the open loop, none completed in the window means the client was behind.
        ok = [p for p in g if k[5] == "open" or (p["result"].get("calls_ok") or 0) > 0]
        r = [p["result"] for p in ok]
        agg[k] = {
            "calls_per_s": med([x.get("calls_per_s") for x in r]),
            "p50_ns": med([lat(x, "p50_ns") for x in r]),
            "p99_ns": med([lat(x, "p99_ns") for x in r]),
            "rate_offered": med([p["rate_offered"] for p in ok]),
            "errors": sum(int(x.get("errors", 0) or 0) for x in r),
            "failed": sum(1 for p in g if p["exit"] != 0 or not p["result"]),
            "no_calls": len(g) - len(ok),
            "rounds": len(g),
        }
    return agg


def testpmd_pps(path):
    samples, per_round = [], {}
    if path and os.path.exists(path):
        for line in open(path):
            f = line.rstrip("\n").split("\t")
            if len(f) < 2:
                continue
            s = [int(x) for x in f[1].split()]
            per_round[int(f[0])] = s
            samples += s
    return (statistics.median(samples) if samples else None), per_round


def fmt_rate(v):
    return "-" if v is None else f"{v:,.0f}"


def fmt_us(ns):
    return "-" if ns is None else f"{ns / 1e3:,.1f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def main():
    a = args()
    if a.from_json:
        # Re-render a saved run (its points and meta) with this script, e.g. after a change to the tables.
        saved = json.load(open(a.from_json))
        pts, m = saved["points"], saved["meta"]
        a.command, a.build, a.load_before, a.load_after = m["command"], m["build"], m["load_average_before"], \
            m["load_average_after"]
        a.seconds, a.warmup, a.rounds, a.scpu, a.ccpu = m["seconds_per_point"], m["warmup_s"], m["rounds"], \
            m["server_core"], m["client_core"]
        a.elapsed, a.idle = m["elapsed_s"], m.get("gale_idle", "poll")
        for k in ("native", "apache", "testpmd"):
            setattr(a, k + "_note", m["notes"].get(k, ""))
        tp = saved["testpmd"]["samples_by_round"]
        a.testpmd = a.out + ".testpmd.tmp"
        with open(a.testpmd, "w") as f:
            for rd, smp in tp.items():
                f.write(f"{rd}\t{' '.join(str(x) for x in smp)}\n")
    else:
        pts = load_points(a.manifest)
    agg = aggregate(pts)
    tp_pps, tp_rounds = testpmd_pps(a.testpmd)
    if a.from_json:
        os.unlink(a.testpmd)
    systems = [s for s in SYSTEMS if any(k[0] == s for k in agg)]
    notes = {"native": a.native_note, "apache": a.apache_note}
    now = datetime.datetime.now(datetime.timezone.utc)
    meta = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "command": a.command,
        "commit": git(a.root, "rev-parse", "--short", "HEAD"),
        "dirty": git(a.root, "status", "--porcelain", "--untracked-files=no") not in ("", "?"),
        "build": a.build,
        "machine": {"cores": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release()},
        "load_average_before": a.load_before, "load_average_after": a.load_after,
        "seconds_per_point": float(a.seconds), "warmup_s": float(a.warmup), "rounds": int(a.rounds),
        "gale_idle": a.idle, "server_core": int(a.scpu), "client_core": int(a.ccpu), "elapsed_s": int(a.elapsed or 0),
        "notes": {k: v for k, v in notes.items() if v} | ({"testpmd": a.testpmd_note} if a.testpmd_note else {}),
    }

    if a.from_json:
        for k in ("date", "commit", "dirty", "machine"):
            meta[k] = m[k]

    def get(sys, tp, pl, cn, dp, key="calls_per_s"):
        v = agg.get((sys, tp, pl, cn, dp, "closed", 0.0))
        return None if v is None else v[key]

    # Headline: the four targets.
    head = []
    nat64 = [v["calls_per_s"] for k, v in agg.items()
             if k[0] == "native" and k[2] == 64 and k[5] == "closed" and v["calls_per_s"]]
    best_native = max(nat64) if nat64 else None
    best_at = next((k for k, v in agg.items() if k[0] == "native" and k[5] == "closed" and k[2] == 64
                    and v["calls_per_s"] == best_native), None)
    for depth in (1, 16):
        for peer, target in (("apache", 10.0), ("kernel", 5.0)):
            r = ratio(get("native", "framed", 64, 64, depth), get(peer, "framed", 64, 64, depth))
            head.append({"what": f"64 B echo, 64 connections, depth {depth}, Framed+Binary: calls/s native / {peer}",
                         "ratio": r, "target": target, "primary": depth == 1})
    r = ratio(get("kernel", "framed", 64, 1, 1, "p50_ns"), get("native", "framed", 64, 1, 1, "p50_ns"))
    head.append({"what": "1 connection, depth 1, 64 B, Framed+Binary: p50 round trip kernel / native",
                 "ratio": r, "target": 10.0, "primary": True})
    r = ratio(best_native, tp_pps)
    where = "" if best_at is None else f" (best 64 B point: {best_at[1]}, {best_at[3]} conn x {best_at[4]})"
    head.append({"what": f"native calls/s / testpmd io-fwd pps over memif{where}", "ratio": r, "target": 0.4,
                 "primary": True})
    for depth in (1, 16):
        r = ratio(get("kernel", "framed", 64, 64, depth), get("apache", "framed", 64, 64, depth))
        head.append({"what": f"64 B echo, 64 connections, depth {depth}, Framed+Binary: calls/s kernel / apache",
                     "ratio": r, "target": 1.0, "primary": False, "no_target": True})
    for h in head:
        h["met"] = None if h["ratio"] is None else h["ratio"] >= h["target"]

    md = []
    w = md.append
    w(f"# gale RPC benchmark, {meta['date']}")
    w("")
    w(f"command: `{a.command}`  ")
    w(f"machine: {meta['machine']['cores']} cores, {meta['machine']['cpu']}, kernel {meta['machine']['kernel']}; "
      f"commit {meta['commit']}{' (uncommitted changes)' if meta['dirty'] else ''}, build `{a.build}`  ")
    w(f"server on core {a.scpu}, gale-bench on core {a.ccpu} (taskset + EAL --lcores); {a.rounds} round(s) of "
      f"{a.seconds} s per point after {a.warmup} s warm-up, median over rounds; {meta['elapsed_s']} s in all; "
      f"gale idle policy {a.idle} (servers and gale-bench)  ")
    w(f"load average before {a.load_before}, after {a.load_after}: this host's 2 cores are shared, so only the "
      "ratios within this run mean anything, and they are noisy")
    try:
        busy = float(a.load_before.split()[0]) > 1.5
    except (ValueError, IndexError):
        busy = False
    if busy:
        w(f"- **not the issue's setup**: load average {a.load_before.split()[0]} at the start; the targets are "
          "defined with nothing else running, so this run's ratios are indicative only")
    for k, v in meta["notes"].items():
        w(f"- {k}: {v}")
    w("")
    w("## Headline (the issue's targets; ratios from this run)")
    w("")
    w("| ratio | value | target | result |")
    w("| --- | ---: | ---: | --- |")
    for h in head:
        if h["ratio"] is None:
            val, res = "-", "not measured" + (f": {a.native_note}" if a.native_note else "")
        else:
            val = f"{h['ratio']:.2f}x" if h["target"] >= 1 else f"{100 * h['ratio']:.1f}%"
            if h["met"]:
                res = "pass"
            else:
                res = f"miss (at {100 * h['ratio'] / h['target']:.0f}% of the target)"
        tgt = f">= {h['target']:.0f}x" if h["target"] >= 1 else f">= {100 * h['target']:.0f}%"
        if h.get("no_target"):
            tgt, res = "-", "(no target)" if h["ratio"] is not None else "not measured"
        w(f"| {h['what']}{'' if h['primary'] else ' (informative)'} | {val} | {tgt} | {res} |")
    w("")
    if tp_pps is not None:
        w(f"physical limit: dpdk-testpmd io forwarding over net_memif, {tp_pps / 1e6:.3f} Mpps (median of "
          f"{sum(len(s) for s in tp_rounds.values())} 1 s samples, client-core side). An echo RPC is at least two "
          "frames (request, reply), so RPCs/s can at best be about half the forwarding rate.")
    else:
        w(f"physical limit: {a.testpmd_note or 'not measured'}")
    w("")

    tps = sorted({k[1] for k in agg}, key=lambda t: (t != "framed", t))
    for tp in tps:
        for pl in sorted({k[2] for k in agg if k[1] == tp and k[5] == "closed"}):
            w(f"## Closed loop, {pl} B echo, {'Framed' if tp == 'framed' else 'TTHeader'}+Binary")
            w("")
            cols = [s for s in systems if any(k[0] == s and k[1] == tp for k in agg)]
            hdr = "| conns x depth | " + " | ".join(f"{s} calls/s | {s} p50 us | {s} p99 us" for s in cols)
            rat = [p for p in ("kernel", "apache") if p in cols and "native" in cols]
            hdr += "".join(f" | native / {p}" for p in rat) + " |"
            w(hdr)
            w("|" + " --- |" * (1 + 3 * len(cols) + len(rat)))
            keys = sorted({(k[3], k[4]) for k in agg if k[1] == tp and k[2] == pl and k[5] == "closed"})
            for cn, dp in keys:
                row = f"| {cn} x {dp} |"
                for s in cols:
                    v = agg.get((s, tp, pl, cn, dp, "closed", 0.0))
                    if v is None:
                        row += " - | - | - |"
                        continue
                    flag = " (err)" if v["errors"] or v["failed"] else ""
                    if v["no_calls"]:
                        flag = f" ({v['no_calls']} of {v['rounds']} runs failed)"
                    row += f" {fmt_rate(v['calls_per_s'])}{flag} | {fmt_us(v['p50_ns'])} | {fmt_us(v['p99_ns'])} |"
                for p in rat:
                    r = ratio(get("native", tp, pl, cn, dp), get(p, tp, pl, cn, dp))
                    row += " - |" if r is None else f" {r:.2f}x |"
                w(row)
            w("")
    opens = sorted({(k[0], k[1]) for k in agg if k[5] == "open"}, key=lambda x: (SYSTEMS.index(x[0]), x[1]))
    if opens:
        w("## Open loop, 64 B echo, 1 connection: latency vs offered load")
        w("")
        w("Rates are fractions of the same system's closed-loop rate with the same cap of calls in flight "
          "(64 B, 1 connection, depth 64: fraction 'closed' below) in the same round; latency runs from each call's "
          "due time, so queueing past saturation shows.")
        w("")
        w("| system | transport | fraction | offered/s | achieved/s | p50 us | p99 us |")
        w("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for s, tp in opens:
            ref = agg.get((s, tp, 64, 1, 64, "ref", 0.0))
            if ref:
                w(f"| {s} | {tp} | closed | - | {fmt_rate(ref['calls_per_s'])} | {fmt_us(ref['p50_ns'])} | "
                  f"{fmt_us(ref['p99_ns'])} |")
            for k in sorted(k for k in agg if k[0] == s and k[1] == tp and k[5] == "open"):
                v = agg[k]
                got = fmt_rate(v["calls_per_s"]) if v["calls_per_s"] else "0 (behind: no call due in the window done)"
                w(f"| {s} | {tp} | {k[6]:.2f} | {fmt_rate(v['rate_offered'])} | {got} | "
                  f"{fmt_us(v['p50_ns'])} | {fmt_us(v['p99_ns'])} |")
        w("")
    for pf in a.profiles:
        sys = os.path.basename(pf)[len("profile-"):-len(".txt")]
        w(f"## Profile: {sys} server, 64 B, 64 connections x 1, Framed (perf record -e cpu-clock -g, self time)")
        w("")
        w("```")
        md.extend(line.rstrip() for line in open(pf))
        w("```")
        w("")

    plots = []
    if a.plots and shutil.which("gnuplot"):
        plots = make_plots(a.out, agg, systems)
    if plots:
        w("Plots: " + ", ".join(f"`{os.path.basename(p)}`" for p in plots))
        w("")

    out_json = {
        "meta": meta,
        "testpmd": {"pps_median": tp_pps, "samples_by_round": tp_rounds},
        "headline": head,
        "summary": [{"system": k[0], "transport": k[1], "payload": k[2], "connections": k[3], "depth": k[4],
                     "mode": k[5], "rate_fraction": k[6], **v} for k, v in sorted(agg.items(), key=str)],
        "points": pts,
        "plots": [os.path.basename(p) for p in plots],
    }
    with open(a.out + ".json", "w") as f:
        json.dump(out_json, f, indent=1)
    with open(a.out + ".md", "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    print(f"perf/rpc: wrote {a.out}.md, {a.out}.json" + "".join(f", {p}" for p in plots))


def make_plots(base, agg, systems):
    """Throughput and latency vs connections (one panel per payload x depth), open-loop latency vs load."""
    dat = base + "-plots.dat.tmp"
    series = []  # (title, index in dat)
    idx = 0
    with open(dat, "w") as f:
        for s in systems:
            for tp in sorted({k[1] for k in agg if k[0] == s}):
                for pl in sorted({k[2] for k in agg if k[0] == s and k[1] == tp and k[5] == "closed"}):
                    for dp in sorted({k[4] for k in agg if k[0] == s and k[1] == tp and k[2] == pl and k[5] == "closed"}):
                        f.write(f"# {s} {tp} {pl} {dp}\n")
                        for cn in sorted({k[3] for k in agg if k[:3] == (s, tp, pl) and k[4] == dp and k[5] == "closed"}):
                            v = agg[(s, tp, pl, cn, dp, "closed", 0.0)]
                            f.write(f"{cn} {v['calls_per_s'] or 0} {(v['p50_ns'] or 0) / 1e3} {(v['p99_ns'] or 0) / 1e3}\n")
                        f.write("\n\n")
                        series.append(("closed", s, tp, pl, dp, idx))
                        idx += 1
        for s in systems:
            for tp in sorted({k[1] for k in agg if k[0] == s and k[5] == "open"}):
                f.write(f"# open {s} {tp}\n")
                for k in sorted(k for k in agg if k[0] == s and k[1] == tp and k[5] == "open"):
                    v = agg[k]
                    f.write(f"{v['rate_offered'] or 0} {v['calls_per_s'] or 0} {(v['p50_ns'] or 0) / 1e3} "
                            f"{(v['p99_ns'] or 0) / 1e3}\n")
                f.write("\n\n")
                series.append(("open", s, tp, 64, 0, idx))
                idx += 1
    panels = sorted({(x[3], x[4]) for x in series if x[0] == "closed"})
    ncol = 2
    nrow = max(1, (len(panels) + ncol - 1) // ncol)
    color = {"native": "rgb '#d62728'", "kernel": "rgb '#1f77b4'", "apache": "rgb '#2ca02c'"}
    gp = [f"set terminal pngcairo size 1200,{420 * nrow} font ',10'" if has_cairo() else
          f"set terminal png size 1200,{420 * nrow}"]
    gp += ["set grid", "set key top left font ',8'", "set logscale x 2"]
    out = []

    def closed_plot(name, col, ylabel, title, extra=""):
        png = f"{base}-{name}.png"
        out.append(png)
        gp.append(f"set output '{png}'")
        gp.append(f"set multiplot layout {nrow},{ncol} title '{title}'")
        gp.append(f"set xlabel 'connections'; set ylabel '{ylabel}'; {extra}")
        for pl, dp in panels:
            gp.append(f"set title '{pl} B echo, pipeline depth {dp}'")
            cmds = []
            for kind, s, tp, p2, d2, i in series:
                if kind != "closed" or (p2, d2) != (pl, dp):
                    continue
                dash = 1 if tp == "framed" else 2
                for c, nm in col:
                    cmds.append(f"'{dat}' index {i} using 1:{c} with linespoints lc {color[s]} dt {dash if nm == 'p50' or len(col) == 1 else 3} "
                                f"title '{s} {tp}{' ' + nm if len(col) > 1 else ''}'")
            gp.append("plot " + ", ".join(cmds) if cmds else "plot 0 notitle")
        gp.append("unset multiplot")

    closed_plot("throughput", [(2, "")], "calls/s", "closed loop: throughput vs connections", "set logscale y")
    closed_plot("latency", [(3, "p50"), (4, "p99")], "latency (us)", "closed loop: p50 and p99 vs connections",
                "set logscale y")
    opens = [x for x in series if x[0] == "open"]
    if opens:
        png = f"{base}-openloop.png"
        out.append(png)
        gp += [f"set terminal {'pngcairo' if has_cairo() else 'png'} size 1000,600", f"set output '{png}'",
               "unset logscale x", "set logscale y", "set title 'open loop, 64 B echo, 1 connection'",
               "set xlabel 'achieved calls/s'", "set ylabel 'latency (us), from due time'"]
        cmds = []
        for _, s, tp, _, _, i in opens:
            cmds.append(f"'{dat}' index {i} using 2:3 with linespoints lc {color[s]} dt 1 title '{s} {tp} p50'")
            cmds.append(f"'{dat}' index {i} using 2:4 with linespoints lc {color[s]} dt 3 title '{s} {tp} p99'")
        gp.append("plot " + ", ".join(cmds))
    r = subprocess.run(["gnuplot"], input="\n".join(gp) + "\n", text=True, capture_output=True)
    if r.returncode != 0:
        print("perf/rpc: gnuplot failed:", r.stderr.strip()[:500])
    os.unlink(dat)
    return [p for p in out if os.path.exists(p)]


def has_cairo():
    r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
    return "pngcairo" in (r.stdout + r.stderr)


if __name__ == "__main__":
    main()
