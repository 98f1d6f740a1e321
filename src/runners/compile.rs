//! Compiling an integration suite's test binaries: the one go call of
//! [`crate::plan::test::IntegCompile`], read as go prints: a ready line for each binary gob
//! kept ([`crate::testexec`]), a summary line for each package, and go's other output
//! (compile errors) passed on. A binary whose cached result outlived its kept file (the store
//! was cleaned, or a revert brought back an older build) is linked again by a second call
//! with `-count=1`.

use std::path::Path;
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use crate::exec::{Outcome, SpawnError, run_merged};
use crate::go::summary::package_summary;
use crate::plan::test::{IntegCompile, TestBinary, TestPackage};
use crate::testexec::parse_ready;

/// What the compile tells its consumer, in order.
#[derive(Debug)]
pub enum CompileMessage {
    /// A call (1-based) started, compiling these packages.
    Started {
        /// The call.
        call: usize,
        /// Import paths of its packages.
        packages: Vec<String>,
    },
    /// A line of go's output that is not gob's own bookkeeping (a compile error).
    Line(String),
    /// A test binary is ready to run.
    Ready(TestBinary),
    /// A package did not build.
    Failed(String),
    /// A call ended.
    Ended {
        /// The call.
        call: usize,
        /// It succeeded.
        ok: bool,
        /// Seconds.
        elapsed: f64,
        /// Binaries go linked in it; it replayed the others' cached results.
        linked: usize,
    },
}

/// What a call's output said about one package so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Nothing,
    Ready,
    /// Passed, but its binary is not in the store: link it again.
    Gone,
    Failed,
}

/// The state of reading one call's output.
struct Reading<'a> {
    packages: &'a [TestPackage],
    seen: Vec<Seen>,
    /// go's summary said `(cached)`.
    cached: Vec<bool>,
}

impl Reading<'_> {
    fn line(&mut self, line: &str, send: &impl Fn(CompileMessage)) {
        if let Some((dir, path)) = parse_ready(line)
            && let Some(i) = self.packages.iter().position(|p| p.dir == Path::new(dir))
        {
            let path = Path::new(path);
            self.seen[i] = match path.is_file() {
                true => {
                    send(CompileMessage::Ready(TestBinary {
                        package: self.packages[i].clone(),
                        path: path.to_path_buf(),
                    }));
                    Seen::Ready
                }
                false => Seen::Gone,
            };
            return;
        }
        if let Some(summary) = package_summary(line)
            && let Some(i) = self
                .packages
                .iter()
                .position(|p| p.import_path == summary.package)
        {
            let package = summary.package;
            self.cached[i] = summary.cached;
            match (summary.passed, self.seen[i]) {
                (false, Seen::Failed) => {}
                (false, _) => {
                    self.seen[i] = Seen::Failed;
                    send(CompileMessage::Failed(package.to_string()));
                }
                (true, Seen::Nothing) => self.seen[i] = Seen::Gone,
                (true, _) => {}
            }
            return;
        }
        // go's last line when a package failed.
        if line != "FAIL" {
            send(CompileMessage::Line(line.to_string()));
        }
    }
}

/// Runs the compile; returns the signal that stopped it, if one did. Every package ends in
/// exactly one `Ready` or `Failed` message unless the compile was stopped.
pub async fn compile(
    plan: IntegCompile,
    messages: UnboundedSender<CompileMessage>,
) -> Result<Option<i32>, SpawnError> {
    let send = |message| {
        let _ = messages.send(message);
    };
    let mut packages = plan.packages.clone();
    let mut command = plan.command.clone();
    for call in 1..=2 {
        send(CompileMessage::Started {
            call,
            packages: packages.iter().map(|p| p.import_path.clone()).collect(),
        });
        let clock = Instant::now();
        let mut reading = Reading {
            packages: &packages,
            seen: vec![Seen::Nothing; packages.len()],
            cached: vec![false; packages.len()],
        };
        let outcome = run_merged(&command, |line| reading.line(line, &send)).await?;
        let linked = reading
            .seen
            .iter()
            .zip(&reading.cached)
            .filter(|&(seen, cached)| *seen == Seen::Ready && !cached)
            .count();
        send(CompileMessage::Ended {
            call,
            ok: outcome == Outcome::Succeeded,
            elapsed: clock.elapsed().as_secs_f64(),
            linked,
        });
        if let Outcome::Interrupted(sig) = outcome {
            return Ok(Some(sig));
        }
        let mut again = Vec::new();
        for (package, seen) in packages.iter().zip(&reading.seen) {
            match seen {
                Seen::Gone if call == 1 => again.push(package.clone()),
                Seen::Nothing | Seen::Gone => {
                    send(CompileMessage::Failed(package.import_path.clone()))
                }
                Seen::Ready | Seen::Failed => {}
            }
        }
        if again.is_empty() {
            break;
        }
        command = plan.again(&again);
        packages = again;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn package(name: &str, dir: &Path) -> TestPackage {
        TestPackage {
            import_path: format!("example.com/{name}"),
            dir: dir.join(name),
        }
    }

    #[test]
    fn reading_go_output_reports_ready_failed_and_gone_binaries() {
        let root = tempfile::tempdir().unwrap();
        let packages = [
            package("a", root.path()),
            package("b", root.path()),
            package("c", root.path()),
            package("d", root.path()),
        ];
        let kept = root.path().join("a.test");
        std::fs::write(&kept, "binary").unwrap();
        let mut reading = Reading {
            packages: &packages,
            seen: vec![Seen::Nothing; packages.len()],
            cached: vec![false; packages.len()],
        };
        let sent = Mutex::new(Vec::new());
        let send = |m: CompileMessage| sent.lock().unwrap().push(format!("{m:?}"));
        let a = root.path().join("a").display().to_string();
        let c = root.path().join("c").display().to_string();
        for line in [
            format!("gob-test-binary\t{a}\t{}", kept.display()),
            "ok  \texample.com/a\t0.01s".to_string(),
            "# example.com/b [example.com/b.test]".to_string(),
            "b/b_test.go:3:2: undefined: x".to_string(),
            "FAIL\texample.com/b [build failed]".to_string(),
            format!("gob-test-binary\t{c}\t/nowhere/c.test"),
            "ok  \texample.com/c\t(cached)".to_string(),
            "FAIL".to_string(),
        ] {
            reading.line(&line, &send);
        }
        assert_eq!(
            reading.seen,
            [Seen::Ready, Seen::Failed, Seen::Gone, Seen::Nothing]
        );
        let sent = sent.into_inner().unwrap();
        assert_eq!(sent.len(), 4, "{sent:#?}");
        assert!(
            sent[0].starts_with("Ready(") && sent[0].contains("a.test"),
            "{sent:#?}"
        );
        assert!(sent[1].contains("# example.com/b"), "{sent:#?}");
        assert!(sent[2].contains("undefined: x"), "{sent:#?}");
        assert_eq!(sent[3], r#"Failed("example.com/b")"#);
    }
}
