"""Renders benchmark results (bench/results-<preset>.json) as BENCHMARKS.md and
bench/chart-<preset>.svg."""

import html
import json
import os

# (scenario title prefix, baseline variant prefix, gob variant prefix, target, kind)
# kind "faster": baseline median / gob median >= target; "within": gob / baseline <= target;
# "overhead": gob - baseline <= target seconds.
TARGETS = [
    ("cold gob build", "go build per binary, sequential", "gob build", 1.05, "faster"),
    ("cold gob build", "go build per binary, parallel processes", "gob build", 2.0, "faster"),
    ("cold gob build", "hand-written go build -o dir/ calls", "gob build", 1.08, "within"),
    ("cold integration", "go test -p 1", "gob test --integ", 1.3, "faster"),
    ("cold integration", "precompile-then-run script", "gob test --integ", 1.0, "faster"),
    ("compile-only check, warm", "go test -exec=true", "gob check", 2.5, "faster"),
    ("no-op build", "hand-written go build calls", "gob build", 0.050, "overhead"),
]


def find(rows, prefix):
    return next((r for r in rows if r["variant"].startswith(prefix)), None)


def targets(report):
    out = []
    for title, base, gob, target, kind in TARGETS:
        res = next((s for s in report["results"] if s["title"].startswith(title) and s["rows"]), None)
        if not res:
            continue
        b, g = find(res["rows"], base), find(res["rows"], gob)
        if not b or not g:
            continue
        if kind == "faster":
            value = b["median"] / g["median"]
            out.append((f"{title}: gob vs {base}", f"≥ {target:.2f}x faster", f"{value:.2f}x", value >= target))
        elif kind == "within":
            value = g["median"] / b["median"]
            out.append((f"{title}: gob vs {base}", f"within {100 * (target - 1):.0f}%", f"{100 * (value - 1):+.1f}%", value <= target))
        else:
            value = g["median"] - b["median"]
            out.append((f"{title}: gob's overhead over go", f"≤ {target * 1000:.0f} ms", f"{value * 1000:.0f} ms", value <= target))
    return out


HEADER = """# Benchmarks

gob against the commands a Makefile would run, measured side by side in one run: every round
runs each variant of a scenario once, in a rotating order, and the tables give the minimum and
the median over the rounds. Cold means an empty `GOCACHE` and no outputs. Regenerate this file
and the charts with `python3 bench/bench.py` (and `--preset realistic`; see `--help`);
`.ci/run` runs the harness at a tiny size to keep it working (timings from that run mean nothing).
"""


def markdown(report):
    m = report["machine"]
    s = report["sizes"]
    preset = s["preset"]
    lines = [
        f"## Preset `{preset}`",
        "",
        f"- Machine: {m['cpus']} × {m['cpu'] or 'unknown CPU'}; {m['os']}",
        f"- Go: {m['go']}" + (f"; old Go: {m['old_go']}" if m.get("old_go") else ""),
        workload(s),
        "- Rounds: given per scenario; every variant of a scenario ran that many times",
        "",
        f"![{preset} benchmark chart](bench/chart-{preset}.svg)",
        "",
    ]
    # The targets are set for the synthetic preset; the others are reported as measured.
    met = targets(report) if preset == "synthetic" else []
    if met:
        lines += ["### Targets", "", "| comparison | target | measured (medians) | |", "| --- | --- | --- | --- |"]
        for name, target, value, ok in met:
            lines.append(f"| {name} | {target} | {value} | {'met' if ok else '**missed**'} |")
        lines.append("")
    for res in report["results"]:
        rounds = res.get("rounds", report["rounds"])
        lines.append(f"### {res['scenario']}. {res['title']} ({rounds} rounds)")
        lines.append("")
        if not res["rows"]:
            lines += [res["note"], ""]
            continue
        gob = next((r for r in res["rows"] if r["variant"].startswith("gob")), res["rows"][0])
        lines += ["| variant | min | median | median vs gob |", "| --- | ---: | ---: | ---: |"]
        for r in res["rows"]:
            ratio = "—" if r is gob else f"{r['median'] / gob['median']:.2f}x"
            lines.append(f"| {r['variant']} | {fmt(r['min'])} | {fmt(r['median'])} | {ratio} |")
        if res.get("note"):
            lines += ["", res["note"]]
        lines.append("")
    return "\n".join(lines)


def workload(s):
    preset = s["preset"]
    if preset == "remote":
        return (f"- Workload: bench/remote_exec.py: {s['packages']} integration packages, each one test that"
                f" sleeps {s['test_seconds']} s (stdlib only); the cluster: Buildbarn on loopback with"
                f" {s['workers']} workers, each running one action at a time, on this same machine")
    if preset == "skewed":
        return (f"- Workload: bench/bench.py `skewed_workspace`: {s['packages']} unit test packages"
                f" sleeping {', '.join(f'{x:g}' for x in s['seconds'])} s, the longest last by import"
                " path (stdlib only)")
    if preset == "example":
        return ("- Workload: the example workspace (examples/mesh with the repository's gobuild.toml):"
                " 5 binaries, stdlib only")
    return (
        f"- Workload: bench/gen.py `--preset {preset} --scale {s['scale']}`: {s['library_packages']} library"
        f" packages in 4 layers, {s['binaries']} binaries (two mains named `server`), {s['integ_packages']}"
        " integration test packages behind `//go:build integ`"
        + (" (names clashing 6 ways: config, server, types, … in six areas; each also imports"
           " net/http, encoding/json, crypto/tls, text/template)" if preset == "wide" else " (two named `api`)")
        + ("; the binaries also import k8s.io/client-go, google.golang.org/grpc and"
           " github.com/envoyproxy/go-control-plane" if preset == "realistic" else "")
    )


def fmt(seconds):
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def svg(report):
    label_w, bar_w, row_h, pad = 360, 420, 22, 10
    y = pad
    parts = []
    for res in report["results"]:
        if not res["rows"]:
            continue
        parts.append(f'<text x="{pad}" y="{y + 14}" font-weight="bold">{html.escape(str(res["scenario"]) + ". " + res["title"])}</text>')
        y += row_h
        top = max(r["median"] for r in res["rows"]) or 1
        for r in res["rows"]:
            w = max(1, bar_w * r["median"] / top)
            color = "#2b7bb9" if r["variant"].startswith("gob") else "#b0b7bf"
            parts.append(f'<text x="{pad + label_w - 6}" y="{y + 14}" text-anchor="end">{html.escape(r["variant"])}</text>')
            parts.append(f'<rect x="{pad + label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{color}"/>')
            parts.append(f'<text x="{pad + label_w + w + 6:.1f}" y="{y + 14}">{fmt(r["median"])}</text>')
            y += row_h
        y += pad
    width = pad * 2 + label_w + bar_w + 80
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y + pad}" '
        f'font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n'
        + "\n".join(parts)
        + "\n</svg>\n"
    )


def watch_markdown(report):
    """The watch latencies (bench/watch.py): one row per scenario, medians and minimums."""
    lines = [
        "## Watch latency (`bench/watch.py`)",
        "",
        f"{report['workload']}; {report['cpus']} CPUs, {report['date']}. From a file's save to the",
        "end of the cycle it starts (the `gob-watch-cycle` event, after the last result line),",
        f"{len(report['rows'][0]['samples'])} saves each; the no-op and one-shot rows are whole `gob check` runs.",
        "",
        "| scenario | packages checked | median | min | goal |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in report["rows"]:
        goal = f"≤ {row['goal']} s" if "goal" in row else "—"
        affected = str(row["affected"]) if "affected" in row else "—"
        lines.append(f"| {row['name']} | {affected} | {fmt(row['median'])} | {fmt(row['min'])} | {goal} |")
    compared = report.get("compared") or []
    if compared:
        lines += [
            "",
            "Side by side with `gotestsum --watch` (gotest.tools/gotestsum v1.13.0), the same saves: to the",
            "end of the tests each runs. gotestsum runs `go test` on the dir of the saved file;",
            "gob checks and tests the packages the save can affect. The last rows: a save to the deep",
            "library that breaks only the packages importing it (its own tests pass).",
            "",
            "| tool and save | packages tested | median | min |",
            "| --- | --- | --- | --- |",
        ]
        for row in compared:
            if "caught" in row:
                lines.append(f"| {row['name']} | — | {'yes' if row['caught'] else 'no'} | |")
            else:
                lines.append(f"| {row['name']} | {row.get('affected', '—')} | {fmt(row['median'])} | {fmt(row['min'])} |")
    return "\n".join(lines) + "\n"


def write_all(out_dir):
    """BENCHMARKS.md and a chart per preset, from every results file in out_dir/bench."""
    sections = []
    notes = os.path.join(out_dir, "bench", "NOTES.md")
    for preset in ("synthetic", "realistic", "wide", "example", "remote", "skewed"):
        path = os.path.join(out_dir, "bench", f"results-{preset}.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            report = json.load(f)
        sections.append(markdown(report))
        with open(os.path.join(out_dir, "bench", f"chart-{preset}.svg"), "w") as f:
            f.write(svg(report))
    watch = os.path.join(out_dir, "bench", "results-watch.json")
    if os.path.exists(watch):
        with open(watch) as f:
            sections.append(watch_markdown(json.load(f)))
    text = HEADER + "\n" + "\n".join(sections)
    if os.path.exists(notes):
        with open(notes) as f:
            text += "\n" + f.read()
    with open(os.path.join(out_dir, "BENCHMARKS.md"), "w") as f:
        f.write(text)
