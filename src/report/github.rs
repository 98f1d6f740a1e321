//! GitHub Actions (`GITHUB_ACTIONS=true`): each failing package's output folded in a
//! `::group::`, and `::error file=…,line=…` annotations for failing tests (at the first
//! `file.go:line:` their output names) and for compile errors.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::collect::{PackageOutcome, PackageResult, TestStatus};
use super::sink::Sink;
use crate::base::events::GobEvent;

/// Writes workflow commands.
pub struct GithubActions {
    out: Box<dyn Write + Send>,
    /// Workspace dir: go prints compile errors relative to it.
    workspace_dir: PathBuf,
    /// Annotation paths are relative to this (GITHUB_WORKSPACE, the checkout).
    root: PathBuf,
}

impl GithubActions {
    /// Annotations to `out`; files are named relative to `root`.
    pub fn new(out: Box<dyn Write + Send>, workspace_dir: PathBuf, root: PathBuf) -> Self {
        GithubActions {
            out,
            workspace_dir,
            root,
        }
    }

    fn write(&mut self, line: &str) {
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }

    fn file(&self, dir: &Path, file: &str) -> String {
        let path = crate::base::paths::normalize(&dir.join(file));
        crate::base::paths::relative_to(&path, &self.root)
            .display()
            .to_string()
    }
}

/// `(file, line, col, message)` from a line like `  a_test.go:12: msg` or `pkg/a.go:3:7: msg`.
pub fn location(line: &str) -> Option<(String, u32, Option<u32>, String)> {
    let line = line.trim();
    let (file, rest) = line.split_once(".go:")?;
    if file.contains(' ') || file.is_empty() {
        return None;
    }
    let mut parts = rest.splitn(3, ':');
    let line_no: u32 = parts.next()?.trim().parse().ok()?;
    let second = parts.next()?;
    let (col, message) = match second.trim().parse::<u32>() {
        Ok(col) => (Some(col), parts.next().unwrap_or("").trim().to_string()),
        Err(_) => {
            let rest: Vec<&str> = std::iter::once(second).chain(parts).collect();
            (None, rest.join(":").trim().to_string())
        }
    };
    Some((format!("{file}.go"), line_no, col, message))
}

/// `text` (a test's output: untrusted, a pull request's tests print what they like) wrapped so
/// the runner takes no line of it as a workflow command: `::stop-commands::TOKEN` before it
/// and `::TOKEN::` after it, with a fresh random token each time (GitHub's documented way;
/// a test cannot print the token it would need to resume commands).
pub fn untrusted(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let token = fresh_token();
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    format!("::stop-commands::{token}\n{text}{newline}::{token}::\n")
}

/// 128 random bits in hex (from the kernel; from the clock and pid if it cannot be read).
fn fresh_token() -> String {
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if read.is_err() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let seed = format!("{now} {}", std::process::id());
        bytes[..8].copy_from_slice(&crate::base::hash::fnv1a(seed.as_bytes()).to_le_bytes());
    }
    crate::base::hash::hex(&bytes)
}

/// Escapes workflow-command data.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

impl GithubActions {
    /// Annotates a line go printed while compiling, if it names a file.
    fn compile_error(&mut self, output: &str) {
        if let Some((file, line, col, message)) = location(output) {
            let file = self.file(&self.workspace_dir.clone(), &file);
            let col = col.map(|c| format!(",col={c}")).unwrap_or_default();
            self.write(&format!(
                "::error file={},line={line}{col},title=compile error::{}",
                property(&file),
                data(&message)
            ));
        }
    }
}

impl Sink for GithubActions {
    fn gob_event(&mut self, event: &GobEvent) {
        if let GobEvent::BuildOutput { output } = event {
            self.compile_error(output);
        }
    }

    fn test_event(&mut self, event: &crate::base::events::TestEvent) {
        if let Some((_, output)) = super::collect::build_output(event) {
            self.compile_error(output);
        }
    }

    fn package_done(&mut self, r: &PackageResult) {
        if r.attempts > 1 {
            // A rerun: its first run was annotated; a flaky pass is a warning.
            for test in r.flaky_tests() {
                self.write(&format!(
                    "::warning title={}::{} is flaky: failed {} of {} attempts",
                    property(&format!("{} {}", r.package, test.name)),
                    test.name,
                    test.earlier.len(),
                    test.earlier.len() + 1
                ));
            }
            return;
        }
        if r.outcome == PackageOutcome::Passed {
            return;
        }
        self.write(&format!("::group::FAIL {}", r.package));
        let mut text = String::new();
        for test in &r.tests {
            text.extend(test.output.iter().map(String::as_str));
        }
        text.extend(r.output.iter().map(String::as_str));
        let _ = self.out.write_all(untrusted(&text).as_bytes());
        self.write("::endgroup::");
        let dir = r.dir.clone().unwrap_or_else(|| self.workspace_dir.clone());
        for test in &r.tests {
            if !matches!(test.status, TestStatus::Failed | TestStatus::Unfinished) {
                continue;
            }
            let title = property(&format!("{} {}", r.package, test.name));
            // The last `file.go:N:` line is where the test failed (t.Log lines come before);
            // test output names files without their dir, so only a file of the package's own
            // dir gets a location (a helper's file in another package would be misplaced).
            let found = test
                .output
                .iter()
                .rev()
                .find_map(|l| location(l))
                .filter(|(file, ..)| dir.join(file).is_file());
            let line = match found {
                Some((file, line, _, message)) => format!(
                    "::error file={},line={line},title={title}::{}",
                    property(&self.file(&dir, &file)),
                    data(&message)
                ),
                None => {
                    let why = r.note.as_deref().unwrap_or("failed");
                    format!("::error title={title}::{} {}", test.name, data(why))
                }
            };
            self.write(&line);
        }
        if r.failed_tests().is_empty() {
            let why = match r.outcome {
                PackageOutcome::BuildFailed => "build failed",
                _ => r.note.as_deref().unwrap_or("failed"),
            };
            self.write(&format!(
                "::error title={}::{}",
                property(&r.package),
                data(&format!("{} {why}", r.package))
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_in_test_output_and_compile_errors() {
        assert_eq!(
            location("        fail_test.go:11: expected failure: got 1, want 2\n"),
            Some((
                "fail_test.go".into(),
                11,
                None,
                "expected failure: got 1, want 2".into()
            ))
        );
        assert_eq!(
            location("cmd/a/main.go:5:2: undefined: x"),
            Some(("cmd/a/main.go".into(), 5, Some(2), "undefined: x".into()))
        );
        assert_eq!(location("panic: boom"), None);
        assert_eq!(location("=== RUN TestX"), None);
    }

    #[test]
    fn workflow_command_escapes() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
