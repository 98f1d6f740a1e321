"""Latency of `gob check --watch`: from a file's save to the cycle's end (its
`gob-watch-cycle` event, printed after the last result line), median of N saves, on the
wide preset generated at a scale that gives >= 250 packages; and a no-op `gob check`
(nothing changed: remembered, and with --force, go's own no-op) on the same tree, and a one-shot warm `gob check` after the same deep
edit, side by side. Writes bench/results-watch.json; bench/render.py puts it in
BENCHMARKS.md.

With target/tools/gotestsum (gotest.tools/gotestsum, built from the Go module proxy), the
same saves also go to `gob test --watch` and `gotestsum --watch` side by side: latency to the
end of the tests each runs, how many packages each tested, and whether each caught a save
that breaks the packages importing a deep library (not the library's own tests).

usage: python3 bench/watch.py [--scale 50] [--saves 10] [--gob target/release/gob] [--scratch DIR]
"""

import argparse
import itertools
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
    """A running `gob check|test --watch --json`, its cycle events as they come."""

    def __init__(self, gob, ws, command="check"):
        self.proc = subprocess.Popen(
            [gob, command, "--watch", "--json"], cwd=ws, env=env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self.events = []
        self.tested = set()
        self.cond = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self.cond:
                if event.get("Action") in ("pass", "fail") and not event.get("Test"):
                    self.tested.add(event.get("Package"))
                if event.get("Action") == "gob-watch-cycle":
                    event["Tested"] = sorted(self.tested)
                    self.tested = set()
                    self.events.append((time.monotonic(), event))
                    self.cond.notify_all()

    def after(self, moment, limit=600):
        """The first run that ended after `moment`, then waits until none ends for 0.5 s (a
        tool that runs once per file event ends several runs per save)."""
        with self.cond:
            if not self.cond.wait_for(lambda: any(t > moment for t, _ in self.events), timeout=limit):
                raise SystemExit(f"no run ended within {limit}s of a save")
            first = next((t, e) for t, e in self.events if t > moment)
        while True:
            seen = len(self.events)
            time.sleep(0.5)
            if len(self.events) == seen:
                return first

    def wait(self, count, limit=600):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.events) >= count, timeout=limit):
                raise SystemExit(f"no cycle {count} within {limit}s")
            return self.events[count - 1]

    def quit(self):
        self.proc.stdin.write("q\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=60)


class Gotestsum:
    """A running `gotestsum --watch`: each run's end (its DONE line) and the packages it ran."""

    def __init__(self, binary, ws):
        self.proc = subprocess.Popen(
            [binary, "--format", "standard-quiet", "--watch"], cwd=ws, env=env(),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.events = []
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip())
                if line.startswith("DONE"):
                    ran = [l for l in self.lines if l.startswith(("ok ", "FAIL\t"))]
                    failed = "failure" in line or "error" in line or any(l.startswith("FAIL") for l in self.lines)
                    self.events.append((time.monotonic(), {"Result": "failed" if failed else "passed", "Tested": ran, "Lines": self.lines}))
                    self.lines = []
                    self.cond.notify_all()

    after = Watch.after

    def quit(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


EDITS = itertools.count(1)


def edit(path, n):
    """A save that changes what go compiles: a new exported constant."""
    with open(path, "a") as f:
        f.write(f"\n// Edit {n}.\nconst WatchEdit{n} = {n}\n")


def edit_test(path, n):
    with open(path, "a") as f:
        f.write(f"\nfunc TestWatchEdit{n}(t *testing.T) {{ _ = {n} }}\n")


def latencies(watch, path, saves, how, count=None):
    out, affected = [], None
    for _ in range(saves):
        time.sleep(0.3)  # apart from the last cycle, as a person saves
        saved = time.monotonic()
        how(path, next(EDITS))
        ended, event = watch.after(saved)
        if event["Result"] != "passed":
            raise SystemExit(f"cycle failed: {event}")
        out.append(ended - saved)
        affected = count(event) if count else sum(len(v) for v in event["Affected"].values())
    return out, affected


def caught(watch, path):
    """Saves a change that breaks the importers of `path` (not its own tests): whether the
    run that follows fails; then puts the file back and waits for that run too."""
    with open(path) as f:
        text = f.read()
    saved = time.monotonic()
    with open(path, "w") as f:
        f.write(text.replace("func Score2(n int) float64 {", "func Score2(n, m int) float64 {"))
    _, event = watch.after(saved)
    saved = time.monotonic()
    with open(path, "w") as f:
        f.write(text)
    watch.after(saved)
    return event["Result"] != "passed"


def side_by_side(gob, gotestsum, ws, saves, files):
    """gob test --watch and gotestsum --watch over the same saves."""
    rows = []
    for name, tool in (("gob test --watch", lambda: Watch(gob, ws, "test")), ("gotestsum --watch", lambda: Gotestsum(gotestsum, ws))):
        watch = tool()
        if name.startswith("gob"):
            watch.wait(1)
            count = lambda e: len(e["Tested"])
        else:
            time.sleep(3)
            count = lambda e: len(e["Tested"])
        for label, path, how in files:
            samples, n = latencies(watch, path, saves, how, count)
            rows.append(summary(f"{name}: {label}", samples, affected=n))
        hit = caught(watch, files[-1][1])
        rows.append({"name": f"{name}: caught a deep save that breaks only its importers", "caught": hit})
        print(f"{name}: caught the breaking deep save: {hit}", flush=True)
        watch.quit()
    return rows


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

    # Files written less than 2 s before a check are not trusted by their times: a pass is
    # remembered once the tree has settled.
    time.sleep(2.2)
    rows = [
        summary("no-op gob check (nothing changed: the last pass remembered)", timed([a.gob, "check"], ws, a.saves), goal=1.5),
        summary("no-op gob check --force (go vets and compiles, all cached)", timed([a.gob, "check", "--force"], ws, a.saves), goal=1.5),
    ]
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
    def deep_edit(_):
        edit(deep, next(EDITS))

    rows.append(summary("one-shot warm gob check after the same deep save", timed([a.gob, "check"], ws, a.saves, deep_edit)))
    gotestsum = os.path.join(REPO, "target", "tools", "gotestsum")
    compared = []
    if os.path.exists(gotestsum):
        files = [("save a test file", test_file, edit_test), ("save a leaf library", leaf, edit), ("save a deep library", deep, edit)]
        compared = side_by_side(a.gob, gotestsum, ws, a.saves, files)
    report = {
        "preset": "watch",
        "workload": f"wide preset at scale {a.scale}: {packages} packages ({info['library_packages']} libraries, {info['integ_packages']} integration test packages)",
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "rows": rows,
        "compared": compared,
    }
    with open(os.path.join(REPO, "bench", "results-watch.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    import render  # noqa: E402

    render.write_all(REPO)


if __name__ == "__main__":
    main()
