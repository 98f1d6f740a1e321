#!/usr/bin/env python3
"""gob's benchmark harness: gob against what a Makefile would run, side by side.

One command regenerates everything:  python3 bench/bench.py
It builds gob (release), generates a workspace (bench/gen.py), runs every scenario with its
variants interleaved (each round runs every variant once, in a rotating order) and repeated,
and writes bench/results-<preset>.json, then BENCHMARKS.md and bench/chart-<preset>.svg from
every results file present (so the presets can be rerun separately).

  --preset synthetic|realistic   workspace shape (see bench/gen.py)
  --scale N                      size (synthetic 45 ≈ a 30s cold build on 2 cores)
  --rounds N                     repetitions per variant (min and median are reported)
  --scenarios 1,2,3,4,5          which scenarios
  --check                        tiny and fast: checks the harness works, writes to a temp dir

Scenarios (each against what a Makefile would do):
  1 cold build: gob build vs one go build per binary in sequence, vs parallel processes,
    vs the hand-written go build -o dir/ calls (one call per collision-free group)
  2 cold integration tests: gob test --integ vs go test -p 1 -tags integ, vs the study's
    precompile-then-run script (go test -c -o dir/ per collision-free group, then each binary)
  3 gob check vs go test -exec=true ./... (+ -tags integ), both with go test's default vet
    checks, cold, and warm after a one-line change in a deep package
  4 no-op: everything cached, gob build vs the hand-written go build calls
  5 in a cgroup limited to 1 CPU: cold gob build vs the hand-written calls, with the
    installed Go and with Debian's Go 1.19 (not cgroup-aware)
  6 remote cache (bazel-remote on loopback, target/tools/bazel-remote): cold gob build without
    a remote, cold while uploading to an empty remote, and with a fresh local cache against a
    warm remote (another machine's CI run)
  7 the cacheprog's overhead on a warm local cache: no-op gob build with go's own cache vs
    through gob cacheprog (remote configured and up)

  8 remote execution: an integration suite of slow tests on this machine (one binary at a
    time) against two Buildbarn workers on the same machine (bench/remote_exec.py)
  9 --since REF after a one-line change in a deep package: the first run (the base's tree
    written and listed), the second (its listing cached), against go's listing of the work
    tree alone (run with --scenarios 9; it makes the workspace a git repository)

  10 tasks: a no-op `gob run` of an up-to-date chain of 3 tasks over 1,000 source files,
    against gob's own start (a task with nothing to check)
  11 a 4-platform build (linux/amd64, linux/arm64, darwin/arm64, windows/amd64) in one gob
    call against the 4 `GOOS=… go build` calls a Makefile runs one after another, cold

  --preset example runs scenarios 6 and 7 (and 10, 11 when asked) on the example workspace
  (examples/mesh);
  --preset remote runs scenario 8 on its own generated module.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import socket
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen  # noqa: E402
import remote_exec  # noqa: E402

OLD_GO = "/usr/lib/go-1.19/bin/go"
BAZEL_REMOTE = os.path.join(REPO, "target", "tools", "bazel-remote")
CGROUP_V1 = "/sys/fs/cgroup/cpu"


def sh(cmd, cwd, env, check=True):
    """Runs a shell command; returns (seconds, exit code)."""
    start = time.perf_counter()
    p = subprocess.run(cmd, shell=True, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if check and p.returncode != 0:
        raise SystemExit(f"benchmark command failed ({p.returncode}): {cmd}\n{p.stderr.decode()[-3000:]}")
    return elapsed, p.returncode


class Bench:
    def __init__(self, ws, gob, rounds, scratch, integ_dirs):
        self.ws = ws
        self.integ_dirs = integ_dirs
        self.gob = gob
        self.rounds = rounds
        self.scratch = scratch
        # Modules were fetched by the generator: the timed part is offline.
        self.base_env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-buildvcs=false", GOPROXY="off", NO_COLOR="1", CI="true")
        for k in ("GOMAXPROCS", "GOB_JOBS", "GOB_GO", "GOCACHE", "GOCACHEPROG", "GOB_REMOTE_CACHE", "GOB_CACHE_DIR"):
            self.base_env.pop(k, None)
        self.warm_cache = os.path.join(scratch, "warm-cache")
        # The remote preset's module has no binaries: nothing to plan.
        self.calls = self.planned_calls() if integ_dirs is not None else []

    def env(self, cache=None, go=None):
        env = dict(self.base_env)
        env["GOCACHE"] = cache or self.warm_cache
        if go:
            env["PATH"] = os.path.dirname(go) + os.pathsep + env["PATH"]
            env["GOB_GO"] = go
        return env

    def fresh_cache(self):
        path = tempfile.mkdtemp(prefix="cache-", dir=self.scratch)
        return path

    def clean_outputs(self):
        for d in ("bin", ".gob", "out"):
            shutil.rmtree(os.path.join(self.ws, d), ignore_errors=True)

    def planned_calls(self):
        """gob's own plan (--dry-run) as the hand-written Makefile calls: the best a person
        who knows about name collisions would write."""
        out = subprocess.run([self.gob, "build", "--dry-run"], cwd=self.ws, env=self.base_env, capture_output=True, text=True, check=True).stdout
        calls = []
        for line in out.splitlines():
            if line.startswith("cd "):
                cmd = line.split(" && ", 1)[1]
                # GOMAXPROCS is gob's addition; a Makefile does not set it.
                cmd = " ".join(w for w in cmd.split(" ") if not w.startswith("GOMAXPROCS="))
                calls.append(cmd.replace(".gob/build/", "out/"))
        return calls

    def binaries(self):
        return [(path, name) for path, name in gen.BINARIES]

    def measure(self, variants):
        """variants: list of (name, prepare() -> env, command). Interleaved rounds."""
        times = {name: [] for name, _, _ in variants}
        for r in range(self.rounds):
            order = variants[r % len(variants):] + variants[: r % len(variants)]
            for name, prepare, command in order:
                env = prepare()
                t, _ = sh(command, self.ws, env)
                times[name].append(t)
                print(f"    {name}: {t:.2f}s", flush=True)
        return [
            {"variant": name, "times": ts, "min": min(ts), "median": statistics.median(ts)}
            for name, ts in times.items()
        ]

    def cold(self, go=None):
        def prepare():
            self.clean_outputs()
            return self.env(cache=self.fresh_cache(), go=go)
        return prepare

    def warm_everything(self):
        env = self.env()
        sh(f"{self.gob} build", self.ws, env)
        sh(" && ".join(f"mkdir -p out && {c}" for c in self.calls), self.ws, env)

    # Scenarios -----------------------------------------------------------------------

    def scenario_build(self, go=None, wrap=lambda c: c):
        bins = self.binaries()
        sequential = " && ".join(f"go build -o bin/{name} ./{path}" for path, name in bins)
        parallel = "mkdir -p bin && " + " ".join(
            f"(go build -o bin/{name} ./{path} || echo fail > out.fail) &" for path, name in bins
        ) + " wait; test ! -e out.fail"
        single = "mkdir -p out && " + " && ".join(self.calls)
        gob = f"{self.gob} build"
        prep = self.cold(go)
        return [
            ("gob build", prep, wrap(gob)),
            ("go build per binary, sequential", prep, wrap(sequential)),
            ("go build per binary, parallel processes", prep, wrap(parallel)),
            ("hand-written go build -o dir/ calls", prep, wrap(single)),
        ]

    def scenario_integ(self):
        # The study's script: `go test -c -o dir/` over packages with the colliding ones split
        # off by hand (one call per group, many packages each), then each binary alone.
        groups = []
        for d in self.integ_dirs:
            name = os.path.basename(d)
            group = next((g for g in groups if all(os.path.basename(x) != name for x in g)), None)
            if group is None:
                group = []
                groups.append(group)
            group.append(d)
        compile_calls = " && ".join(
            f"mkdir -p out/g{i} && go test -c -tags integ -o out/g{i}/ " + " ".join(f"./{d}" for d in g)
            for i, g in enumerate(groups)
        )
        runs = " && ".join(
            f"(cd {d} && {self.ws}/out/g{i}/{os.path.basename(d)}.test -test.v=true >/dev/null)"
            for i, g in enumerate(groups) for d in g
        )
        precompile = f"{compile_calls} && {runs}"
        prep = self.cold()
        return [
            ("gob test --integ", prep, f"{self.gob} test --integ"),
            ("go test -p 1 -tags integ", prep, "go test -p 1 -count=1 -tags integ ./integ/..."),
            ("precompile-then-run script", prep, precompile),
            # The bound: go's own one-invocation parallel compile of the same packages (default
            # -p, vet as go test does it), running no test; add the serial run time to it.
            ("go test -run '^$' (go's parallel compile, no test run)", prep,
             "go test -count=1 -run '^$' -tags integ ./integ/..."),
        ]

    def scenario_cover(self, warm):
        """The cost of coverage on integration tests: the same gob run with and without one
        merged profile (every binary built with -cover, each run writing a fragment, merged
        at the end), beside go's own serial run writing a profile."""
        if warm:
            self.warm_everything()
            sh(f"{self.gob} test --integ --coverprofile {self.scratch}/warmup.out", self.ws, self.env())
            prep = self.env
        else:
            prep = self.cold()
        when = "warm" if warm else "cold"
        return [
            (f"gob test --integ ({when})", prep, f"{self.gob} test --integ"),
            (f"gob test --integ --coverprofile ({when})", prep,
             f"{self.gob} test --integ --coverprofile {self.scratch}/gob.out"),
            (f"go test -p 1 -tags integ -coverprofile ({when})", prep,
             f"go test -p 1 -count=1 -tags integ -coverprofile={self.scratch}/go.out ./integ/..."),
        ]

    def scenario_unit(self, patterns):
        """Unit tests, the build cache warm and the test cache off on both sides (-count=1):
        gob gives go test the packages longest first by history (a run first records it), a
        Makefile's go test gets them in import path order."""
        sh(f"{self.gob} test -- -count=1", self.ws, self.env())
        return [
            ("gob test (longest first by history)", self.env, f"{self.gob} test -- -count=1"),
            ("go test (import path order)", self.env, f"go test -count=1 {patterns}"),
        ]

    def scenario_check(self, warm):
        # go test's default vet checks on both sides: gob check runs them too (the suites'
        # vet setting is the default).
        plain = "go test -exec=true -count=1 ./internal/... ./cmd/... ./svc/... ./tools/... && go test -exec=true -count=1 -tags integ ./integ/..."
        # The bound the issue set for a cold check: go vet of the same packages (its default
        # checks; it compiles no test binary, so it cannot fail what only the compiler rejects).
        vet = "go vet ./internal/... ./cmd/... ./svc/... ./tools/... && go vet -tags integ ./integ/..."
        deep = os.path.join(self.ws, "internal", gen.lib_name(0, 0), gen.lib_name(0, 0) + "_0.go")
        counter = [0]

        def prepare():
            if not warm:
                return self.env(cache=self.fresh_cache())
            counter[0] += 1
            with open(deep, "a") as f:
                f.write(f"\n// Change {counter[0]}.\nconst Change{counter[0]} = {counter[0]}\n")
            return self.env()

        return [
            (f"gob check ({'warm, after a change' if warm else 'cold'})", prepare, f"{self.gob} check"),
            (f"go test -exec=true ({'warm, after a change' if warm else 'cold'})", prepare, plain),
            (f"go vet ({'warm, after a change' if warm else 'cold'})", prepare, vet),
        ]

    def scenario_since(self):
        """--since on the whole tree after a one-line change in a deep package (uncommitted):
        the first run writes the base's tree and lists it there, later runs find that listing
        cached; the bound is go's listing of the work tree alone (what --since needed before
        it compared both sides)."""
        self.warm_everything()
        git = "git -c user.name=bench -c user.email=bench@example.com"
        if not os.path.isdir(os.path.join(self.ws, ".git")):
            with open(os.path.join(self.ws, ".gitignore"), "w") as f:
                f.write("/.gob/\n/bin/\n/out/\n")
            sh(f"git init -q -b main && {git} add -A && {git} commit -q -m base", self.ws, self.env())
        deep = os.path.join(self.ws, "internal", gen.lib_name(0, 0), gen.lib_name(0, 0) + "_0.go")
        with open(deep, "a") as f:
            f.write("\n// An edit since the base.\nconst EditedSinceBase = 1\n")
        since_dir = os.path.join(self.ws, ".gob", "since")
        patterns = "./internal/... ./cmd/... ./svc/... ./tools/..."

        def first():
            shutil.rmtree(since_dir, ignore_errors=True)
            return self.env()

        def cached():
            return self.env()

        cached()
        sh(f"{self.gob} affected --since HEAD", self.ws, self.env())
        fields = "ImportPath,Dir,Imports,GoFiles,EmbedFiles,TestGoFiles,XTestGoFiles,Module,Error"
        return [
            ("gob affected --since HEAD (first run: the base's tree written and listed)", first,
             f"{self.gob} affected --since HEAD"),
            ("gob affected --since HEAD (second run: the base's listing cached)", cached,
             f"{self.gob} affected --since HEAD"),
            ("go list -deps -test of the work tree (the bound: one listing)", cached,
             f"go list -e -deps -test -json={fields} {patterns} > /dev/null"),
        ]

    def scenario_noop(self):
        self.warm_everything()
        single = "mkdir -p out && " + " && ".join(self.calls)
        return [
            ("gob build (no-op)", self.env, f"{self.gob} build"),
            ("hand-written go build calls (no-op)", self.env, single),
        ]


class RemoteCache:
    """A bazel-remote on loopback with its own empty dir; restart() empties it."""

    def __init__(self, scratch):
        self.scratch = scratch
        self.proc = None
        self.url = None

    def restart(self):
        self.stop()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        data = tempfile.mkdtemp(prefix="remote-", dir=self.scratch)
        self.proc = subprocess.Popen(
            [BAZEL_REMOTE, "--dir", data, "--max_size", "5", "--grpc_address", "none",
             "--http_address", f"127.0.0.1:{port}", "--access_log_level", "none"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("bazel-remote did not start")
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def remote_scenarios(b, scratch):
    """Scenarios 6 and 7: (title, variants) pairs, and the servers to stop afterwards."""
    gob = f"{b.gob} build"
    warm, empty = RemoteCache(scratch), RemoteCache(scratch)
    warm.restart()
    env = b.env(cache=b.fresh_cache())
    env["GOB_REMOTE_CACHE"] = warm.url
    b.clean_outputs()
    sh(gob, b.ws, env)  # another machine's run fills the remote

    def cold(url_of=None):
        def prepare():
            b.clean_outputs()
            env = b.env(cache=b.fresh_cache())
            if url_of:
                env["GOB_REMOTE_CACHE"] = url_of()
            return env
        return prepare

    remote_cold = [
        ("gob build, cold, no remote cache", cold(), gob),
        ("gob build, cold, uploading to an empty remote", cold(empty.restart), gob),
        ("gob build, fresh local cache, warm remote", cold(lambda: warm.url), gob),
    ]
    # Warm local caches for both no-op variants (the cacheprog's store lives in GOCACHE).
    plain_cache, prog_cache = b.fresh_cache(), b.fresh_cache()
    sh(gob, b.ws, b.env(cache=plain_cache))
    prog_env = b.env(cache=prog_cache)
    prog_env["GOB_REMOTE_CACHE"] = warm.url
    sh(gob, b.ws, prog_env)
    noop = [
        ("gob build (no-op), go's own cache", lambda: b.env(cache=plain_cache), gob),
        ("gob build (no-op), through gob cacheprog", lambda: prog_env, gob),
    ]
    return remote_cold, noop, (warm, empty)


def task_scenarios(b, scratch):
    """Scenarios 10 and 11 on the example workspace: the no-op cost of an up-to-date chain of
    three tasks over 1,000 source files, against a gob run of a task with nothing to check (gob's
    own start: manifest, go env, budget); and a four-platform build in one gob call against the
    four `GOOS=… go build` calls a Makefile runs one after another, cold."""
    api = os.path.join(b.ws, "bench-api")
    os.makedirs(api, exist_ok=True)
    for i in range(1000):
        with open(os.path.join(api, f"f{i:04}.proto"), "w") as f:
            f.write(f"message M{i} {{ int32 x = 1; }}\n")
    platforms = ["linux/amd64", "linux/arm64", "darwin/arm64", "windows/amd64"]
    manifest = os.path.join(b.ws, "gobuild.toml")
    with open(manifest) as f:
        text = f.read()
    text = text.replace("[build]\n", "[build]\nplatforms = [" + ", ".join(f'"{p}"' for p in platforms) + "]\n", 1)
    text += (
        '\n[task.nothing]\nrun = "true"\n'
        '\n[task.tools]\nrun = "mkdir -p bench-gen && touch bench-gen/tools.stamp"\nsources = ["bench-api/f000*.proto"]\noutputs = ["bench-gen/tools.stamp"]\n'
        '\n[task.proto]\nrun = "cat bench-api/*.proto > bench-gen/all.pb"\nsources = ["bench-api/**/*.proto"]\noutputs = ["bench-gen/all.pb"]\ndeps = ["tools"]\n'
        '\n[task.generate]\nrun = "wc -l bench-gen/all.pb > bench-gen/count.txt"\nsources = ["bench-gen/all.pb"]\noutputs = ["bench-gen/count.txt"]\ndeps = ["proto"]\n'
    )
    with open(manifest, "w") as f:
        f.write(text)
    sh(f"{b.gob} run generate", b.ws, b.env())
    noop = [
        ("gob run generate (3 tasks up to date, 1,000 sources)", b.env, f"{b.gob} run generate"),
        ("gob run nothing (gob's own start)", b.env, f"{b.gob} run nothing"),
    ]
    # The same calls gob plans (per platform, the example's two mains named `server` in two
    # calls), as a Makefile writes them: GOOS/GOARCH set, one after another.
    makefile = "mkdir -p out && " + " && ".join(b.planned_calls())

    def cold():
        b.clean_outputs()
        return b.env(cache=b.fresh_cache())

    cross = [
        ("gob build (4 platforms, one gob call)", cold, f"{b.gob} build"),
        ("4 GOOS=… go build calls, one after another", cold, makefile),
    ]
    return noop, cross


def skewed_workspace(out):
    """The skewed preset: six test packages of 1 s and one of 6 s that sorts last by import
    path (the shape issue 31 measured: 10.2 s in go test's order, 8.2 s longest first)."""
    os.makedirs(out)
    with open(os.path.join(out, "go.mod"), "w") as f:
        f.write("module skewed\n\ngo 1.21\n")
    packages = [(f"p{i}", 1000) for i in range(1, 7)] + [("zz", 6000)]
    for name, ms in packages:
        d = os.path.join(out, "pkg", name)
        os.makedirs(d)
        with open(os.path.join(d, f"{name}_test.go"), "w") as f:
            f.write(f"package {name}\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\n"
                    f"func TestWork(t *testing.T) {{ time.Sleep({ms} * time.Millisecond) }}\n")
    with open(os.path.join(out, "gobuild.toml"), "w") as f:
        f.write('[test.unit]\npackages = ["./pkg/..."]\n')
    return {"preset": "skewed", "packages": len(packages), "seconds": [ms / 1000 for _, ms in packages]}


def example_workspace(out):
    """A copy of examples/mesh with the repository's manifest pointed at it."""
    shutil.copytree(os.path.join(REPO, "examples", "mesh"), out, ignore=shutil.ignore_patterns("bin", ".gob"))
    with open(os.path.join(REPO, "gobuild.toml")) as f:
        text = f.read().replace('dir = "examples/mesh"', 'dir = "."')
    with open(os.path.join(out, "gobuild.toml"), "w") as f:
        f.write(text)
    return {"preset": "example", "binaries": 5}


def cgroup_wrapper():
    """A function wrapping a command to run in a 1-CPU cgroup, or None where impossible."""
    if os.geteuid() != 0 or not os.path.exists(os.path.join(CGROUP_V1, "cpu.cfs_quota_us")):
        return None, "needs root and a cgroup v1 cpu controller"
    path = os.path.join(CGROUP_V1, "gob-bench")
    try:
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "cpu.cfs_period_us"), "w") as f:
            f.write("100000")
        with open(os.path.join(path, "cpu.cfs_quota_us"), "w") as f:
            f.write("100000")
    except OSError as e:
        return None, f"cannot create a cgroup: {e}"
    procs = os.path.join(path, "cgroup.procs")
    return (lambda c: f"sh -c 'echo $$ > {procs} && exec sh -c \"$0\"' '{c}'"), None


def machine():
    cpus = os.cpu_count()
    go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": cpus, "cpu": model, "os": f"{platform.system()} {platform.release()}", "go": go,
            "old_go": subprocess.run([OLD_GO, "version"], capture_output=True, text=True).stdout.strip() if os.path.exists(OLD_GO) else None}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=["synthetic", "realistic", "wide", "example", "remote", "skewed"], default="synthetic")
    p.add_argument("--scale", type=int, default=45)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--scenarios", default=None, help="default 1-7 (6,7 for --preset example)")
    p.add_argument("--check", action="store_true")
    p.add_argument("--out", default=REPO, help="where BENCHMARKS.md goes (bench/ files beside it)")
    a = p.parse_args()
    if a.check:
        a.scale, a.rounds = 1, 1
    scratch = tempfile.mkdtemp(prefix="gob-bench-")
    out_dir = tempfile.mkdtemp(prefix="gob-bench-out-") if a.check else a.out
    try:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
        gob = os.path.join(REPO, "target", "release", "gob")
        ws = os.path.join(scratch, "ws")
        cluster = None
        if a.preset == "remote":
            cluster = remote_exec.Cluster(REPO, scratch)
            if not cluster.available():
                raise SystemExit("scenario 8 needs Buildbarn in target/tools/buildbarn (tools/build-buildbarn.sh)")
            cluster.start()
            sizes = remote_exec.generate(ws, cluster.url)
            chosen = {int(x) for x in (a.scenarios or "8,14").split(",")}
        elif a.preset == "skewed":
            sizes = skewed_workspace(ws)
            chosen = {13}
        elif a.preset == "example":
            sizes = example_workspace(ws)
            chosen = {int(x) for x in (a.scenarios or "6,7").split(",")}
            if chosen - {6, 7, 10, 11}:
                raise SystemExit("--preset example runs scenarios 6, 7, 10 and 11 only")
        else:
            sizes = gen.generate(a.preset, a.scale, ws)
            chosen = {int(x) for x in (a.scenarios or "1,2,3,4,5,6,7").split(",")}
        integ = gen.integ_dirs(a.scale, a.preset) if a.preset not in ("remote", "skewed") else None
        b = Bench(ws, gob, a.rounds, scratch, integ)
        results = []

        def run(number, title, variants, note=""):
            print(f"== {number}. {title}", flush=True)
            rows = b.measure(variants)
            results.append({"scenario": number, "title": title, "rows": rows, "note": note, "rounds": b.rounds})

        if 1 in chosen:
            run(1, "cold gob build vs the Makefile ways", b.scenario_build())
        if 2 in chosen:
            run(2, "cold integration tests", b.scenario_integ())
        if 3 in chosen:
            run(3, "compile-only check, cold", b.scenario_check(warm=False))
            b.warm_everything()
            sh(f"{gob} check", ws, b.env())
            run(3, "compile-only check, warm after a one-line change in a deep package", b.scenario_check(warm=True))
        if 13 in chosen:
            patterns = "./pkg/..." if a.preset == "skewed" else "./internal/..."
            run(13, "unit tests, build cache warm, test cache off: longest first vs import path order",
                b.scenario_unit(patterns))
        if 12 in chosen:
            run(12, "coverage of integration tests, cold", b.scenario_cover(warm=False))
            run(12, "coverage of integration tests, warm", b.scenario_cover(warm=True))
        if 4 in chosen:
            b.rounds = max(a.rounds, 10)
            run(4, "no-op build (everything cached)", b.scenario_noop())
            b.rounds = a.rounds
        if 9 in chosen:
            packages = len(subprocess.run("go list ./...", shell=True, cwd=ws, env=b.env(), capture_output=True, text=True).stdout.split())
            b.rounds = max(a.rounds, 5)
            run(9, f"--since after a one-line change in a deep package ({packages} packages)", b.scenario_since())
            b.rounds = a.rounds
        if 5 in chosen:
            wrap, why = cgroup_wrapper()
            if wrap is None:
                results.append({"scenario": 5, "title": "1-CPU cgroup", "rows": [], "note": f"skipped: {why}"})
            else:
                variants = [(f"{n} [installed Go]", pr, c) for n, pr, c in b.scenario_build(wrap=wrap)
                            if n in ("gob build", "hand-written go build -o dir/ calls")]
                run(5, "cold build in a 1-CPU cgroup, installed Go", variants)
                if os.path.exists(OLD_GO):
                    variants = [(f"{n} [Go 1.19]", pr, c) for n, pr, c in b.scenario_build(go=OLD_GO, wrap=wrap)
                                if n in ("gob build", "hand-written go build -o dir/ calls")]
                    run(5, "cold build in a 1-CPU cgroup, Debian's Go 1.19", variants)
                else:
                    results.append({"scenario": 5, "title": "1-CPU cgroup, Go 1.19", "rows": [], "note": f"skipped: no {OLD_GO}"})
        if chosen & {6, 7}:
            if not os.path.exists(BAZEL_REMOTE):
                raise SystemExit(f"scenarios 6 and 7 need {BAZEL_REMOTE} (.ci/run builds it)")
            remote_cold, noop, servers = remote_scenarios(b, scratch)
            try:
                if 6 in chosen:
                    run(6, "remote cache (bazel-remote on loopback): cold, uploading, and a warm remote", remote_cold)
                if 7 in chosen:
                    b.rounds = max(a.rounds, 10)
                    run(7, "the cacheprog on a warm local cache: no-op build", noop)
                    b.rounds = a.rounds
            finally:
                for server in servers:
                    server.stop()
        if chosen & {10, 11}:
            noop, cross = task_scenarios(b, scratch)
            if 10 in chosen:
                b.rounds = max(a.rounds, 10)
                run(10, "tasks: a no-op run of an up-to-date chain", noop)
                b.rounds = a.rounds
            if 11 in chosen:
                run(11, "four platforms: one gob build against a Makefile's GOOS=… go build calls, cold", cross)
        if chosen & {8, 14}:
            try:
                if 8 in chosen:
                    run(8, "remote execution: slow integration tests here vs on two workers",
                        remote_exec.variants(gob, b.env(), ws, sh))
                if 14 in chosen:
                    sched = os.path.join(scratch, "sched")
                    remote_exec.generate_scheduling(sched, cluster.url)
                    b.ws = sched
                    run(14, "scheduling by history on two workers: a package split by test, longest first",
                        remote_exec.scheduling_variants(gob, b.env(), sched, sh))
            finally:
                cluster.stop()
        os.makedirs(os.path.join(out_dir, "bench"), exist_ok=True)
        path = os.path.join(out_dir, "bench", f"results-{a.preset}.json")
        # Scenarios not run this time keep their earlier results for the same workload.
        if os.path.exists(path):
            with open(path) as f:
                earlier = json.load(f)
            if earlier.get("sizes") == sizes:
                results = [r for r in earlier["results"] if r["scenario"] not in chosen] + results
                results.sort(key=lambda r: r["scenario"])
        report = {"machine": machine(), "sizes": sizes, "rounds": a.rounds, "results": results}
        with open(path, "w") as f:
            json.dump(report, f, indent=1)
        import render  # noqa: E402
        render.write_all(out_dir)
        print(f"wrote {os.path.join(out_dir, 'BENCHMARKS.md')}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
