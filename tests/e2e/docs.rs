//! The book's command examples, executed: every ```` ```console ```` fence in docs/src and
//! README.md runs, file by file, in a fresh copy of the example workspace (the repository's
//! gobuild.toml and examples/mesh), with the gob under test first on PATH, and its output
//! must match what the page shows. A page whose output drifts fails here until the docs
//! follow; `GOB_BLESS_DOCS=1 cargo test docs_` writes the actual output into the failing
//! blocks instead (then put back the elisions by hand).
//!
//! In a block, `$ CMD` lines are commands (run by `sh -c` in the page's dir; `$ cd DIR`
//! moves it) and the lines after each are its stdout and stderr together. Matching: a line
//! `...` stands for any number of lines, `[..]` within a line for any text; durations
//! (`0.4s`, `12ms`, `1m2s`), CPU counts, `GOMAXPROCS=N` and the temp dir (shown as `/home/you/app`) are
//! compared as placeholders. A command must exit 0: show a failure as `$ CMD; echo "exit $?"`.
//! Other fences must not hide a command: a line starting with `$ ` or `gob ` outside a
//! console fence fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{copy_dir, gob_command, repo};

/// Where the docs runner says the workspace copy is, in place of its temp path.
const SHOWN_ROOT: &str = "/home/you/app";

/// One command of a console block and the output the page expects.
struct Example {
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// A console block: where its first line is in the file, and its commands.
struct Block {
    start: usize,
    end: usize,
    examples: Vec<Example>,
}

fn pages() -> Vec<PathBuf> {
    let mut found = vec![repo().join("README.md")];
    let mut dirs = vec![repo().join("docs/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The console blocks of a page, and a complaint per command hidden in another fence.
fn parse(text: &str) -> (Vec<Block>, Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut hidden = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(info) = lines[i].trim_start().strip_prefix("```") else {
            i += 1;
            continue;
        };
        let console = info.trim() == "console";
        let start = i + 1;
        let mut end = start;
        while end < lines.len() && !lines[end].trim_start().starts_with("```") {
            end += 1;
        }
        if console {
            blocks.push(Block {
                start,
                end,
                examples: examples(&lines[start..end], start),
            });
        } else {
            for (n, line) in lines[start..end].iter().enumerate() {
                if line.starts_with("$ ") || line.starts_with("gob ") {
                    hidden.push(format!(
                        "line {}: a command outside a console fence: {line}",
                        start + n + 1
                    ));
                }
            }
        }
        i = end + 1;
    }
    (blocks, hidden)
}

fn examples(lines: &[&str], first: usize) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        match line.strip_prefix("$ ") {
            Some(command) => out.push(Example {
                line: first + n + 1,
                command: command.to_string(),
                expected: Vec::new(),
            }),
            None => match out.last_mut() {
                Some(example) => example.expected.push(line.to_string()),
                None => panic!("line {}: output before any `$ ` command", first + n + 1),
            },
        }
    }
    out
}

/// What is compared of a line: durations, CPU counts and the temp root as placeholders,
/// every run of spaces as one, none at either end.
fn normalize(line: &str, root: &str) -> String {
    let line = line.replace(root, SHOWN_ROOT);
    let line = gomaxprocs_shown(&line);
    let mut out = String::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0 || !chars[i - 1].is_ascii_alphanumeric() && chars[i - 1] != '.';
        if boundary && chars[i].is_ascii_digit() {
            if let Some(len) = duration_len(&chars[i..]) {
                out.push_str("<time>");
                i += len;
                continue;
            }
            if let Some(len) = cpus_len(&chars[i..]) {
                out.push_str("<n> CPU");
                i += len;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    // Columns padded to a duration's width (`  3.35s`, ` 10.02s`) match at any width.
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `GOMAXPROCS=N` as `GOMAXPROCS=<n>`: the budget of the machine the tests run on.
fn gomaxprocs_shown(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("GOMAXPROCS=") {
        let after = &rest[at + "GOMAXPROCS=".len()..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        out.push_str(&rest[..at]);
        out.push_str(if digits > 0 {
            "GOMAXPROCS=<n>"
        } else {
            "GOMAXPROCS="
        });
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// The length of a go-style duration at the start (`0.4s`, `12ms`, `1m2.5s`, `3h0m0s`).
fn duration_len(chars: &[char]) -> Option<usize> {
    let mut i = 0;
    let mut units = 0;
    loop {
        let digits = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == '.')
            .count();
        if digits == 0 {
            break;
        }
        let rest: String = chars[i + digits..].iter().take(2).collect();
        let unit = ["ms", "µs", "us", "ns", "h", "m", "s"]
            .into_iter()
            .find(|u| rest.starts_with(u))?;
        i += digits + unit.chars().count();
        units += 1;
        if chars.get(i).is_some_and(|c| c.is_ascii_alphabetic()) {
            return None;
        }
    }
    (units > 0).then_some(i)
}

/// The length of `N CPU` at the start.
fn cpus_len(chars: &[char]) -> Option<usize> {
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    let rest: String = chars[digits..].iter().take(4).collect();
    (rest == " CPU").then_some(digits + 4)
}

fn line_matches(expected: &str, actual: &str) -> bool {
    let parts: Vec<&str> = expected.split("[..]").collect();
    if parts.len() == 1 {
        return expected == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first) || actual.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &actual[first.len()..];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether `actual` matches `expected`, where a `...` line matches any number of lines.
fn lines_match(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(a, more)| line_matches(first, a) && lines_match(rest, more)),
    }
}

fn trimmed(mut lines: Vec<String>) -> Vec<String> {
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// A fresh copy of the example workspace: the root manifest and examples/mesh.
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &repo().join("examples/mesh"),
        &tmp.path().join("examples/mesh"),
    );
    std::fs::copy(repo().join("gobuild.toml"), tmp.path().join("gobuild.toml")).unwrap();
    tmp
}

/// Runs a page's examples; returns the failures and, when blessing, the page rewritten.
fn run_page(page: &Path, bless: bool) -> (Vec<String>, Option<String>) {
    let text = std::fs::read_to_string(page).unwrap();
    let (blocks, mut failures) = parse(&text);
    if blocks.is_empty() {
        return (failures, None);
    }
    let tmp = workspace();
    let root = tmp.path().to_string_lossy().to_string();
    let gob_dir = Path::new(env!("CARGO_BIN_EXE_gob"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!("{}:{}", gob_dir.display(), std::env::var("PATH").unwrap());
    let mut cwd = tmp.path().to_path_buf();
    let mut replacements = Vec::new();
    for block in &blocks {
        let mut blessed: Vec<String> = Vec::new();
        let mut block_ok = true;
        for example in &block.examples {
            blessed.push(format!("$ {}", example.command));
            if let Some(dir) = example.command.strip_prefix("cd ") {
                cwd = cwd.join(dir.trim());
                continue;
            }
            let program = gob_command();
            let mut cmd = Command::new("sh");
            for (key, value) in program.get_envs() {
                match value {
                    Some(value) => cmd.env(key, value),
                    None => cmd.env_remove(key),
                };
            }
            let out = cmd
                .arg("-c")
                .arg(format!("exec 2>&1; {}", example.command))
                .current_dir(&cwd)
                .env("PATH", &path)
                .env("CI", "true")
                .env("GIT_AUTHOR_NAME", "you")
                .env("GIT_AUTHOR_EMAIL", "you@example.com")
                .env("GIT_COMMITTER_NAME", "you")
                .env("GIT_COMMITTER_EMAIL", "you@example.com")
                .env_remove("GITHUB_ACTIONS")
                .env_remove("GITHUB_STEP_SUMMARY")
                .output()
                .unwrap();
            let actual_raw = String::from_utf8_lossy(&out.stdout).replace(&root, SHOWN_ROOT);
            let actual: Vec<String> =
                trimmed(actual_raw.lines().map(|l| normalize(l, &root)).collect());
            let expected: Vec<String> = trimmed(
                example
                    .expected
                    .iter()
                    .map(|l| normalize(l, &root))
                    .collect(),
            );
            let matched = lines_match(&expected, &actual);
            if out.status.success() && matched {
                blessed.extend(example.expected.iter().cloned());
                continue;
            }
            block_ok = false;
            blessed.extend(trimmed(actual_raw.lines().map(str::to_string).collect()));
            failures.push(format!(
                "line {}: `{}` {}\n--- expected\n{}\n--- actual\n{}",
                example.line,
                example.command,
                if out.status.success() {
                    "printed something else"
                } else {
                    "failed"
                },
                example.expected.join("\n"),
                actual_raw.trim_end()
            ));
        }
        if bless && !block_ok {
            replacements.push((block.start..block.end, blessed));
        }
    }
    if replacements.is_empty() {
        return (failures, None);
    }
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (range, blessed) in replacements.into_iter().rev() {
        lines.splice(range, blessed);
    }
    (failures, Some(lines.join("\n") + "\n"))
}

#[test]
fn docs_examples_run_as_shown() {
    let bless = std::env::var_os("GOB_BLESS_DOCS").is_some();
    let mut report = String::new();
    for page in pages() {
        let (failures, rewritten) = run_page(&page, bless);
        if let Some(text) = rewritten {
            std::fs::write(&page, text).unwrap();
        }
        for failure in failures {
            let shown = page.strip_prefix(repo()).unwrap_or(&page).display();
            report.push_str(&format!("{shown}:{failure}\n\n"));
        }
    }
    assert!(report.is_empty(), "the docs drifted from gob:\n\n{report}");
}

#[test]
fn docs_matching_rules() {
    let root = "/tmp/x";
    assert_eq!(
        normalize("gob: built 5 binaries in 0.4s, 2 CPUs at /tmp/x/bin", root),
        "gob: built 5 binaries in <time>, <n> CPUs at /home/you/app/bin"
    );
    assert_eq!(
        normalize("took 1m2.5s; v1.2s3 and 12ms", root),
        "took <time>; v1.2s3 and <time>"
    );
    assert_eq!(normalize("3 suites", root), "3 suites");
    assert_eq!(
        normalize("    10.02s  build runtime", root),
        normalize("     3.35s  build runtime", root)
    );
    assert_eq!(normalize("x GOMAXPROCS=16 go", root), "x GOMAXPROCS=<n> go");
    assert!(line_matches("a [..] c", "a bbb c"));
    assert!(!line_matches("a [..] c", "a bbb d"));
    let lines = |s: &str| s.lines().map(str::to_string).collect::<Vec<_>>();
    assert!(lines_match(&lines("a\n...\nd"), &lines("a\nb\nc\nd")));
    assert!(lines_match(&lines("a\n...\nd"), &lines("a\nd")));
    assert!(!lines_match(&lines("a\n...\nd"), &lines("a\nb")));
    assert!(!lines_match(&lines("a"), &lines("a\nb")));
    let (blocks, hidden) =
        parse("```console\n$ gob list\nout\n```\n```sh\ngob build\n```\n```toml\nx = 1\n```\n");
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].examples[0].expected, ["out"]);
    assert_eq!(hidden.len(), 1, "{hidden:?}");
}
