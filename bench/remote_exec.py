"""Scenario 8 (--preset remote): an integration suite of slow tests run on this machine, one
binary at a time, against a Buildbarn cluster with two workers on the same machine (gob's
remote execution). Both variants start with the binaries compiled, so the ratio is the fan-out.

The cluster is the one the e2e tests use (tests/buildbarn/*.jsonnet, binaries built by
tools/build-buildbarn.sh into target/tools/buildbarn)."""

import os
import socket
import subprocess
import tempfile
import time
import urllib.request

PACKAGES = 8
TEST_SECONDS = 2
WORKERS = 2


def generate(ws, bb_url):
    """A stdlib-only module: PACKAGES integration packages whose test sleeps TEST_SECONDS."""
    os.makedirs(ws)
    with open(os.path.join(ws, "go.mod"), "w") as f:
        f.write("module slowinteg\n\ngo 1.21\n")
    for i in range(PACKAGES):
        d = os.path.join(ws, "integ", f"p{i}")
        os.makedirs(d)
        with open(os.path.join(d, f"p{i}_test.go"), "w") as f:
            f.write(f"package p{i}\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\n"
                    f"func TestSlow(t *testing.T) {{ time.Sleep({TEST_SECONDS} * time.Second) }}\n")
    with open(os.path.join(ws, "gobuild.toml"), "w") as f:
        f.write('[test.integ]\npackages = ["./integ/..."]\ninteg = true\n\n'
                f'[exec]\nremote = "{bb_url}"\nplatform = {{ OSFamily = "linux" }}\n')
    return {"preset": "remote", "packages": PACKAGES, "test_seconds": TEST_SECONDS, "workers": WORKERS}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """bb_storage (CAS + AC), a bb_storage frontend, bb_scheduler, WORKERS worker+runner pairs."""

    def __init__(self, repo, scratch):
        self.bin = os.path.join(repo, "target", "tools", "buildbarn")
        self.conf = os.path.join(repo, "tests", "buildbarn")
        self.dir = tempfile.mkdtemp(prefix="bb-", dir=scratch)
        self.ports = {k: free_port() for k in (
            "GOB_BB_STORAGE_PORT", "GOB_BB_FRONTEND_PORT", "GOB_BB_SCHEDULER_CLIENT_PORT",
            "GOB_BB_SCHEDULER_WORKER_PORT", "GOB_BB_SCHEDULER_ADMIN_PORT")}
        self.url = f"grpc://127.0.0.1:{self.ports['GOB_BB_FRONTEND_PORT']}"
        self.procs = []

    def available(self):
        return all(os.path.exists(os.path.join(self.bin, b))
                   for b in ("bb_storage", "bb_scheduler", "bb_worker", "bb_runner"))

    def spawn(self, program, config, extra=None):
        env = dict(os.environ, **{k: str(v) for k, v in self.ports.items()}, **(extra or {}))
        log = open(os.path.join(self.dir, f"{len(self.procs)}-{program}.log"), "w")
        self.procs.append(subprocess.Popen([os.path.join(self.bin, program), os.path.join(self.conf, config)],
                                           cwd=self.dir, env=env, stdout=log, stderr=log))

    def start(self):
        self.spawn("bb_storage", "storage.jsonnet")
        self.spawn("bb_storage", "frontend.jsonnet")
        self.spawn("bb_scheduler", "scheduler.jsonnet")
        for i in range(1, WORKERS + 1):
            wd = os.path.join(self.dir, f"w{i}")
            for sub in ("build", "cache"):
                os.makedirs(os.path.join(wd, sub))
            extra = {"GOB_BB_WORKER_DIR": wd, "GOB_BB_WORKER_NAME": f"w{i}"}
            self.spawn("bb_runner", "runner.jsonnet", extra)
            self.spawn("bb_worker", "worker.jsonnet", extra)
        deadline = time.time() + 30
        while self.workers() != WORKERS:
            if time.time() > deadline:
                raise SystemExit(f"the Buildbarn cluster did not get ready (logs in {self.dir})")
            time.sleep(0.1)

    def workers(self):
        try:
            page = urllib.request.urlopen(f"http://127.0.0.1:{self.ports['GOB_BB_SCHEDULER_ADMIN_PORT']}/",
                                          timeout=2).read().decode()
        except OSError:
            return None
        total = 0
        for cell in page.split("%22all%22")[1:]:
            digits = cell.split('">', 1)[1]
            total += int("".join(c for c in digits[:10] if c.isdigit()) or 0)
        return total

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait()


def variants(gob, env, ws, run):
    """Scenario 8's variants, the binaries compiled first."""
    run(f"{gob} test --integ --no-remote-exec", ws, env)
    return [
        (f"gob test --integ, remote ({WORKERS} Buildbarn workers on this machine)", lambda: env,
         f"{gob} test --integ"),
        ("gob test --integ --no-remote-exec (this machine, one binary at a time)", lambda: env,
         f"{gob} test --integ --no-remote-exec"),
    ]


def generate_scheduling(ws, bb_url):
    """Scenario 14's module: `big`, one package of 4 tests x 2 s (suites `split`, with
    split = "3s", and `whole`, without), and `lpt`: seven packages of 1 s and one of 8 s that
    sorts last by import path."""
    os.makedirs(ws)
    with open(os.path.join(ws, "go.mod"), "w") as f:
        f.write("module sched\n\ngo 1.21\n")

    def package(path, tests):
        name = os.path.basename(path)
        d = os.path.join(ws, path)
        os.makedirs(d)
        body = "".join(
            f"func Test{t}(t *testing.T) {{ time.Sleep({ms} * time.Millisecond) }}\n" for t, ms in tests
        )
        with open(os.path.join(d, f"{name}_test.go"), "w") as f:
            f.write(f"package {name}\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\n{body}")

    package("big", [(t, 2000) for t in ("One", "Two", "Three", "Four")])
    for i in range(7):
        package(f"lpt/p{i}", [("Short", 1000)])
    package("lpt/zz", [("Long", 8000)])
    with open(os.path.join(ws, "gobuild.toml"), "w") as f:
        f.write('[test.split]\npackages = ["./big"]\ninteg = true\nsplit = "3s"\n\n'
                '[test.whole]\npackages = ["./big"]\ninteg = true\n\n'
                '[test.lpt]\npackages = ["./lpt/..."]\ninteg = true\n\n'
                f'[exec]\nremote = "{bb_url}"\nplatform = {{ OSFamily = "linux" }}\njobs = {WORKERS}\n')


def scheduling_variants(gob, env, ws, run):
    """Scenario 14's variants, each suite compiled and its history recorded first."""
    for suite in ("split", "whole", "lpt"):
        run(f"{gob} test {suite}", ws, env)
    empty = os.path.join(ws, "no-history.json")

    def no_history():
        if os.path.exists(empty):
            os.remove(empty)
        return env

    return [
        ("big, split = 3s: groups on 2 workers", lambda: env, f"{gob} test split"),
        ("big, unsplit: one action", lambda: env, f"{gob} test whole"),
        ("8 packages, longest first by history", lambda: env, f"{gob} test lpt"),
        ("8 packages, no history (import path order: the 8 s one last)", no_history,
         f"{gob} test lpt --timings {empty}"),
    ]
