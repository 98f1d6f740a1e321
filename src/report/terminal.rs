//! The terminal reporter: a live progress line (indicatif) on a terminal, plain lines when
//! output is not a terminal or `CI` is set; failures printed with their output as packages
//! finish; at the end a summary with failures first, then the slowest packages and tests.

use std::io::Write;
use std::time::Duration;

use console::Style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::collect::{PackageOutcome, PackageResult, TestStatus};
use super::env::ReportEnv;
use super::sink::{Sink, plural};
use crate::base::events::GobEvent;
use crate::base::events::TestEvent;

/// How many of the slowest packages and tests the summary lists.
const SLOWEST: usize = 5;

/// A writer the terminal reporter prints to.
pub type Writer = Box<dyn Write + Send>;

/// Where the live status stands.
#[derive(Debug, Default)]
struct Status {
    suite: String,
    done: usize,
    total: usize,
    compiling: Option<(usize, usize)>,
    running: Option<String>,
    test: Option<String>,
    building: Option<(usize, usize, usize)>,
}

impl Status {
    fn message(&self) -> String {
        if let Some((call, calls, binaries)) = self.building {
            return format!(
                "go build call {call}/{calls} ({})",
                super::sink::binaries(binaries)
            );
        }
        let mut parts = vec![format!(
            "{}: {}/{} packages",
            self.suite, self.done, self.total
        )];
        if let Some((call, calls)) = self.compiling {
            parts.push(format!("compiling {call}/{calls}"));
        }
        if let Some(package) = &self.running {
            let test = self
                .test
                .as_deref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default();
            parts.push(format!("running {package}{test}"));
        }
        parts.join(" · ")
    }
}

/// A suite's line in the summary.
#[derive(Debug, Clone)]
struct SuiteLine {
    name: String,
    integ: bool,
    passed: usize,
    failed: usize,
    skipped: Vec<String>,
    not_affected: usize,
    compile_calls: usize,
    /// Test binaries its compile calls linked.
    linked: usize,
    elapsed: f64,
}

/// Prints for people.
pub struct Terminal {
    lines: Writer,
    notes: Writer,
    progress: Option<ProgressBar>,
    ok: Style,
    fail: Style,
    status: Status,
    suites: Vec<SuiteLine>,
    integ: bool,
    /// Test binaries the running suite's compile calls linked so far.
    linked: usize,
    /// Failed packages not run again, and why.
    not_retried: Vec<String>,
    /// Slow tests: (package, test) → the longest time reported.
    slow: std::collections::BTreeMap<(String, String), f64>,
    /// Under GitHub Actions: test output is wrapped so no line of it is a workflow command.
    guard_commands: bool,
}

impl Terminal {
    /// The reporter for this process: package lines on stdout (on stderr with `json`, whose
    /// stdout is the event stream), notes and the summary on stderr, a live progress line on
    /// stderr when stdout and stderr are terminals and `CI` is unset, colors unless `NO_COLOR`.
    pub fn for_process(env: &ReportEnv, json: bool) -> Terminal {
        let interactive = env.stderr_tty && (json || env.stdout_tty) && !env.ci && !env.dumb_term;
        let color = interactive && !env.no_color;
        let lines: Writer = if json {
            Box::new(std::io::stderr())
        } else {
            Box::new(std::io::stdout())
        };
        let mut terminal = Terminal::new(lines, Box::new(std::io::stderr()), color);
        terminal.guard_commands = env.github_root.is_some();
        if interactive {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            terminal.progress = Some(bar);
        }
        terminal
    }

    /// A plain reporter writing package lines to `lines` and notes to `notes`.
    pub fn new(lines: Writer, notes: Writer, color: bool) -> Terminal {
        Terminal {
            lines,
            notes,
            progress: None,
            ok: Style::new().green().force_styling(color),
            fail: Style::new().red().bold().force_styling(color),
            status: Status::default(),
            suites: Vec::new(),
            integ: false,
            linked: 0,
            not_retried: Vec::new(),
            slow: Default::default(),
            guard_commands: false,
        }
    }

    fn print(&mut self, to_notes: bool, text: &str) {
        let writer = if to_notes {
            &mut self.notes
        } else {
            &mut self.lines
        };
        let mut write = || {
            let _ = writer.write_all(text.as_bytes());
            let _ = writer.flush();
        };
        match &self.progress {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    fn refresh(&self) {
        if let Some(bar) = &self.progress {
            bar.set_message(self.status.message());
        }
    }

    fn block(&mut self, title: &str, lines: &[String]) {
        let mut output = String::new();
        for line in lines {
            output.push_str("    ");
            output.push_str(line);
            if !line.ends_with('\n') {
                output.push('\n');
            }
        }
        if self.guard_commands {
            output = super::github::untrusted(&output);
        }
        let text = format!("--- {}\n{output}", self.fail.apply_to(title));
        self.print(false, &text);
    }

    fn package_lines(&mut self, r: &PackageResult) {
        let package = &r.package;
        if r.outcome == PackageOutcome::Passed {
            let cached = if r.cached { " (cached)" } else { "" };
            let flaky: Vec<String> = r
                .flaky_tests()
                .iter()
                .map(|t| format!("{} passed on attempt {}", t.name, t.earlier.len() + 1))
                .collect();
            let flaky = match flaky.is_empty() {
                true => String::new(),
                false => format!(" (flaky: {})", flaky.join(", ")),
            };
            let text = format!(
                "{}   {package} {:.2}s{cached}{flaky}\n",
                self.ok.apply_to("ok"),
                r.elapsed
            );
            self.print(false, &text);
            return;
        }
        if r.outcome == PackageOutcome::BuildFailed {
            let text = format!("{} {package} [build failed]\n", self.fail.apply_to("FAIL"));
            self.print(false, &text);
            return;
        }
        for test in r.tests.iter().filter(|t| t.status == TestStatus::Failed) {
            self.block(&format!("FAIL {package} {}", test.name), &test.output);
        }
        let unfinished: Vec<_> = r
            .tests
            .iter()
            .filter(|t| t.status == TestStatus::Unfinished)
            .collect();
        let why = r
            .note
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        if !unfinished.is_empty() {
            let names: Vec<&str> = unfinished.iter().map(|t| t.name.as_str()).collect();
            let why = if why.is_empty() {
                " (did not finish)".to_string()
            } else {
                why.clone()
            };
            let mut lines: Vec<String> = unfinished
                .iter()
                .flat_map(|t| t.output.iter().cloned())
                .collect();
            lines.extend(r.output.iter().cloned());
            self.block(&format!("FAIL {package} {}{why}", names.join(", ")), &lines);
        } else if r.failed_tests().is_empty() {
            self.block(&format!("FAIL {package}{why}"), &r.output);
        }
        let attempt = match r.attempts {
            1 => String::new(),
            n => format!(" (attempt {n})"),
        };
        let text = format!(
            "{} {package} {:.2}s{attempt}\n",
            self.fail.apply_to("FAIL"),
            r.elapsed
        );
        self.print(false, &text);
    }

    fn summary(&mut self, results: &[PackageResult]) -> String {
        let mut text = String::new();
        for s in &self.suites {
            let calls = if s.integ {
                let linked = match s.linked {
                    0 => "no binary".to_string(),
                    1 => "1 binary".to_string(),
                    n => format!("{n} binaries"),
                };
                let calls = plural(s.compile_calls, "compile call");
                format!(", {calls} ({linked} linked)")
            } else {
                String::new()
            };
            let not_affected = match s.not_affected {
                0 => String::new(),
                n => format!(", {n} not affected by the changes"),
            };
            text.push_str(&format!(
                "gob: suite {}: {} passed, {} failed, {} without test files (skipped){not_affected}{calls} in {:.1}s\n",
                s.name,
                s.passed,
                s.failed,
                s.skipped.len(),
                s.elapsed
            ));
            if !s.skipped.is_empty() {
                text.push_str(&format!(
                    "  skipped (no test files): {}\n",
                    s.skipped.join(", ")
                ));
            }
        }
        let failures: Vec<&PackageResult> = results
            .iter()
            .filter(|r| r.outcome != PackageOutcome::Passed)
            .collect();
        let flaky: Vec<String> = results
            .iter()
            .flat_map(|r| {
                r.flaky_tests().into_iter().map(move |t| {
                    let runs = t.earlier.len() + 1;
                    format!(
                        "  FLAKY {} {}: failed {} of {runs} attempts\n",
                        r.package,
                        t.name,
                        runs - 1
                    )
                })
            })
            .collect();
        if !flaky.is_empty() {
            text.push_str("flaky tests (failed, then passed when run again):\n");
            text.push_str(&flaky.concat());
        }
        if !self.not_retried.is_empty() {
            text.push_str("not retried:\n");
            for line in &self.not_retried {
                text.push_str(&format!("  {line}\n"));
            }
        }
        if !self.slow.is_empty() {
            text.push_str("slow tests:\n");
            for ((package, test), elapsed) in &self.slow {
                text.push_str(&format!("  SLOW {elapsed:.0}s+ {package} {test}\n"));
            }
        }
        if !failures.is_empty() {
            text.push_str("failures:\n");
            for r in failures {
                let detail = match (r.outcome, r.failed_tests().as_slice(), &r.note) {
                    (PackageOutcome::BuildFailed, _, _) => " [build failed]".to_string(),
                    (_, [], Some(note)) => format!(" ({note})"),
                    (_, [], None) => String::new(),
                    (_, tests, _) => format!(": {}", tests.join(", ")),
                };
                text.push_str(&format!("  FAIL {}{detail}\n", r.package));
            }
        }
        let mut packages: Vec<&PackageResult> =
            results.iter().filter(|r| r.elapsed > 0.0).collect();
        packages.sort_by(|a, b| {
            b.elapsed
                .total_cmp(&a.elapsed)
                .then(a.package.cmp(&b.package))
        });
        if packages.len() > 1 {
            text.push_str("slowest packages:\n");
            for r in packages.iter().take(SLOWEST) {
                text.push_str(&format!("  {:>7.2}s {}\n", r.elapsed, r.package));
            }
        }
        let mut tests: Vec<(&str, &str, f64)> = results
            .iter()
            .flat_map(|r| {
                r.tests
                    .iter()
                    .map(move |t| (r.package.as_str(), t.name.as_str(), t.elapsed))
            })
            .filter(|(_, _, e)| *e > 0.0)
            .collect();
        tests.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(b.0)).then(a.1.cmp(b.1)));
        if tests.len() > 1 {
            text.push_str("slowest tests:\n");
            for (package, test, elapsed) in tests.iter().take(SLOWEST) {
                text.push_str(&format!("  {elapsed:>7.2}s {package} {test}\n"));
            }
        }
        text
    }
}

impl Sink for Terminal {
    fn gob_event(&mut self, event: &GobEvent) {
        match event {
            GobEvent::SuiteStart {
                suite,
                integ,
                packages,
            } => {
                self.status = Status {
                    suite: suite.clone(),
                    total: *packages,
                    ..Status::default()
                };
                self.integ = *integ;
                self.linked = 0;
                self.print(
                    false,
                    &format!("=== suite {suite} ({})\n", plural(*packages, "package")),
                );
            }
            GobEvent::CompileStart {
                suite,
                call,
                calls,
                packages,
            } => {
                self.status.compiling = Some((*call, *calls));
                if self.progress.is_none() {
                    let text = format!(
                        "gob: compiling {suite} tests, call {call}/{calls} ({})\n",
                        plural(packages.len(), "package")
                    );
                    self.print(true, &text);
                }
            }
            GobEvent::CompileEnd { linked, .. } => {
                self.status.compiling = None;
                self.linked += linked;
            }
            GobEvent::RunStart { package, .. } => {
                self.status.running = Some(package.clone());
                self.status.test = None;
            }
            GobEvent::SuiteEnd {
                suite,
                passed,
                failed,
                skipped,
                not_affected,
                compile_calls,
                elapsed,
            } => {
                self.suites.push(SuiteLine {
                    name: suite.clone(),
                    integ: self.integ,
                    passed: *passed,
                    failed: *failed,
                    skipped: skipped.clone(),
                    not_affected: *not_affected,
                    compile_calls: *compile_calls,
                    linked: self.linked,
                    elapsed: *elapsed,
                });
                self.status.running = None;
            }
            GobEvent::BuildStart {
                call,
                calls,
                binaries,
            } => {
                self.status.building = Some((*call, *calls, binaries.len()));
            }
            GobEvent::BuildEnd { .. } => self.status.building = None,
            GobEvent::BuildOutput { output } => {
                let output = output.clone();
                self.print(true, &output);
            }
            GobEvent::Publish { .. } | GobEvent::Selection { .. } => {}
            GobEvent::Retry {
                package,
                tests,
                attempt,
                ..
            } => {
                let what = match tests.is_empty() {
                    true => "the whole package".to_string(),
                    false => tests.join(", "),
                };
                let text = format!("RETRY {package} (attempt {attempt}): {what}\n");
                self.print(false, &text);
            }
            GobEvent::RetrySkipped {
                package,
                failed,
                max,
                ..
            } => {
                let line = format!(
                    "{package}: {failed} tests failed, more than --max-retried-failures {max}: not flakiness"
                );
                self.print(true, &format!("gob: not retried: {line}\n"));
                self.not_retried.push(line);
            }
            GobEvent::Slow {
                package,
                test,
                elapsed,
                ..
            } => {
                self.print(false, &format!("SLOW {elapsed:.0}s {package} {test}\n"));
                let longest = self
                    .slow
                    .entry((package.clone(), test.clone()))
                    .or_default();
                *longest = longest.max(*elapsed);
            }
            GobEvent::TaskStart { task, why } => {
                self.print(true, &format!("gob: task {task}: running ({why})\n"));
            }
            GobEvent::TaskOutput { task, line } => {
                self.print(true, &format!("[{task}] {line}\n"));
            }
            GobEvent::TaskEnd {
                task,
                status,
                why,
                elapsed,
            } => {
                let text = match (status.as_str(), why) {
                    ("ran", _) => format!("gob: task {task}: done in {elapsed:.1}s\n"),
                    ("failed", Some(why)) => format!(
                        "gob: task {task}: {} ({why})\n",
                        self.fail.apply_to("FAILED")
                    ),
                    (status, Some(why)) => format!("gob: task {task}: {status} ({why})\n"),
                    (status, None) => format!("gob: task {task}: {status}\n"),
                };
                self.print(true, &text);
            }
            GobEvent::Service { task, state, why } => {
                let why = why.as_deref().map(|w| format!(": {w}")).unwrap_or_default();
                self.print(true, &format!("gob: service {task}: {state}{why}\n"));
            }
            GobEvent::RemoteCache { summary, .. }
            | GobEvent::RemoteExec { summary, .. }
            | GobEvent::Coverage { summary, .. } => {
                self.print(true, &format!("gob: {summary}\n"))
            }
            GobEvent::RemoteRun {
                package,
                cached: true,
                ..
            } => self.print(
                true,
                &format!("gob: {package}: result reused from the remote action cache (cache_results)\n"),
            ),
            GobEvent::RemoteRun { .. } => {}
            GobEvent::RemoteFallback {
                package, reason, ..
            } => self.print(
                true,
                &format!("gob: warning: {package}: remote execution failed ({reason}); running it on this machine\n"),
            ),
        }
        self.refresh();
    }

    fn test_event(&mut self, event: &TestEvent) {
        if let Some((_, output)) = super::collect::build_output(event) {
            let output = output.to_string();
            self.print(true, &output);
            return;
        }
        match (event.action.as_str(), &event.test) {
            ("run", Some(test)) => self.status.test = Some(test.clone()),
            ("pass" | "fail" | "skip", Some(_)) => self.status.test = None,
            _ => return,
        }
        self.refresh();
    }

    fn package_done(&mut self, result: &PackageResult) {
        if result.attempts == 1 {
            self.status.done += 1;
        }
        if self.status.running.as_deref() == Some(result.package.as_str()) {
            self.status.running = None;
        }
        self.package_lines(result);
        self.refresh();
    }

    fn finish(&mut self, results: &[PackageResult]) -> std::io::Result<()> {
        if let Some(bar) = self.progress.take() {
            bar.finish_and_clear();
        }
        let summary = self.summary(results);
        self.print(true, &summary);
        Ok(())
    }
}
