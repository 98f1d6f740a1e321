#!/usr/bin/env python3
"""Generates Go workspaces for gob's benchmarks.

Presets:
  synthetic  stdlib only, builds offline: layered library packages with real code
             (structs, methods, generics, maps, sorting, JSON, string handling), several
             binaries (two mains named `server`), unit tests, and compile-heavy integration
             test packages behind `//go:build integ` (several packages named `api`).
  realistic  the study's shape: binaries that import heavy modules through the Go module proxy
             (k8s.io/client-go, google.golang.org/grpc, github.com/envoyproxy/go-control-plane)
             on top of the synthetic code; `go mod tidy` fetches them once into the module cache.

Usage: gen.py --preset synthetic --scale 8 --out DIR
The scale multiplies the number of library packages (4 layers of `scale` packages each) and
integration packages (`scale`, at least 2, of which two are named `api`).
"""

import argparse
import os
import shutil
import subprocess
import textwrap

LAYERS = 4
TYPES_PER_PACKAGE = 24
DEPS_PER_PACKAGE = 3


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def lib_name(layer, index):
    return f"l{layer}p{index:02d}"


def lib_import(module, layer, index):
    return f"{module}/internal/{lib_name(layer, index)}"


def type_block(pkg, i, deps):
    """One type with methods and helpers that exercise the compiler (inlining, generics,
    escape analysis, closures, maps, interfaces)."""
    dep_calls = "\n".join(
        f"\ts += {alias}.Score{(i + k) % TYPES_PER_PACKAGE}(n + {k})"
        for k, alias in enumerate(deps)
    )
    return textwrap.dedent(
        f"""
        // T{i} is a record of {pkg}.
        type T{i} struct {{
        \tID    int
        \tName  string
        \tTags  []string
        \tAttrs map[string]float64
        \tNext  *T{i}
        }}

        // Weight folds the record's attributes.
        func (t *T{i}) Weight(w float64) float64 {{
        \ts := 0.0
        \tfor k, v := range t.Attrs {{
        \t\tif strings.HasPrefix(k, "x") {{
        \t\t\ts += v * w
        \t\t}} else {{
        \t\t\ts -= v / (w + 1)
        \t\t}}
        \t}}
        \tfor _, tag := range t.Tags {{
        \t\ts += float64(len(tag))
        \t}}
        \tif t.Next != nil {{
        \t\ts += t.Next.Weight(w / 2)
        \t}}
        \treturn s
        }}

        // Build{i} makes n sorted records.
        func Build{i}(n int) []T{i} {{
        \tout := make([]T{i}, 0, n)
        \tfor j := 0; j < n; j++ {{
        \t\tout = append(out, T{i}{{ID: j, Name: fmt.Sprintf("{pkg}-%d-%d", {i}, j), Tags: []string{{"a", strconv.Itoa(j)}}, Attrs: map[string]float64{{"x": float64(j), "y": float64(j * j)}}}})
        \t}}
        \tsort.Slice(out, func(a, b int) bool {{ return out[a].Name < out[b].Name }})
        \treturn out
        }}

        // Encode{i} renders a record as JSON.
        func Encode{i}(t T{i}) (string, error) {{
        \tb, err := json.Marshal(t)
        \tif err != nil {{
        \t\treturn "", fmt.Errorf("encode T{i}: %w", err)
        \t}}
        \treturn string(b), nil
        }}

        // Decode{i} parses a record from JSON.
        func Decode{i}(s string) (T{i}, error) {{
        \tvar t T{i}
        \terr := json.Unmarshal([]byte(s), &t)
        \treturn t, err
        }}

        // Index{i} groups records by a key.
        func Index{i}[K comparable](items []T{i}, key func(T{i}) K) map[K][]T{i} {{
        \tm := make(map[K][]T{i}, len(items))
        \tfor _, it := range items {{
        \t\tk := key(it)
        \t\tm[k] = append(m[k], it)
        \t}}
        \treturn m
        }}

        // Describe{i} formats a record for people.
        func Describe{i}(t T{i}) string {{
        \tvar b strings.Builder
        \tb.WriteString(strings.ToUpper(t.Name))
        \tfor i, tag := range t.Tags {{
        \t\tif i > 0 {{
        \t\t\tb.WriteByte(',')
        \t\t}}
        \t\tb.WriteString(strings.TrimSpace(tag))
        \t}}
        \tswitch {{
        \tcase t.ID%15 == 0:
        \t\tb.WriteString(" fizzbuzz")
        \tcase t.ID%5 == 0:
        \t\tb.WriteString(" buzz")
        \tcase t.ID%3 == 0:
        \t\tb.WriteString(" fizz")
        \t}}
        \treturn b.String()
        }}

        // Score{i} is what other packages call.
        func Score{i}(n int) float64 {{
        \titems := Build{i}(n%7 + 1)
        \ts := 0.0
        \tfor _, it := range items {{
        \t\ts += it.Weight(1.5)
        \t}}
        {dep_calls}
        \treturn s
        }}
        """
    )


def lib_package(module, layer, index, deps):
    pkg = lib_name(layer, index)
    aliases = [f"d{k}" for k in range(len(deps))]
    imports = ['"encoding/json"', '"fmt"', '"sort"', '"strconv"', '"strings"']
    imports += [f'{a} "{module}/internal/{lib_name(*d)}"' for a, d in zip(aliases, deps)]
    files = {}
    per_file = TYPES_PER_PACKAGE // 2
    for f in range(2):
        body = "".join(
            type_block(pkg, i, aliases if i % 2 == 0 else [])
            for i in range(f * per_file, (f + 1) * per_file)
        )
        # Every file imports the same set; blank uses keep each import used.
        body += "\nvar _ = json.Marshal\nvar _ = strconv.Itoa\nvar _ = sort.Ints\nvar _ = fmt.Sprint\nvar _ = strings.ToUpper\n"
        body += "".join(f"var _ = {a}.Score0\n" for a in aliases)
        files[f"{pkg}_{f}.go"] = f"// Package {pkg} is generated by bench/gen.py.\npackage {pkg}\n\nimport (\n\t" + "\n\t".join(imports) + "\n)\n" + body
    files[f"{pkg}_test.go"] = textwrap.dedent(
        f"""\
        package {pkg}

        import "testing"

        func TestScore(t *testing.T) {{
        \tif Score0(3) == 0 {{
        \t\tt.Log("zero score")
        \t}}
        }}

        func TestRoundTrip(t *testing.T) {{
        \tin := Build1(2)[0]
        \ts, err := Encode1(in)
        \tif err != nil {{
        \t\tt.Fatal(err)
        \t}}
        \tout, err := Decode1(s)
        \tif err != nil || out.Name != in.Name {{
        \t\tt.Fatalf("round trip: %v %v", out, err)
        \t}}
        }}
        """
    )
    return files


def deps_of(layer, index, scale):
    if layer == 0:
        return []
    # Spread over the layer below, so that every package is reachable from the binaries.
    stride = max(1, scale // DEPS_PER_PACKAGE)
    picks = {(index + k * stride) % scale for k in range(min(DEPS_PER_PACKAGE, scale))}
    return [(layer - 1, i) for i in sorted(picks)]


BINARIES = [
    ("cmd/gateway", "gateway"),
    ("cmd/worker", "worker"),
    ("cmd/ctl", "ctl"),
    ("cmd/migrate", "migrate"),
    ("svc/server", "server"),
    ("tools/server", "tool-server"),
]


def main_package(module, path, scale, seed, extra_imports=(), extra_body=""):
    top = LAYERS - 1
    # Each binary imports half of the top layer (every other package, offset by its seed).
    picks = [(top, j) for j in range(scale) if (j + seed) % 2 == 0] or [(top, 0)]
    imports = ['"fmt"'] + [f'p{k} "{lib_import(module, *d)}"' for k, d in enumerate(picks)]
    imports += list(extra_imports)
    calls = "\n".join(f"\ttotal += p{k}.Score{k % TYPES_PER_PACKAGE}({k + 1})" for k in range(len(picks)))
    return f"""// Command {os.path.basename(path)} is generated by bench/gen.py.
package main

import (
\t{chr(10).join(chr(9) + i for i in imports).lstrip()}
)

func main() {{
\ttotal := 0.0
{calls}
{extra_body}
\tfmt.Printf("{path} %.0f\\n", total)
}}
"""


WIDE_NAMES = ["config", "server", "types", "client", "store", "api", "handler", "model", "util"]
WIDE_AREAS = 6


def integ_dirs(scale, preset="synthetic"):
    """Integration test package dirs. synthetic/realistic: two packages named `api` (the
    study's collision: security/api and telemetry/api), the others named after their area.
    wide: 54 packages whose names clash 6 ways (config, server, types, … in six areas), as in
    large trees where every service has its own `config` and `server`."""
    if preset == "wide":
        return [f"integ/area{a}/{n}" for a in range(WIDE_AREAS) for n in WIDE_NAMES]
    dirs = ["integ/security/api", "integ/telemetry/api"]
    dirs += [f"integ/area{a:02d}/area{a:02d}" for a in range(2, max(scale, 2))]
    return dirs[: max(scale, 2)]


# What the wide preset's integration packages import besides the generated libraries: heavy
# standard packages (compiled once, linked into every test binary).
WIDE_STD = ['"net/http"', '"encoding/json"', '"crypto/tls"', '"text/template"']


def integ_package(module, area, scale, name, wide=False):
    picks = [(layer, (area + k) % scale) for layer in range(LAYERS) for k in range(2)]
    imports = ['"testing"', '"time"'] + [f'p{k} "{lib_import(module, *d)}"' for k, d in enumerate(picks)]
    if wide:
        imports += WIDE_STD
    use_std = "\t_, _, _, _ = http.StatusOK, json.Valid, tls.VersionTLS13, template.New\n" if wide else ""
    tests = []
    for t in range(12):
        k = t % len(picks)
        tests.append(
            f"""
func TestFlow{t}(t *testing.T) {{
\tstart := time.Now()
\tvar s float64
\tfor i := 0; i < 3; i++ {{
\t\ts += p{k}.Score{t % TYPES_PER_PACKAGE}(i)
\t}}
\titems := p{k}.Build{t % TYPES_PER_PACKAGE}(5)
\tidx := p{k}.Index{t % TYPES_PER_PACKAGE}(items, func(x p{k}.T{t % TYPES_PER_PACKAGE}) int {{ return x.ID % 3 }})
\tif len(idx) == 0 || s != s {{
\t\tt.Fatalf("flow {t}: %v %v", idx, s)
\t}}
{use_std if t == 0 else ""}\t// An integration test waits on something outside the process.
\ttime.Sleep(25*time.Millisecond - time.Since(start)%time.Millisecond)
}}
"""
        )
    return f"""//go:build integ

// Package {name} is an integration test of area {area}, generated by bench/gen.py.
package {name}

import (
\t{chr(10).join(chr(9) + i for i in imports).lstrip()}
)
{''.join(tests)}"""


REALISTIC = {
    "cmd/gateway": (
        ['"google.golang.org/grpc"', '"google.golang.org/grpc/health"', 'healthpb "google.golang.org/grpc/health/grpc_health_v1"'],
        "\ts := grpc.NewServer()\n\thealthpb.RegisterHealthServer(s, health.NewServer())\n\ts.Stop()",
    ),
    "cmd/ctl": (
        ['"k8s.io/client-go/kubernetes"', '"k8s.io/client-go/rest"'],
        "\tif c, err := kubernetes.NewForConfig(&rest.Config{Host: \"http://127.0.0.1:1\"}); err == nil {\n\t\t_ = c.CoreV1()\n\t}",
    ),
    "svc/server": (
        ['cache "github.com/envoyproxy/go-control-plane/pkg/cache/v3"', 'server "github.com/envoyproxy/go-control-plane/pkg/server/v3"', '"context"'],
        "\tc := cache.NewSnapshotCache(false, cache.IDHash{}, nil)\n\t_ = server.NewServer(context.Background(), c, nil)",
    ),
}


def generate(preset, scale, out):
    module = "example.com/bench"
    if os.path.exists(out):
        shutil.rmtree(out)
    write(os.path.join(out, "go.mod"), f"module {module}\n\ngo 1.19\n")
    for layer in range(LAYERS):
        for index in range(scale):
            files = lib_package(module, layer, index, deps_of(layer, index, scale))
            for name, text in files.items():
                write(os.path.join(out, "internal", lib_name(layer, index), name), text)
    for seed, (path, _) in enumerate(BINARIES):
        extra, body = REALISTIC.get(path, ((), "")) if preset == "realistic" else ((), "")
        write(os.path.join(out, path, "main.go"), main_package(module, path, scale, seed, extra, body))
    for area, d in enumerate(integ_dirs(scale, preset)):
        name = os.path.basename(d)
        text = integ_package(module, area, scale, name, wide=preset == "wide")
        write(os.path.join(out, d, f"{name}_test.go"), text)
    bins = "\n".join(
        f'[[binary]]\npackage = "./{path}"\n' + (f'name = "{name}"\n' if name != os.path.basename(path) else "")
        for path, name in BINARIES
    )
    write(
        os.path.join(out, "gobuild.toml"),
        f"""# Generated by bench/gen.py ({preset}, scale {scale}).
[build]
out_dir = "bin"

{bins}
[test.unit]
packages = ["./internal/..."]

[test.integ]
packages = ["./integ/..."]
tags = ["integ"]
integ = true
""",
    )
    if preset == "realistic":
        env = dict(os.environ, GOFLAGS="-mod=mod", GOPROXY=os.environ.get("BENCH_GOPROXY", "https://proxy.golang.org,direct"))
        env.pop("GOTOOLCHAIN", None)
        env["GOTOOLCHAIN"] = "local"
        subprocess.run(["go", "mod", "edit", "-go=1.24"], cwd=out, check=True, env=env)
        for mod in ["google.golang.org/grpc@latest", "k8s.io/client-go@latest", "github.com/envoyproxy/go-control-plane@latest"]:
            subprocess.run(["go", "get", mod], cwd=out, check=True, env=env)
        subprocess.run(["go", "mod", "tidy"], cwd=out, check=True, env=env)
    return {
        "preset": preset,
        "scale": scale,
        "library_packages": LAYERS * scale,
        "binaries": len(BINARIES),
        "integ_packages": len(integ_dirs(scale, preset)),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=["synthetic", "realistic", "wide"], default="synthetic")
    p.add_argument("--scale", type=int, default=8)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    print(generate(a.preset, a.scale, a.out))


if __name__ == "__main__":
    main()
