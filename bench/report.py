#!/usr/bin/env python3
"""Turns bench/results/*.csv into BENCHMARKS.md and plots (SVG).

    python3 bench/report.py --results bench/results --md BENCHMARKS.md
    python3 bench/report.py --collect-criterion build/bench/cargo/criterion --out bench/results/criterion.csv

Plots use matplotlib when it imports (scripts/bench.sh puts it in a venv),
else simple hand-written SVG bar charts. Medians everywhere.
"""
import argparse
import csv
import glob
import html
import json
import os
import statistics
import subprocess
from collections import defaultdict

PEERS = ["std_shared_mutex", "tbb", "libcuckoo", "urcu_lfht", "glib"]
OURS = ["dm_sip", "dm_fast"]
NATIVE = {"dm_sip": "native_sip", "dm_fast": "native_fast"}
ALL = OURS + ["native_sip", "native_fast"] + PEERS
LABEL = {
    "dm_sip": "C API (SipHash)",
    "dm_fast": "C API (fast)",
    "native_sip": "native dashmap (SipHash)",
    "native_fast": "native dashmap (foldhash)",
    "std_shared_mutex": "shared_mutex+unordered_map",
    "tbb": "oneTBB concurrent_hash_map",
    "libcuckoo": "libcuckoo",
    "urcu_lfht": "liburcu rculfhash",
    "glib": "GHashTable+GRWLock",
}
WORKLOADS = ["ReadOnly", "ReadHeavy", "Exchange", "RapidGrow", "UpdateHeavy"]
GOAL_WORKLOADS = ["ReadHeavy", "Exchange", "RapidGrow"]


def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def medians(rows):
    """(workload, threads, key, value, log2, map) -> (median Mop/s, runs, max load, errors)."""
    acc = defaultdict(list)
    meta = defaultdict(lambda: [0.0, 0, 0])
    for r in rows:
        k = (r["workload"], int(r["threads"]), int(r["key_size"]), int(r["value_size"]), int(r["size_log2"]), r["map"])
        acc[k].append(float(r["mops"]))
        m = meta[k]
        m[0] = max(m[0], float(r["load1"]))
        m[1] += int(r["errors"])
        m[2] += int(r.get("capped") or 0)
    return {k: (statistics.median(v), len(v), meta[k][0], meta[k][1], meta[k][2]) for k, v in acc.items()}


def mops(W, workload, threads, m, log2=14):
    """Median Mop/s of map `m` in one configuration (16 B keys, 64 B values), or None."""
    return (W.get((workload, threads, 16, 64, log2, m)) or (None,))[0]


def fmt(x, nd=2):
    return "–" if x is None else f"{x:.{nd}f}"


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


# ------------------------------------------------------------------ plots ----

class Plotter:
    def __init__(self, outdir):
        self.outdir = outdir
        try:
            import matplotlib

            matplotlib.use("Agg")
            matplotlib.rcParams["svg.hashsalt"] = "dmbench"  # stable ids: re-running gives the same file
            import matplotlib.pyplot as plt

            self.plt = plt
        except Exception:
            self.plt = None

    def bars(self, name, title, ylabel, categories, series, hline=None):
        """Grouped bars: one group per category, one bar per series {name: [values]}."""
        path = os.path.join(self.outdir, name + ".svg")
        if self.plt:
            self._mpl(path, title, ylabel, categories, series, hline)
        else:
            self._svg(path, title, ylabel, categories, series, hline)
        return path

    def _mpl(self, path, title, ylabel, categories, series, hline):
        plt = self.plt
        fig, ax = plt.subplots(figsize=(min(12, max(6, 0.25 * len(categories) * max(1, len(series)) + 2)), 4.8))
        n = max(1, len(series))
        w = 0.8 / n
        for i, (s, vals) in enumerate(series.items()):
            xs = [c + (i - (n - 1) / 2) * w for c in range(len(categories))]
            ax.bar(xs, [v or 0 for v in vals], w, label=s)
        ax.set_xticks(range(len(categories)))
        ax.set_xticklabels(categories, fontsize=8)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        if hline is not None:
            ax.axhline(hline, color="k", lw=0.8, ls="--")
        ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.08), frameon=False)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, metadata={"Date": None})
        plt.close(fig)

    def _svg(self, path, title, ylabel, categories, series, hline):
        colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]
        W, H, L, B, T = 900, 420, 60, 60, 40
        vmax = max([v for vals in series.values() for v in vals if v] + [hline or 0, 1e-9]) * 1.1
        gw = (W - L - 20) / max(1, len(categories))
        n = max(1, len(series))
        bw = gw * 0.8 / n
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
               f'<text x="{W/2}" y="20" text-anchor="middle" font-size="13">{html.escape(title)}</text>',
               f'<text x="14" y="{H/2}" transform="rotate(-90 14 {H/2})" text-anchor="middle">{html.escape(ylabel)}</text>']
        y = lambda v: H - B - (H - B - T) * v / vmax
        for i in range(6):
            v = vmax * i / 5
            out.append(f'<line x1="{L}" x2="{W-20}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
                       f'<text x="{L-4}" y="{y(v)+4:.1f}" text-anchor="end">{v:.3g}</text>')
        for ci, c in enumerate(categories):
            x0 = L + ci * gw + gw * 0.1
            for si, (s, vals) in enumerate(series.items()):
                v = vals[ci] or 0
                out.append(f'<rect x="{x0 + si*bw:.1f}" y="{y(v):.1f}" width="{bw*0.95:.1f}" height="{y(0)-y(v):.1f}" '
                           f'fill="{colors[si % len(colors)]}"><title>{html.escape(s)}: {v:.3g}</title></rect>')
            out.append(f'<text x="{L + ci*gw + gw/2:.1f}" y="{H-B+16}" text-anchor="middle">{html.escape(c)}</text>')
        if hline is not None:
            out.append(f'<line x1="{L}" x2="{W-20}" y1="{y(hline):.1f}" y2="{y(hline):.1f}" stroke="black" stroke-dasharray="4"/>')
        for si, s in enumerate(series):
            lx, ly = L + (si % 3) * 270, H - 28 + (si // 3) * 12
            out.append(f'<rect x="{lx}" y="{ly-9}" width="10" height="10" fill="{colors[si % len(colors)]}"/>'
                       f'<text x="{lx+14}" y="{ly}">{html.escape(s)}</text>')
        out.append("</svg>")
        with open(path, "w") as f:
            f.write("\n".join(out))


# --------------------------------------------------------------- criterion ----

def collect_criterion(root, out):
    rows = []
    for bj in sorted(glob.glob(os.path.join(root, "*", "*", "new", "benchmark.json"))):
        b = json.load(open(bj))
        est = json.load(open(os.path.join(os.path.dirname(bj), "estimates.json")))
        op, threads = b["group_id"].split("/")
        threads = int(threads.rstrip("t"))
        ns = est["median"]["point_estimate"]
        rows.append({"op": op, "threads": threads, "impl": b.get("function_id") or b.get("value_str"), "ns_per_op_per_thread": f"{ns:.2f}",
                     "mops": f"{threads * 1e3 / ns:.3f}"})
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["op", "threads", "impl", "ns_per_op_per_thread", "mops"])
        w.writeheader()
        w.writerows(rows)
    print(f"criterion: {len(rows)} results -> {out}")


# ------------------------------------------------------------------ report ----

def machine():
    info = {}
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            k, _, v = line.partition(":")
            info[k.strip()] = v.strip()
    except Exception:
        pass
    mem = ""
    try:
        kb = int(open("/proc/meminfo").readline().split()[1])
        mem = f"{kb / 1048576:.0f} GiB"
    except Exception:
        pass
    return info.get("Model name", "?"), info.get("CPU(s)", "?"), info.get("Hypervisor vendor", ""), mem


def threads_of(row):
    """A batch row's thread count (rows from before the column: 1)."""
    return int(row.get("threads") or 1)


def batch_speedups(batch, op, hasher="sip", threads=1):
    """(single-call ns/key, {batch size: (batched ns/key, speedup)}) for one
    batch op at one thread count. The single-call runs measure the same thing
    in every row of the op: their median over all rows is a steadier baseline
    than one row's."""
    rows = [b for b in batch if b["op"] == op and b["hasher"] == hasher and threads_of(b) == threads]
    if not rows:
        return None, {}
    one = statistics.median(float(b["single_ns_per_key"]) for b in rows)
    return one, {b["batch"]: (float(b["ns_per_key"]), one / float(b["ns_per_key"])) for b in rows}


def why_missed(W, g, batch, prof, sys_batch, linecost):
    """The measured facts behind the goals that are missed (see the issue)."""
    out = ["### Where goals are missed, and why\n"]
    pi = {(r["map"], r["op"]): int(r["ir_per_op"]) for r in prof}
    sip_ir, fast_ir = pi.get(("dm_sip", "get")), pi.get(("dm_fast", "get"))
    hash_share = (f"SipHash-1-3 is about {sip_ir - fast_ir} of the {sip_ir} instructions of a `dm_get_copy` "
                  f"(the fast hasher's call takes {fast_ir}; see the instruction counts below)"
                  if sip_ir and fast_ir else "SipHash-1-3 is a large share of a short lookup")
    scale = lambda m, w: ratio(mops(W, w, 2, m), mops(W, w, 1, m))
    maps = [m for m in ("dm_sip", "dm_fast", "native_sip", "urcu_lfht", "libcuckoo", "tbb") if scale(m, "ReadHeavy")]
    peers_rh = [m for m in PEERS if g("ReadHeavy", m)]
    best_rh = max(peers_rh, key=lambda m: g("ReadHeavy", m)) if peers_rh else None
    if maps and best_rh and g("ReadHeavy", "dm_sip") and g("ReadHeavy", "dm_sip") < g("ReadHeavy", best_rh):
        out.append("- **Reads.** A dashmap read takes its shard's reader-writer lock, which writes the lock word, so "
                   "two cores reading pull the lock lines back and forth. libdashmap's reader gates (`src/map/gate.rs`) "
                   "let reads skip the lock where several threads read between writes; going from 1 to 2 threads on "
                   "ReadHeavy (2^14 keys) now multiplies throughput by "
                   + ", ".join(f"{fmt(scale(m, 'ReadHeavy'))}× for {LABEL[m]}" for m in maps)
                   + f". The gap left to {LABEL[best_rh]} with SipHash ({fmt(ratio(g('ReadHeavy', 'dm_sip'), g('ReadHeavy', best_rh)))}×; "
                   f"{fmt(ratio(g('ReadHeavy', 'dm_fast'), g('ReadHeavy', best_rh)))}× with the fast hasher) is the hash "
                   f"function: {hash_share}, while the C++ peers hash with libstdc++'s unkeyed `std::hash`. "
                   "SipHash stays the default because its random key makes hash flooding impossible; "
                   "`DM_HASHER_FAST` is for trusted keys.")
    ex = [m for m in ("dm_sip", "native_sip", "libcuckoo", "tbb") if scale(m, "Exchange")]
    if ex and g("Exchange", "dm_sip") and g("Exchange", "libcuckoo") and g("Exchange", "dm_sip") < g("Exchange", "libcuckoo"):
        out.append("- **Writes from two cores.** Exchange is 80% inserts and removes; 1 → 2 threads multiplies "
                   "throughput by " + ", ".join(f"{fmt(scale(m, 'Exchange'))}× for {LABEL[m]}" for m in ex)
                   + ". A `perf` profile of `dm_remove` there puts a third of its samples on the shard lock's "
                   "compare-and-swap and unlock and most of the rest on the first loads of the table's control "
                   "group and of the entry: cache lines the other core wrote last (it inserted the key, or "
                   "took the same shard's lock). More shards do not change that (see [Shard count](#shard-count): "
                   "Exchange levels off from 64), since with two threads the previous writer of any line is the "
                   "other core about half the time.")
    rg = [m for m in ("dm_sip", "native_sip", "libcuckoo") if scale(m, "RapidGrow")]
    rg_peers = [g("RapidGrow", m) for m in PEERS if g("RapidGrow", m)]
    if rg and g("RapidGrow", "dm_sip") and rg_peers and g("RapidGrow", "dm_sip") < max(rg_peers):
        out.append("- **Growth under the lock.** RapidGrow grows every shard's table from empty; dashmap rehashes a "
                   "table while holding its write lock, and a thread that finds the lock taken spins, then yields to "
                   "the OS. 1 → 2 threads on RapidGrow: "
                   + ", ".join(f"{fmt(scale(m, 'RapidGrow'))}× for {LABEL[m]}" for m in rg) + ".")
    nf, ns = g("ReadHeavy", "native_fast"), g("ReadHeavy", "native_sip")
    df, ds = g("ReadHeavy", "dm_fast"), g("ReadHeavy", "dm_sip")
    if nf and ns and df and ds and df / ds < 1.5:
        out.append(f"- **Fast hasher vs SipHash.** {df / ds:.2f}× here; native dashmap gains {nf / ns:.2f}×. Both run "
                   "the same SipHash-1-3, but native dashmap hashes a `Box<[u8]>` key as its length and then its "
                   "bytes (24 bytes for a 16-byte key: three compression rounds), libdashmap only the bytes (two), so "
                   "native's SipHash side is slower and its ratio larger. Hashing a 16-byte key is a small part of an "
                   "operation whose cost is mostly memory traffic; what else the C call does (argument checks, the "
                   "reentrancy check, panic containment, the value copy) is the same for both hashers and lowers the "
                   "ratio (see the instruction counts below).")
        # What the two cores share lowers the ratio: shown by the runs without
        # a second core's writes, when (and only when) the data says so.
        rh = df / ds
        ro = ratio(mops(W, "ReadOnly", 2, "dm_fast"), mops(W, "ReadOnly", 2, "dm_sip"))
        one_t = ratio(mops(W, "ReadHeavy", 1, "dm_fast"), mops(W, "ReadHeavy", 1, "dm_sip"))
        without = [f"{one_t:.2f}× with one thread, whose writes no other core reads"] if one_t and one_t > rh else []
        without += [f"{ro:.2f}× without writes (ReadOnly, 2 threads)"] if ro and ro > rh else []
        if without:
            out[-1] += (" The ratio is " + ", and ".join(without) + ": each of ReadHeavy's 2% writes moves the "
                        "written shard's lock line (which holds the table header) and table lines to the writing core, "
                        "and the other core's next reads of that shard miss them, a cost the hash does not change.")
            if linecost:
                out[-1] += (f" On this machine a cache line takes about {linecost:.0f} ns to move from one core to the "
                            "other (`dmbench linecost`, this run), and a write costs both cores several such moves: the "
                            "lock line, the reader-gate counter line the writer checks, the control bytes and the slot. "
                            "A build without the reader gates' handshake (unsafe, measured once at 65f7e9a to size it) "
                            "was only 5-10% faster with the fast hasher, so most of that cost is the shared table's own "
                            "lines, which any map whose readers and writers share a table pays.")
    one, ext = batch_speedups(batch, "extend")
    if "256" in ext and ext["256"][1] < 2:
        ext_ir, ins_ir = pi.get(("dm_sip", "extend")), pi.get(("dm_sip", "insert"))
        counted = (f": callgrind counts {ext_ir} instructions per key in `dm_extend`, {ins_ir} per `dm_insert`"
                   if ext_ir and ins_ir else "")
        out.append(f"- **`dm_extend`.** {ext['256'][0]:.0f} vs {one:.0f} "
                   "ns/key. An insert is mostly memory traffic that a batch cannot share: the entry's own block, "
                   "written fresh, and its table slot. What a batch does save (one lock and one boundary crossing "
                   "per call and, with SipHash, most of the hashing: 8 keys per AVX-512 or 4 per AVX2 vector) it "
                   "largely spends again grouping the keys by shard (hashes, a counting sort, the list of built "
                   f"entries){counted}. Over the default 64 shards a 256-key batch still takes about one lock per "
                   "4 keys.")
        if "4096" in ext:
            out[-1] += (f" But the locks are not what is left: at 4096 keys per call (one lock per 64 keys) "
                        f"`dm_extend` still takes {ext['4096'][0]:.0f} ns/key ({ext['4096'][1]:.2f}×): what remains is "
                        "the work of each entry (allocating and filling its block, hashing, the table insert), which "
                        "no batch shares.")
        sys_ext = next((float(b["speedup"]) for b in sys_batch if (b["hasher"], b["op"], b["batch"]) == ("sip", "extend", "256")), None)
        if sys_ext:
            out[-1] += (" Nor is the allocator the limit: the bundled mimalloc that entries come from takes less than "
                        "half the time per key of glibc's `malloc` (whose free-list walk misses the cache after "
                        "random-order frees) in both calls (see [Entry allocator](#entry-allocator)), and with glibc "
                        f"the ratio is {sys_ext:.2f}×.")
        one2, ext2 = batch_speedups(batch, "extend", threads=2)
        if "256" in ext2:
            figures = f"{ext2['256'][0]:.0f} vs {one2:.0f} ns of thread time per key, {ext2['256'][1]:.2f}×"
            if ext2["256"][1] >= 2:
                out[-1] += (f" With two threads inserting at once the batch does reach the goal ({figures}): every single "
                            "insert waits for the lock line and table lines the other core wrote last, and a batch "
                            "takes each lock once per run of keys. The miss is the one-thread case.")
            else:
                out[-1] += (f" With two threads inserting at once ({figures}) both calls wait for the lock and table "
                            "lines the other core wrote last; a batch takes each lock once per run of keys, but writes "
                            "the same table lines.")
    one, gm = batch_speedups(batch, "get_many")
    if "256" in gm and gm["256"][1] < 2:
        sp = ", ".join(f"{speedup:.2f}× at {size}" for size, (_, speedup) in gm.items())
        out.append(f"- **`dm_get_many`.** Per key against one `dm_get_copy` ({one:.0f} ns): {sp} keys per call. A "
                   "lookup waits on three dependent cache misses (control bytes, slot, entry); the batch prefetches "
                   "them for the keys ahead and hashes SipHash keys 8 (AVX-512) or 4 (AVX2) at a time, so the gain grows with "
                   "the batch and is capped by how many misses the machine overlaps. Small batches pay the per-call "
                   "planning without enough keys to overlap.")
    one2, gm2 = batch_speedups(batch, "get_many", threads=2)
    if "256" in gm2 and gm2["256"][1] < 2:
        out.append(f"- **`dm_get_many`, two threads.** {gm2['256'][1]:.2f}× at 256 keys per call "
                   f"({gm2['256'][0]:.0f} vs {one2:.0f} ns of thread time per key). Reads share no written line, so "
                   "two threads should match one thread's ratio; a 2-thread run takes about 2 ms, and one thread "
                   "preempted by another process on this 2-CPU VM stretches it (see [Batches](#batches)).")
    out.append("")
    return out


def allocator_section(adir):
    """The bundled mimalloc against the system malloc (bench.sh's `alloc` part)."""
    sides = ("mimalloc", "system")
    W = {a: medians(read_csv(os.path.join(adir, a, "workload.csv"))) for a in sides}
    B = {a: read_csv(os.path.join(adir, a, "batch.csv")) for a in sides}
    M = {a: read_csv(os.path.join(adir, a, "memory.csv")) for a in sides}
    if not all(W.values()):
        return []
    L = ["## Entry allocator\n",
         "Entries (one heap block each) come from the copy of mimalloc built into the library. Here the same "
         "source built with `--no-default-features` (entries from the system `malloc`, glibc's) runs against it: "
         "one harness binary loads either library, alternating, 16 B keys, 64 B values, 2^14 keys, "
         "runs of both interleaved (median Mop/s; higher is better).\n",
         "| Workload | threads | SipHash: mimalloc | system malloc | ratio | fast: mimalloc | system malloc | ratio |",
         "|---|---|---|---|---|---|---|---|"]
    keys = sorted({(k[0], k[1]) for k in W["mimalloc"]}, key=lambda wt: (("RapidGrow", "Exchange", "ReadHeavy").index(wt[0])
                                                                      if wt[0] in ("RapidGrow", "Exchange", "ReadHeavy") else 9, wt[1]))
    for w, t in keys:
        cells = []
        for m in ("dm_sip", "dm_fast"):
            a, b = (mops(W[x], w, t, m) for x in sides)
            cells += [fmt(a), fmt(b), f"{fmt(ratio(a, b))}×"]
        L.append(f"| {w} | {t} | " + " | ".join(cells) + " |")
    L.append("")
    if all(B.values()):
        L.append("The batch benchmark above (single thread, 65536 keys inserted after a `dm_clear`), ns per key, "
                 "lower is better:\n")
        L.append("| | mimalloc | system malloc | ratio |")
        L.append("|---|---|---|---|")
        for h in ("sip", "fast"):
            row = {a: next((b for b in B[a] if b["hasher"] == h and b["op"] == "extend" and b["batch"] == "256"), None) for a in sides}
            if all(row.values()):
                for label, col in ((f"`dm_insert` ({h})", "single_ns_per_key"), (f"`dm_extend`, 256 per call ({h})", "ns_per_key")):
                    a, b = (float(row[x][col]) for x in sides)
                    L.append(f"| {label} | {a:.1f} | {b:.1f} | {b / a:.2f}× faster |")
        L.append("")
    if all(M.values()):
        a, b = (float(M[x][0]["bytes_per_entry"]) for x in sides)
        L.append(f"Memory, pre-sized map of 2^20 entries: {a:.1f} B per entry with mimalloc, {b:.1f} with the system "
                 f"malloc ({a / 80:.2f}× and {b / 80:.2f}× the raw 80 B): glibc rounds a 96-byte entry block up to a "
                 "112-byte chunk, mimalloc serves it from its 96-byte size class.\n")
    return L


def report(results, md_path):
    plots_dir = results
    P = Plotter(plots_dir)
    rel = lambda p: os.path.relpath(p, os.path.dirname(os.path.abspath(md_path)) or ".")
    meta = json.load(open(os.path.join(results, "meta.json"))) if os.path.exists(os.path.join(results, "meta.json")) else {}
    W = medians(read_csv(os.path.join(results, "workload.csv")))
    G = medians(read_csv(os.path.join(results, "goals.csv")))
    mem = read_csv(os.path.join(results, "memory.csv"))
    batch = read_csv(os.path.join(results, "batch.csv"))
    shard_rows = read_csv(os.path.join(results, "shards.csv"))
    crit = read_csv(os.path.join(results, "criterion.csv"))
    model, cpus, hyper, ram = machine()
    L = []
    L.append("# Benchmarks\n")
    L.append("libdashmap's C API against dashmap used natively and other concurrent hash maps, "
             "all in one process on the same pre-generated keys. Generated by `make bench` "
             "(`scripts/bench.sh`, the harness in `bench/`, this report by `bench/report.py`); "
             "raw results in [`bench/results/`](bench/results/).\n")
    L.append(f"- **Machine:** {model}, {cpus} CPUs{' (' + hyper + ' VM)' if hyper else ''}, {ram} RAM")
    L.append(f"- **Date:** {meta.get('started', '?')} → {meta.get('finished', '?')}")
    L.append(f"- **Command:** `{meta.get('command', 'make bench')}` (each run {meta.get('run_ms', '?')} ms, "
             f"median of {meta.get('runs', '?')} runs; goals: median of 5 runs of 500 ms)")
    L.append(f"- **Library:** commit `{meta.get('git', '?')}`{' with uncommitted changes in src/' if meta.get('git_dirty_src') else ''}"
             f"{' (built from a clean `git archive` snapshot, BENCH_SNAPSHOT=1)' if meta.get('snapshot') else ''}, "
             "release profile (LTO, 1 codegen unit), linked as `libdashmap.so`; harness C++17 `-O2`")
    shards_used = sorted({int(r.get("shards") or 0) for r in read_csv(os.path.join(results, "goals.csv"))} - {0})
    if shards_used:
        L.append(f"- **Shards:** libdashmap's default ({', '.join(map(str, shards_used))} on this machine: 4 × CPUs, at "
                 "least 64); native dashmap is given the same count (`dmbench --shards same`), so the two differ only "
                 "by the C layer. dashmap's own default here would be 8: see [Shard count](#shard-count).")
    la0, la1 = meta.get("loadavg_start", "?"), " ".join(meta.get("loadavg_end", []))
    L.append(f"- **Noise:** load average {la0} at the start, {la1} at the end; the `load1` column of the CSVs "
             "records it for every configuration. On this shared 2-core VM other jobs were running, so absolute "
             "numbers move by ±20% or more between runs; maps of one configuration run interleaved "
             "(A B C … A B C …) so ratios are more trustworthy than absolute Mop/s.\n")

    # ---------------------------------------------------------- goals ----
    L.append("## Goals\n")
    L.append("2 threads, 16 B keys, 64 B values, 2^14-key space (prefill 75%, RapidGrow from empty), side by side.\n")
    L.append("| Goal | Measured | Target | Result |")
    L.append("|---|---|---|---|")
    g = lambda w, m: mops(G, w, 2, m)
    for ours in OURS:
        for w in GOAL_WORKLOADS:
            rs = [(p, ratio(g(w, ours), g(w, p))) for p in PEERS if g(w, p) is not None]
            if not rs or g(w, ours) is None:
                continue
            worst = min(rs, key=lambda x: x[1])
            detail = ", ".join(f"{p} {r:.2f}×" for p, r in rs)
            L.append(f"| {LABEL[ours]} ≥ 1.0× every peer, {w} | worst {worst[1]:.2f}× ({worst[0]}); {detail} | ≥ 1.00× | "
                     f"{'PASS' if worst[1] >= 1.0 else 'MISS'} |")
    for ours in OURS:
        for w in GOAL_WORKLOADS:
            r = ratio(g(w, ours), g(w, NATIVE[ours]))
            if r is not None:
                L.append(f"| {LABEL[ours]} ≥ 0.90× {LABEL[NATIVE[ours]]} (same shards), {w} | {r:.2f}× "
                         f"({g(w, ours):.2f} vs {g(w, NATIVE[ours]):.2f} Mop/s) | ≥ 0.90× | {'PASS' if r >= 0.9 else 'MISS'} |")
    r = ratio(g("ReadHeavy", "dm_fast"), g("ReadHeavy", "dm_sip"))
    if r is not None:
        L.append(f"| DM_HASHER_FAST ≥ 1.5× SipHash, ReadHeavy, 2^14 | {r:.2f}× ({g('ReadHeavy', 'dm_fast'):.2f} vs "
                 f"{g('ReadHeavy', 'dm_sip'):.2f} Mop/s) | ≥ 1.50× | {'PASS' if r >= 1.5 else 'MISS'} |")
    for row in mem:
        if row["map"] == "dm_sip" and int(row["count"]) == 1 << 20:
            rr = float(row["ratio"])
            L.append(f"| memory ≤ 2.0× raw, pre-sized map of 2^20 entries | {float(row['bytes_per_entry']):.1f} B/entry "
                     f"vs {row['raw_per_entry']} B raw = {rr:.2f}× | ≤ 2.00× | {'PASS' if rr <= 2.0 else 'MISS'} |")
    for op, single in (("extend", "dm_insert"), ("get_many", "dm_get_copy")):
        one, sp = batch_speedups(batch, op)
        if sp:
            b256 = "256" if "256" in sp else max(sp, key=lambda k: sp[k][1])
            best = max(sp, key=lambda k: sp[k][1])
            cell = (f"{sp[b256][1]:.2f}× at {b256} keys/batch, 1 thread ({sp[b256][0]:.1f} vs {one:.1f} ns/key, the "
                    f"median single call of all rows; best {sp[best][1]:.2f}× at {best})")
            speedups = [sp[b256][1]]
            one2, sp2 = batch_speedups(batch, op, threads=2)
            if b256 in sp2:
                cell += f"; {sp2[b256][1]:.2f}× with 2 threads ({sp2[b256][0]:.1f} vs {one2:.1f} ns of thread time per key)"
                speedups.append(sp2[b256][1])
            L.append(f"| dm_{op} ≥ 2× {single} per key (SipHash) | {cell} | ≥ 2.00× at both | "
                     f"{'PASS' if min(speedups) >= 2 else 'MISS'} |")
    L.append("")
    if G:
        cats = GOAL_WORKLOADS
        series = {LABEL[m]: [g(w, m) for w in cats] for m in ALL if any(g(w, m) for w in cats)}
        p = P.bars("goals", "Goal workloads: 2 threads, 16 B keys, 64 B values, 2^14 keys", "Mop/s (median)", cats, series)
        L.append(f"![goal workloads]({rel(p)})\n")
        linecost = read_csv(os.path.join(results, "linecost.csv"))
        L.extend(why_missed(W, g, batch, read_csv(os.path.join(results, "profile.csv")),
                            read_csv(os.path.join(results, "allocator", "system", "batch.csv")),
                            float(linecost[0]["ns_per_transfer"]) if linecost else None))

    # ------------------------------------------------------ main grid ----
    if W:
        L.append("## Throughput by workload\n")
        L.append("Mop/s (median); in parentheses the C API (SipHash) throughput divided by that map's "
                 "(> 1: the C API is faster). 16 B keys, 64 B values. ReadOnly 100% read; ReadHeavy 98/1/1 "
                 "read/insert/remove; Exchange 10/40/40/10 read/insert/remove/update; RapidGrow 5/80/5/10 from an "
                 "empty map; UpdateHeavy 50% read / 50% in-place update. Reads always hit, inserts always add a key. "
                 "Maps are created with room for the key space, except in RapidGrow, where each starts at its "
                 "smallest table; for libcuckoo that is 64 slots, since without a size its constructor allocates "
                 "262,144 slots (16× the 2^14-key space: it would never grow). libcuckoo 0.3.1 crashes (SIGSEGV) "
                 "growing under concurrent inserts when threads outnumber CPUs, so RapidGrow skips it there (–).\n")
        sizes = sorted({k[4] for k in W})
        threads = sorted({k[1] for k in W})
        maps = [m for m in ALL if any(k[5] == m for k in W)]
        for s in sizes:
            for t in threads:
                keys = [w for w in WORKLOADS if (w, t, 16, 64, s, "dm_sip") in W]
                if not keys:
                    continue
                L.append(f"### 2^{s} keys, {t} thread{'s' if t > 1 else ''}\n")
                L.append("| Workload | " + " | ".join(LABEL[m] for m in maps) + " |")
                L.append("|---|" + "---|" * len(maps))
                for w in keys:
                    ours = W[(w, t, 16, 64, s, "dm_sip")][0]
                    cells = []
                    for m in maps:
                        v = W.get((w, t, 16, 64, s, m))
                        if v is None:
                            cells.append("–")
                        elif m == "dm_sip":
                            cells.append(f"**{v[0]:.2f}**")
                        else:
                            cells.append(f"{v[0]:.2f}{'†' if v[4] else ''} ({ours / v[0]:.2f}×)")
                    L.append(f"| {w} | " + " | ".join(cells) + " |")
                L.append("")
                series = {LABEL[m]: [mops(W, w, t, m, s) for w in keys] for m in maps}
                p = P.bars(f"workloads_2e{s}_t{t}", f"2^{s} keys, {t} threads, 16 B keys / 64 B values", "Mop/s", keys, series)
                L.append(f"![2^{s} keys, {t} threads]({rel(p)})\n")
        # thread scaling plot for the C API vs peers on ReadHeavy/Exchange at the smallest size
        s0 = sizes[0]
        for w in ("ReadHeavy", "Exchange"):
            cats = [str(t) for t in threads if (w, t, 16, 64, s0, "dm_sip") in W]
            if len(cats) > 1:
                series = {LABEL[m]: [mops(W, w, int(t), m, s0) for t in cats] for m in maps}
                p = P.bars(f"scaling_{w}_2e{s0}", f"{w}, 2^{s0} keys: threads (2 cores)", "Mop/s", [f"{t} thr" for t in cats], series)
                L.append(f"![{w} scaling]({rel(p)})\n")

        sweep = sorted({(k[2], k[3]) for k in W if k[1] == 2 and k[4] == 14})
        if len(sweep) > 1:
            L.append("### Key and value sizes (2 threads, 2^14 keys)\n")
            for w in ("ReadHeavy", "Exchange"):
                L.append(f"**{w}** — Mop/s (C API SipHash ÷ map)\n")
                L.append("| key B | value B | " + " | ".join(LABEL[m] for m in maps) + " |")
                L.append("|---|---|" + "---|" * len(maps))
                for k, v in sweep:
                    base = W.get((w, 2, k, v, 14, "dm_sip"))
                    if not base:
                        continue
                    cells = []
                    for m in maps:
                        x = W.get((w, 2, k, v, 14, m))
                        cells.append("–" if not x else (f"**{x[0]:.2f}**" if m == "dm_sip" else f"{x[0]:.2f} ({base[0] / x[0]:.2f}×)"))
                    L.append(f"| {k} | {v} | " + " | ".join(cells) + " |")
                L.append("")
        if any(v[4] for v in W.values()):
            L.append("† some RapidGrow rounds of this map hit the time cap (max(2 s, 4 × run length)) and were cut "
                     "short; the figure is the throughput of the operations it completed. liburcu's rculfhash, created "
                     "with one bucket and `CDS_LFHT_AUTO_RESIZE`, grows through a background worker after RCU grace "
                     "periods; with concurrent removals on this loaded 2-core VM its resizes fell far behind the inserts "
                     "(chains of thousands of nodes). Pre-sized (all other workloads) it behaves normally.\n")
        errs = sum(v[3] for v in W.values()) + sum(v[3] for v in G.values())
        L.append(f"Operations that returned an unexpected result (a read miss on a present key, …), all maps, all runs: **{errs}**.\n")

    # ---------------------------------------------------------- shards ----
    if shard_rows:
        S = defaultdict(list)
        for r in shard_rows:
            S[(r["workload"], int(r["threads"]), int(r["shards"]), r["map"])].append(float(r["mops"]))
        S = {k: statistics.median(v) for k, v in S.items()}
        counts = sorted({k[2] for k in S})
        smaps = [m for m in ALL if any(k[3] == m for k in S)]
        L.append("## Shard count\n")
        L.append("Each shard is a reader-writer lock over its own table; every write, and every native dashmap read, "
                 "writes its shard's lock word (libdashmap's reads skip it while the shard's reader gate is open). "
                 "With few shards, two threads often hit the same lock's cache line, which then moves between the "
                 "cores on every operation. Mop/s (median) by shard count, 16 B keys, 64 B values, 2^14 keys, "
                 "libdashmap and native dashmap given the same count. dashmap's default is 4 × CPUs (8 on this 2-CPU "
                 "machine); libdashmap's is the same but at least 64, which costs an empty map about 15 KiB with its "
                 "gates (`dm_with_shards` / `dm_options.shards` choose fewer).\n")
        for w in ("ReadHeavy", "Exchange"):
            for t in sorted({k[1] for k in S if k[0] == w}):
                L.append(f"**{w}, {t} thread{'s' if t > 1 else ''}**\n")
                L.append("| shards | " + " | ".join(LABEL[m] for m in smaps) + " |")
                L.append("|---|" + "---|" * len(smaps))
                for n in counts:
                    L.append(f"| {n} | " + " | ".join(fmt(S.get((w, t, n, m))) for m in smaps) + " |")
                L.append("")
        cats = [str(n) for n in counts]
        series = {LABEL[m]: [S.get(("ReadHeavy", 2, n, m)) for n in counts] for m in smaps}
        p = P.bars("shards", "ReadHeavy, 2 threads: Mop/s by shard count", "Mop/s", cats, series)
        L.append(f"![shard count]({rel(p)})\n")

    # ---------------------------------------------------------- memory ----
    if mem:
        L.append("## Memory per entry\n")
        L.append("A map pre-sized for exactly *n* entries (`dm_options.capacity = n`, `reserve(n)` or the peer's "
                 "equivalent) is filled with *n* entries of 16 B keys and 64 B values in a fresh process; RSS delta "
                 "(`/proc/self/statm`) ÷ *n*. Raw = key + value = 80 B. For the C API, `dm_stats` reports the "
                 "stored key/value bytes (equal to raw: no padding counted) and the table capacity.\n")
        L.append("| Map | n | B/entry | × raw | dm_stats len | capacity | key_bytes | value_bytes |")
        L.append("|---|---|---|---|---|---|---|---|")
        for r in mem:
            st = r["map"] in OURS
            L.append(f"| {LABEL.get(r['map'], r['map'])} | {r['count']} | {float(r['bytes_per_entry']):.1f} | {float(r['ratio']):.2f}× | "
                     + (f"{r['stats_len']} | {r['stats_capacity']} | {r['stats_key_bytes']} | {r['stats_value_bytes']} |" if st else "– | – | – | – |"))
        L.append("")
        L.append("hashbrown keeps each shard's table at most 7/8 full and sizes it to a power of two, so 2^20 "
                 "entries over a power-of-two number of shards fill each table to 50%; with 917504 = 7/8·2^20 "
                 "entries the same tables are 7/8 full. The difference between the two rows is table slack, not "
                 "per-entry cost.\n")
        cats = [LABEL.get(r["map"], r["map"]) for r in mem if int(r["count"]) == 1 << 20]
        vals = [float(r["bytes_per_entry"]) for r in mem if int(r["count"]) == 1 << 20]
        if cats:
            p = P.bars("memory", "Bytes per entry, pre-sized map, 2^20 × (16 B key + 64 B value)", "bytes/entry",
                       [c.split(" ")[0] if len(c) > 14 else c for c in cats], {"RSS delta / entry": vals}, hline=160)
            L.append(f"![memory per entry]({rel(p)}) (dashed line: the 2.0× raw goal, 160 B)\n")

    # ----------------------------------------------------------- batch ----
    if batch:
        L.append("## Batches\n")
        L.append("65536 keys (16 B), 64 B values, map pre-sized; 1 and 2 threads, each thread calling for its own "
                 "share of the keys; ns of thread time per key (wall time × threads / keys; median of 11 runs, of 31 "
                 "with 2 threads, whose short runs one preempted thread stretches). Single = "
                 "one `dm_insert` / `dm_get_copy` / `dm_remove` call per key; single and batched runs alternate. "
                 "Keys are inserted in one random order and looked up or removed in another, independent one (in "
                 "insertion order, entries allocated one after the other would be read one after the other, and "
                 "the allocator's layout, not the call, would decide the result).\n")
        L.append("| Threads | Hasher | Batch op | Keys/batch | ns/key batched | ns/key single | Speedup |")
        L.append("|---|---|---|---|---|---|---|")
        for b in sorted(batch, key=threads_of):
            L.append(f"| {threads_of(b)} | {b['hasher']} | dm_{b['op']} | {b['batch']} | {float(b['ns_per_key']):.1f} | "
                     f"{float(b['single_ns_per_key']):.1f} | {float(b['speedup']):.2f}× |")
        L.append("")
        sizes_b = sorted({int(b["batch"]) for b in batch})
        speedup_at = lambda op, h, t, s: next((float(b["speedup"]) for b in batch if b["op"] == op and b["hasher"] == h
                                               and threads_of(b) == t and int(b["batch"]) == s), None)
        series = {f"{op} ({h})": [speedup_at(op, h, 1, s) for s in sizes_b]
                  for h in ("sip", "fast") for op in ("extend", "get_many", "remove_many")}
        p = P.bars("batch", "Batch speedup per key vs one call per key, 1 thread", "speedup (×)", [str(s) for s in sizes_b], series, hline=2.0)
        L.append(f"![batch speedup]({rel(p)}) (dashed line: the 2× goal)\n")

    # ------------------------------------------------------- allocator ----
    L += allocator_section(os.path.join(results, "allocator"))

    # ------------------------------------------------------- criterion ----
    if crit:
        L.append("## Rust criterion suite (`benches/maps.rs`)\n")
        L.append("The `dm_*` functions called from Rust (statically linked, LTO) against dashmap used natively "
                 "(with the C API's shard count) and "
                 "`HashMap`s behind std `RwLock`, parking_lot `RwLock` and std `Mutex`; SipHash-1-3 except `*_fast` "
                 "(foldhash). 2^14 16 B keys with 64 B values (+ 2^14 8-byte counters). Total Mop/s (all threads), "
                 "median. `insert` adds fresh keys (removed again untimed); `remove` removes present keys "
                 "(re-inserted untimed); `entry_update` is an upsert (native dashmap's `entry()` needs an owned, "
                 "allocated key); `add_i64` on 8-byte counters.\n")
        impls = [i for i in ["capi_sip", "capi_fast", "native_sip", "native_fast", "std_rwlock", "parking_lot_rwlock", "std_mutex"]
                 if any(r["impl"] == i for r in crit)]
        idx = {(r["op"], int(r["threads"]), r["impl"]): float(r["mops"]) for r in crit}
        L.append("| op | threads | " + " | ".join(impls) + " | capi_sip ÷ native_sip | capi_fast ÷ native_fast |")
        L.append("|---|---|" + "---|" * (len(impls) + 2))
        for op in ["get", "insert", "remove", "entry_update", "add_i64"]:
            for t in (1, 2):
                if (op, t, impls[0]) not in idx:
                    continue
                cells = [fmt(idx.get((op, t, i))) for i in impls]
                r1 = ratio(idx.get((op, t, "capi_sip")), idx.get((op, t, "native_sip")))
                r2 = ratio(idx.get((op, t, "capi_fast")), idx.get((op, t, "native_fast")))
                L.append(f"| {op} | {t} | " + " | ".join(cells) + f" | {fmt(r1)}× | {fmt(r2)}× |")
        L.append("")
        ops = ["get", "insert", "remove", "entry_update", "add_i64"]
        series = {i: [idx.get((op, 1, i)) for op in ops] for i in impls}
        p = P.bars("criterion_1t", "criterion, 1 thread: Mop/s", "Mop/s", ops, series)
        L.append(f"![criterion 1 thread]({rel(p)})\n")

    prof = read_csv(os.path.join(results, "profile.csv"))
    if prof:
        L.append("## Instructions per operation (callgrind)\n")
        L.append("Noise-free cost of one call: `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=FN "
                 "dmbench profile --map M --op OP --count 20000` (single thread, pre-sized map of 20000 16 B keys "
                 "with 64 B values, keys in insertion order); instructions counted only inside FN, divided by the "
                 "number of calls (batch rows: per key, 256 keys per call). Native dashmap is the floor the C layer "
                 "is measured against.\n")
        pi = {(r["map"], r["op"]): int(r["ir_per_op"]) for r in prof}
        L.append("| op | C API (SipHash) | native (SipHash) | C ÷ native | C API (fast) | native (foldhash) | C ÷ native |")
        L.append("|---|---|---|---|---|---|---|")
        for op, fn in (("get", "dm_get_copy"), ("insert", "dm_insert"), ("remove", "dm_remove"), ("update", "dm_entry_update")):
            a, b, c, d = pi.get(("dm_sip", op)), pi.get(("native_sip", op)), pi.get(("dm_fast", op)), pi.get(("native_fast", op))
            L.append(f"| {op} (`{fn}`) | {a or '–'} | {b or '–'} | {fmt(ratio(a, b))}× | {c or '–'} | {d or '–'} | {fmt(ratio(c, d))}× |")
        for op, single in (("extend", "insert"), ("get_many", "get"), ("remove_many", "remove")):
            if ("dm_sip", op) in pi:
                L.append(f"| dm_{op}, per key | {pi[('dm_sip', op)]} | – | – | – | – | – |")
        L.append("")

    L.append("## Reproducing\n")
    L.append("```sh\nmake bench                 # default matrix (~10-15 min on 2 cores) + quick criterion run\n"
             "make bench-rust            # criterion suite alone, full settings (1 s warm-up, 2 s measurement)\n"
             "BENCH_FULL=1 make bench    # every workload x threads x key size x value size x 2^14/2^20 (hours)\n"
             "BENCH_FULL=1 BENCH_HUGE=1 make bench   # ... and 2^24 entries\n"
             "BENCH_PARTS=alloc scripts/bench.sh c   # only the entry allocator comparison (+ report)\n"
             "scripts/bench.sh report    # rebuild this file and the plots from bench/results/*.csv\n```\n")
    L.append("Single configurations: `build/bench/cmake/dmbench workload --workload Exchange --threads 2 --key 16 "
             "--value 64 --log2 14 --maps dm_sip,tbb --runs 5 --ms 500 --csv /tmp/x.csv`; profiling: "
             "`valgrind --tool=callgrind --collect-atstart=no --toggle-collect=dm_get_copy build/bench/cmake/dmbench "
             "profile --map dm_fast --op get --count 20000`.\n")
    with open(md_path, "w") as f:
        f.write("\n".join(L))
    print(f"wrote {md_path} ({'matplotlib' if P.plt else 'hand-written SVG'} plots in {plots_dir})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default="bench/results")
    ap.add_argument("--md", default="BENCHMARKS.md")
    ap.add_argument("--collect-criterion")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.collect_criterion:
        collect_criterion(a.collect_criterion, a.out)
    else:
        report(a.results, a.md)


if __name__ == "__main__":
    main()
