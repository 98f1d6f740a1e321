"""Latency of `gob check --watch`: from a file's save to the cycle's end (its
`gob-watch-cycle` event, printed after the last result line), median of N saves, on the
wide preset generated at a scale that gives >= 250 packages; and a no-op `gob check`
(nothing changed) on the same tree, and a one-shot warm `gob check` after the same deep
edit, side by side. Writes bench/results-watch.json; bench/render.py puts it in
BENCHMARKS.md.

usage: python3 bench/watch.py [--scale 50] [--saves 10] [--gob target/release/gob] [--scratch DIR]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import gen  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def env():
    e = dict(os.environ, GOTOOLCHAIN="local", GOPROXY="off", GOFLAGS="", NO_COLOR="1")
    e.pop("GOMAXPROCS", None)
    return e


class Watch:
    """A running `gob check --watch --json`, its cycle events as they come."""

    def __init__(self, gob, ws):
        self.proc = subprocess.Popen(
            [gob, "check", "--watch", "--json"], cwd=ws, env=env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self.events = []
        self.cond = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("Action") == "gob-watch-cycle":
                with self.cond:
                    self.events.append((time.monotonic(), event))
                    self.cond.notify_all()

    def wait(self, count, limit=600):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.events) >= count, timeout=limit):
                raise SystemExit(f"no cycle {count} within {limit}s")
            return self.events[count - 1]

    def quit(self):
        self.proc.stdin.write("q\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=60)


def edit(path, n):
    """A save that changes what go compiles: a new exported constant."""
    with open(path, "a") as f:
        f.write(f"\n// Edit {n}.\nconst WatchEdit{n} = {n}\n")


def edit_test(path, n):
    with open(path, "a") as f:
        f.write(f"\nfunc TestWatchEdit{n}(t *testing.T) {{ _ = {n} }}\n")


def latencies(watch, path, saves, how):
    out, affected = [], None
    for _ in range(saves):
        before = len(watch.events)
        time.sleep(0.3)  # apart from the last cycle, as a person saves
        saved = time.monotonic()
        how(path, before)
        ended, event = watch.wait(before + 1)
        if event["Result"] != "passed":
            raise SystemExit(f"cycle failed: {event}")
        out.append(ended - saved)
        affected = sum(len(v) for v in event["Affected"].values())
    return out, affected


def timed(cmd, ws, runs, before=None):
    out = []
    for n in range(runs):
        if before:
            before(n)
        start = time.monotonic()
        subprocess.run(cmd, cwd=ws, env=env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append(time.monotonic() - start)
    return out


def summary(name, samples, goal=None, affected=None):
    row = {"name": name, "median": statistics.median(samples), "min": min(samples), "samples": samples}
    if goal is not None:
        row["goal"] = goal
    if affected is not None:
        row["affected"] = affected
    print(f"{name}: median {row['median']:.2f} s, min {row['min']:.2f} s" + (f" (goal {goal} s)" if goal else ""), flush=True)
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=int, default=50)
    p.add_argument("--saves", type=int, default=10)
    p.add_argument("--gob", default=os.path.join(REPO, "target", "release", "gob"))
    p.add_argument("--scratch")
    a = p.parse_args()
    scratch = a.scratch or tempfile.mkdtemp(prefix="gob-watch-bench-")
    ws = os.path.join(scratch, "ws")
    info = gen.generate("wide", a.scale, ws)
    listed = subprocess.run(["go", "list", "-tags", "integ", "./..."], cwd=ws, env=env(), capture_output=True, text=True, check=True)
    packages = len(listed.stdout.split())
    print(f"wide preset, scale {a.scale}: {packages} packages", flush=True)
    subprocess.run([a.gob, "check"], cwd=ws, env=env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    rows = [summary("no-op gob check (nothing changed)", timed([a.gob, "check"], ws, a.saves), goal=1.5)]
    lib = lambda layer, i: os.path.join(ws, "internal", gen.lib_name(layer, i))
    test_file = os.path.join(lib(1, 5), gen.lib_name(1, 5) + "_test.go")
    leaf = os.path.join(lib(gen.LAYERS - 1, 7), gen.lib_name(gen.LAYERS - 1, 7) + "_0.go")
    deep = os.path.join(lib(0, 0), gen.lib_name(0, 0) + "_0.go")

    watch = Watch(a.gob, ws)
    watch.wait(1)
    samples, n = latencies(watch, test_file, a.saves, edit_test)
    rows.append(summary("watch: save a test file → its check", samples, goal=1.0, affected=n))
    samples, n = latencies(watch, leaf, a.saves, edit)
    rows.append(summary("watch: save a leaf library → check of it and its dependents", samples, goal=1.5, affected=n))
    samples, n = latencies(watch, deep, a.saves, edit)
    rows.append(summary("watch: save a deep library → check of it and its dependents", samples, affected=n))
    watch.quit()
    counter = [10_000]

    def deep_edit(_):
        counter[0] += 1
        edit(deep, counter[0])

    rows.append(summary("one-shot warm gob check after the same deep save", timed([a.gob, "check"], ws, a.saves, deep_edit)))
    report = {
        "preset": "watch",
        "workload": f"wide preset at scale {a.scale}: {packages} packages ({info['library_packages']} libraries, {info['integ_packages']} integration test packages)",
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "rows": rows,
    }
    with open(os.path.join(REPO, "bench", "results-watch.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    import render  # noqa: E402

    render.write_all(REPO)


if __name__ == "__main__":
    main()
