//! Tasks (`[task.*]`, `gob run`, `before`), with real programs: a generator chain the build
//! needs, deps in parallel within the budget, a failing dep, a cycle; version stamps read
//! back from the binaries; cross-builds checked by their headers.

use std::path::Path;

use crate::support::{Workspace, run};

/// A module whose binary prints a constant that a task generates from `api/*.txt`.
fn generated_workspace(manifest: &str) -> Workspace {
    let ws = Workspace {
        tmp: tempfile::tempdir().unwrap(),
    };
    ws.write("go.mod", "module example.com/t\n\ngo 1.22\n");
    ws.write("api/greeting.txt", "hello\n");
    ws.write(
        "cmd/app/main.go",
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/t/gen\"\n)\n\nfunc main() { fmt.Println(gen.Greeting) }\n",
    );
    ws.write(
        "generate.sh",
        "#!/bin/sh\nset -e\necho run >> runs.log\nmkdir -p gen\nprintf 'package gen\\n\\n// Greeting is generated.\\nconst Greeting = \"%s\"\\n' \"$(cat api/greeting.txt)\" > gen/greeting.go\necho generated\n",
    );
    ws.write("gobuild.toml", manifest);
    ws
}

const CHAIN: &str = r#"[build]
before = ["generate"]

[[binary]]
package = "./cmd/app"

[task.tools]
run = "echo tools >> tools.log"

[task.generate]
run = ["sh", "generate.sh"]
sources = ["api/*.txt", "generate.sh"]
outputs = ["gen/*.go"]
deps = ["tools"]
"#;

fn runs(ws: &Workspace) -> usize {
    std::fs::read_to_string(ws.dir().join("runs.log"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn a_generator_the_build_needs_runs_once_and_again_only_when_its_files_change() {
    let ws = generated_workspace(CHAIN);
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(runs(&ws), 1);
    assert!(
        stderr.contains("gob: task generate: running (its outputs do not exist)"),
        "{stderr}"
    );
    assert!(stderr.contains("[generate] generated"), "{stderr}");
    assert_eq!(
        crate::support::run_binary(&ws.dir().join("bin/app")),
        "hello"
    );
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(runs(&ws), 1, "up to date: {stderr}");
    assert!(
        stderr.contains("gob: task generate: up to date"),
        "{stderr}"
    );
    ws.write("api/greeting.txt", "bonjour\n");
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(runs(&ws), 2);
    assert!(stderr.contains("running (its sources changed)"), "{stderr}");
    assert_eq!(
        crate::support::run_binary(&ws.dir().join("bin/app")),
        "bonjour"
    );
    std::fs::remove_file(ws.dir().join("gen/greeting.go")).unwrap();
    let (code, _, stderr) = run(&mut ws.gob(&["run", "generate"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(runs(&ws), 3, "a deleted output runs it again");
    let (_, stdout, _) = run(&mut ws.gob(&["run", "generate", "--dry-run"]));
    assert!(stdout.contains("# task generate (up to date: "), "{stdout}");
    assert!(
        stdout.contains("# task tools (runs: no sources and outputs to compare)"),
        "{stdout}"
    );
    let (code, _, stderr) = run(&mut ws.gob(&["run", "generate", "--force"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(runs(&ws), 4, "--force");
}

/// (start, end) times of a task that records them around a sleep.
fn span(ws: &Workspace, name: &str) -> (f64, f64) {
    let text = std::fs::read_to_string(ws.dir().join(format!("{name}.span"))).unwrap();
    let times: Vec<f64> = text
        .split_whitespace()
        .map(|t| t.parse().unwrap())
        .collect();
    (times[0], times[1])
}

#[test]
fn tasks_without_an_order_between_them_run_at_once_within_the_budget() {
    let sleeper = |name: &str| {
        format!(
            "[task.{name}]\nrun = \"s=$(date +%s.%N); sleep 1; echo $s $(date +%s.%N) > {name}.span\"\n"
        )
    };
    let manifest = format!(
        "{}\n{}\n[task.both]\nrun = \"true\"\ndeps = [\"left\", \"right\"]\n",
        sleeper("left"),
        sleeper("right")
    );
    let ws = generated_workspace(&manifest);
    let (code, _, stderr) = run(ws.gob(&["run", "both"]).args(["-j", "2"]));
    assert_eq!(code, 0, "{stderr}");
    let (left, right) = (span(&ws, "left"), span(&ws, "right"));
    assert!(
        left.0 < right.1 && right.0 < left.1,
        "they overlap: {left:?} {right:?}"
    );
    // -j 1: one task at a time.
    let (code, _, stderr) = run(ws.gob(&["run", "both"]).args(["-j", "1"]));
    assert_eq!(code, 0, "{stderr}");
    let (left, right) = (span(&ws, "left"), span(&ws, "right"));
    assert!(
        left.1 <= right.0 || right.1 <= left.0,
        "one after the other: {left:?} {right:?}"
    );
}

#[test]
fn a_failing_dep_stops_what_needs_it_and_the_others_still_run() {
    let manifest = "[task.bad]\nrun = \"echo broken; exit 3\"\n\n[task.needs-bad]\nrun = \"touch ran-needs-bad\"\ndeps = [\"bad\"]\n\n[task.other]\nrun = \"touch ran-other\"\n\n[task.all]\nrun = \"true\"\ndeps = [\"needs-bad\", \"other\"]\n";
    let ws = generated_workspace(manifest);
    let (code, _, stderr) = run(&mut ws.gob(&["run", "all"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("[bad] broken"), "its output: {stderr}");
    assert!(
        stderr.contains("gob: task bad: FAILED (exit status 3)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("gob: task needs-bad: not run (its dep bad failed)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 tasks failed: bad, needs-bad, all"),
        "{stderr}"
    );
    assert!(!ws.dir().join("ran-needs-bad").exists());
    assert!(
        ws.dir().join("ran-other").exists(),
        "an independent task still ran"
    );
}

#[test]
fn cycles_unknown_tasks_and_misused_services_are_located_manifest_errors() {
    let manifest = "[build]\nbefore = [\"db\"]\n\n[task.a]\nrun = \"true\"\ndeps = [\"b\"]\n\n[task.b]\nrun = \"true\"\ndeps = [\"a\", \"generat\"]\n\n[task.generate]\nrun = \"true\"\n\n[task.db]\nrun = \"sleep 100\"\nservice = true\noutputs = [\"x\"]\n\n[test.unit]\nservices = [\"generate\"]\n";
    let ws = generated_workspace(manifest);
    let (code, _, stderr) = run(&mut ws.gob(&["run", "a"]));
    assert_eq!(code, 2, "{stderr}");
    for expected in [
        "task deps form a cycle: a → b → a",
        "[task.b] deps names no task `generat`",
        "did you mean `generate`?",
        "[build] before names the service `db`",
        "[task.db] is a service and has outputs",
        "[test.unit] services names `generate`, which is not a service",
        "gobuild.toml:",
    ] {
        assert!(stderr.contains(expected), "missing {expected}:\n{stderr}");
    }
    let ws = generated_workspace("[task.lint]\nrun = \"true\"\n");
    let (code, _, stderr) = run(&mut ws.gob(&["run", "lnt"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no task named `lnt` in the manifest (did you mean `lint`?)"),
        "{stderr}"
    );
}

#[test]
fn version_stamps_are_read_back_from_the_binary_and_are_dev_outside_git() {
    let manifest = "[[binary]]\npackage = \"./cmd/stamped\"\nldflags = \"-X main.version={version} -X main.commit={commit} -X main.date={date}\"\n";
    let ws = generated_workspace(manifest);
    ws.write(
        "cmd/stamped/main.go",
        "package main\n\nimport \"fmt\"\n\nvar version, commit, date string\n\nfunc main() { fmt.Println(version, commit, date) }\n",
    );
    let (code, _, stderr) = run(ws.gob(&["build"]).env("SOURCE_DATE_EPOCH", "1764756000"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        crate::support::run_binary(&ws.dir().join("bin/stamped")),
        "dev  2025-12-03T10:00:00Z"
    );
    assert_eq!(
        stderr.matches("is not in a git repository").count(),
        1,
        "{stderr}"
    );
    let git = |args: &[&str]| crate::since_oracle::git(ws.dir(), args);
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(ws.dir().join(".gitignore"), "/bin/\n/.gob/\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "first"]);
    git(&["tag", "v1.2.0"]);
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    let commit = String::from_utf8(
        std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(ws.dir())
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let printed = crate::support::run_binary(&ws.dir().join("bin/stamped"));
    let fields: Vec<&str> = printed.split(' ').collect();
    assert_eq!(fields[0], "v1.2.0");
    assert_eq!(fields[1], commit.trim());
    assert!(
        fields[2].ends_with('Z') && fields[2].len() == 20,
        "{printed}"
    );
}

/// The machine a binary is for, from its header: ELF `e_machine`, PE machine, or Mach-O
/// CPU type.
fn machine_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    if bytes.starts_with(b"\x7fELF") {
        return match u16::from_le_bytes([bytes[18], bytes[19]]) {
            0x3e => "elf amd64".into(),
            0xb7 => "elf arm64".into(),
            other => format!("elf {other:#x}"),
        };
    }
    if bytes.starts_with(b"MZ") {
        let pe = u32::from_le_bytes(bytes[0x3c..0x40].try_into().unwrap()) as usize;
        assert_eq!(&bytes[pe..pe + 4], b"PE\0\0");
        return match u16::from_le_bytes([bytes[pe + 4], bytes[pe + 5]]) {
            0x8664 => "pe amd64".into(),
            other => format!("pe {other:#x}"),
        };
    }
    if bytes.starts_with(&[0xcf, 0xfa, 0xed, 0xfe]) {
        return match u32::from_le_bytes(bytes[4..8].try_into().unwrap()) {
            0x0100_000c => "macho arm64".into(),
            other => format!("macho {other:#x}"),
        };
    }
    "unknown".into()
}

#[test]
fn a_platform_matrix_builds_every_binary_per_platform_in_one_gob_call() {
    let ws = Workspace::example(
        "[build]\nout_dir = \"bin\"\nplatforms = [\"linux/amd64\", \"linux/arm64\", \"darwin/arm64\", \"windows/amd64\"]\n\n[[binary]]\npackage = \"./cmd/alpha\"\n\n[[binary]]\npackage = \"./cmd/beta\"\n",
    );
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("built 8 binaries") && stderr.contains("in 4 go build calls"),
        "{stderr}"
    );
    for (dir, file, machine) in [
        ("linux_amd64", "alpha", "elf amd64"),
        ("linux_arm64", "beta", "elf arm64"),
        ("darwin_arm64", "alpha", "macho arm64"),
        ("windows_amd64", "beta.exe", "pe amd64"),
    ] {
        let path = ws.dir().join("bin").join(dir).join(file);
        assert_eq!(machine_of(&path), machine, "{}", path.display());
    }
    let (_, plan, _) = run(&mut ws.gob(&["build", "--dry-run", "--platform", "linux/arm64"]));
    assert!(
        plan.contains("CGO_ENABLED=0 GOARCH=arm64 ") && plan.contains(" GOOS=linux go build"),
        "{plan}"
    );
    assert!(!plan.contains("GOOS=windows"), "one platform: {plan}");
    let (code, _, stderr) = run(&mut ws.gob(&["build", "--platform", "plan9/386"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no binary is built for it"), "{stderr}");
}

#[test]
fn init_writes_task_stubs_for_go_generate_and_lists_the_makefile() {
    let ws = Workspace {
        tmp: tempfile::tempdir().unwrap(),
    };
    ws.write("go.mod", "module example.com/g\n\ngo 1.22\n");
    ws.write(
        "kind/kind.go",
        "package kind\n\n//go:generate stringer -type=Kind\n\n// Kind is a kind.\ntype Kind int\n",
    );
    ws.write(
        "Makefile",
        ".PHONY: lint\nlint:\n\tgo vet ./...\n\tstaticcheck ./...\n",
    );
    let (code, _, stderr) = run(&mut ws.gob(&["init"]));
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(ws.dir().join("gobuild.toml")).unwrap();
    assert!(text.contains("[task.generate]\n# //go:generate stringer -type=Kind\nrun = [\"go\", \"generate\", \"./kind\"]"), "{text}");
    assert!(
        text.contains("# lint:\n#     go vet ./...\n#     staticcheck ./...\n"),
        "{text}"
    );
    let (code, stdout, stderr) = run(&mut ws.gob(&["list"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("tasks (1):\n  generate\n"), "{stdout}");
}
