//! Integration test binaries on a REAPI cluster: each binary is one action, with its
//! package's testdata and the suite's `include` files in the input root at their workspace
//! paths, run in its package dir as gob runs it locally. At most `jobs` actions are in flight.
//! A failure of the cluster (not of the test) is an [`ExecFailure`]; once the cluster is
//! unreachable or has no worker for the platform, later binaries do not try it again.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Semaphore;

use super::{Events, SuiteRun, feed_line};
use crate::base::events::{GobEvent, OUTPUT_HEAD_LINES, OUTPUT_TAIL_BYTES};
use crate::plan::remote::{REMOTE_PROFILE, plan_remote_run};
use crate::plan::test::TestBinary;
use crate::reapi::Client;
use crate::reapi::execute::{ExecFailure, FailureKind, Finished};
use crate::reapi::tree::{InputFile, input_root};
use crate::workspace::remoteexec::RemoteExecSettings;

/// What remote execution did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteCounts {
    /// Binaries run on the cluster.
    pub remote: usize,
    /// Of those, results the action cache served.
    pub cached: usize,
    /// Binaries run here after a remote failure.
    pub fallback: usize,
}

/// Runs test binaries on one cluster.
#[derive(Debug)]
pub struct RemoteExecutor {
    client: Client,
    settings: RemoteExecSettings,
    slots: Semaphore,
    /// Why the cluster is not tried any more, once it failed for good.
    down: Mutex<Option<String>>,
    counts: Mutex<RemoteCounts>,
}

impl RemoteExecutor {
    /// An executor for `settings`; nothing is sent yet.
    pub fn new(settings: RemoteExecSettings) -> Result<RemoteExecutor, String> {
        Ok(RemoteExecutor {
            client: Client::new(&settings.server)?,
            slots: Semaphore::new(settings.jobs),
            settings,
            down: Mutex::new(None),
            counts: Mutex::new(RemoteCounts::default()),
        })
    }

    /// How many actions run on the cluster at once (`[exec] jobs`).
    pub fn capacity(&self) -> usize {
        self.settings.jobs.max(1)
    }

    /// Whether a remote failure fails the run instead of running the binary here.
    pub fn strict(&self) -> bool {
        self.settings.strict
    }

    /// Counts one more binary run here after a failure.
    pub fn fell_back(&self) {
        self.count(|c| c.fallback += 1);
    }

    fn count(&self, f: impl FnOnce(&mut RemoteCounts)) {
        f(&mut self.counts.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Runs `binary` of `run` (with `extra` test arguments) on the cluster; its output comes
    /// back converted to test2json events, bounded as a local run's is.
    pub async fn run(
        &self,
        run: &SuiteRun<'_>,
        binary: &TestBinary,
        extra: &[String],
    ) -> Result<Ran, ExecFailure> {
        let down = || self.down.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(why) = down() {
            return Err(ExecFailure::new(FailureKind::Unreachable, why));
        }
        let _slot = self.slots.acquire().await;
        if let Some(why) = down() {
            return Err(ExecFailure::new(FailureKind::Unreachable, why));
        }
        let args: Vec<String> = run.user_args.iter().chain(extra).cloned().collect();
        let planned = plan_remote_run(run.suite, binary, &args, run.ctx, &self.settings.platform);
        let workspace = &run.ctx.workspace_dir;
        let inputs = crate::workspace::inputs::test_inputs(
            &binary.package.dir,
            workspace,
            &run.suite.include,
        );
        let mut files: Vec<InputFile> = inputs
            .into_iter()
            .map(|(path, source)| InputFile {
                executable: is_executable(&source),
                path,
                source,
            })
            .collect();
        files.retain(|f| f.path != planned.binary_path);
        files.push(InputFile {
            path: planned.binary_path.clone(),
            source: binary.path.clone(),
            executable: true,
        });
        let root =
            input_root(&files).map_err(|e| ExecFailure::new(FailureKind::MissingOutputs, e))?;
        let result = self.client.execute(&planned.action, root).await;
        match &result {
            Ok(finished) => self.count(|c| {
                c.remote += 1;
                c.cached += usize::from(finished.cached);
            }),
            Err(failure)
                if matches!(
                    failure.kind,
                    FailureKind::Unreachable | FailureKind::NoWorker
                ) =>
            {
                *self.down.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(failure.message.clone());
            }
            Err(_) => {}
        }
        let finished = result?;
        let package = &binary.package.import_path;
        let lines = self.converted(&finished, package).await?;
        if let Some(path) = run.profile(Some(package)) {
            self.fetch_profile(&finished, &path).await?;
        }
        Ok(Ran { finished, lines })
    }

    /// Writes the coverage profile the action wrote to `path` (nothing when the binary
    /// wrote none: it failed before its end, as it would have here).
    async fn fetch_profile(
        &self,
        finished: &Finished,
        path: &std::path::Path,
    ) -> Result<(), ExecFailure> {
        let Some((_, digest)) = finished.files.iter().find(|(p, _)| p == REMOTE_PROFILE) else {
            return Ok(());
        };
        let mut bytes = Vec::new();
        let output = crate::reapi::execute::Output::Stored(digest.clone());
        self.client
            .read_output(&output, &mut |chunk| bytes.extend_from_slice(chunk))
            .await?;
        crate::base::paths::write_atomically(path, &bytes).map_err(|e| {
            ExecFailure::new(
                FailureKind::MissingOutputs,
                format!("cannot write {}: {e}", path.display()),
            )
        })
    }

    /// The action's stdout, then its stderr, streamed from the CAS through gob's test2json
    /// converter; the events kept as a local run keeps output (its head and its tail).
    async fn converted(
        &self,
        finished: &Finished,
        package: &str,
    ) -> Result<Vec<String>, ExecFailure> {
        let mut conversion = Conversion::new(package);
        self.client
            .read_output(&finished.stdout, &mut |chunk| conversion.write(chunk))
            .await?;
        conversion.end_stdout();
        self.client
            .read_output(&finished.stderr, &mut |chunk| conversion.write(chunk))
            .await?;
        Ok(conversion.finish(finished.elapsed.unwrap_or(0.0)))
    }

    /// One line for `--dry-run`: where the integration suites' binaries would run.
    pub fn describe(&self) -> String {
        let url = crate::base::redact::credentials(&self.settings.server.url);
        let platform = match crate::workspace::remoteexec::platform_text(&self.settings.platform) {
            text if text.is_empty() => "any".to_string(),
            text => text,
        };
        format!(
            "# remote execution: each integration test binary below runs as one action on {url} (platform: {platform}), up to {} at a time, in its package dir relative to the workspace",
            self.settings.jobs
        )
    }

    /// The event that sums up the run, with `url` (credentials hidden) in it.
    pub fn summary(&self) -> GobEvent {
        let counts = *self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let url = crate::base::redact::credentials(&self.settings.server.url);
        let mut summary = format!(
            "remote execution ({url}): {} test {} ran on the cluster",
            counts.remote,
            if counts.remote == 1 {
                "binary"
            } else {
                "binaries"
            }
        );
        if counts.cached > 0 {
            summary.push_str(&format!(
                " ({} reused from the action cache)",
                counts.cached
            ));
        }
        if counts.fallback > 0 {
            summary.push_str(&format!(
                ", {} ran here after a remote failure",
                counts.fallback
            ));
        }
        GobEvent::RemoteExec {
            url,
            remote: counts.remote,
            cached: counts.cached,
            fallback: counts.fallback,
            summary,
        }
    }
}

/// A binary that ran on the cluster: the action's result and its output as test2json events.
#[derive(Debug, Clone)]
pub struct Ran {
    /// The result.
    pub finished: Finished,
    /// Its stdout and stderr, converted and bounded.
    pub lines: Vec<String>,
}

/// A remote run's output on its way through gob's test2json converter: stdout, then stderr,
/// in chunks as they arrive.
struct Conversion {
    package: String,
    converter: crate::go::test2json::Converter,
    kept: KeptLines,
    last: u8,
}

impl Conversion {
    fn new(package: &str) -> Conversion {
        Conversion {
            package: package.to_string(),
            converter: crate::go::test2json::Converter::new(
                package,
                Box::new(crate::base::events::now),
            ),
            kept: KeptLines::default(),
            last: b'\n',
        }
    }

    fn write(&mut self, chunk: &[u8]) {
        if let Some(byte) = chunk.last() {
            self.last = *byte;
        }
        self.kept.extend(self.converter.write(chunk));
    }

    /// Ends stdout's last line, so stderr starts a line of its own.
    fn end_stdout(&mut self) {
        if self.last != b'\n' {
            self.write(b"\n");
        }
    }

    fn finish(mut self, elapsed: f64) -> Vec<String> {
        self.kept.extend(self.converter.close_after(elapsed));
        self.kept.into_lines(&self.package)
    }
}

/// The events of one remote run, kept as a local run's output is kept: every event that is
/// not output (test starts and ends), and of the output the first
/// [`OUTPUT_HEAD_LINES`] lines and the last [`OUTPUT_TAIL_BYTES`]; what falls between is
/// counted, and said in one output line.
#[derive(Debug, Default)]
struct KeptLines {
    head: Vec<String>,
    /// Later lines with their place: (sequence, is output, line).
    tail: VecDeque<(usize, String)>,
    events: Vec<(usize, String)>,
    tail_bytes: usize,
    outputs: usize,
    omitted: usize,
    seq: usize,
}

impl KeptLines {
    fn extend(&mut self, lines: Vec<String>) {
        for line in lines {
            self.push(line);
        }
    }

    fn push(&mut self, line: String) {
        let output = line.contains("\"Action\":\"output\"");
        if self.outputs < OUTPUT_HEAD_LINES {
            self.outputs += usize::from(output);
            self.head.push(line);
            return;
        }
        self.seq += 1;
        if !output {
            self.events.push((self.seq, line));
            return;
        }
        self.tail_bytes += line.len();
        self.tail.push_back((self.seq, line));
        while self.tail_bytes > OUTPUT_TAIL_BYTES && self.tail.len() > 1 {
            if let Some((_, dropped)) = self.tail.pop_front() {
                self.tail_bytes -= dropped.len();
                self.omitted += 1;
            }
        }
    }

    /// The kept lines in their order, the omission said after the head.
    fn into_lines(self, package: &str) -> Vec<String> {
        let mut lines = self.head;
        if self.omitted > 0 {
            let note = crate::base::events::TestEvent {
                time: None,
                action: "output".into(),
                package: Some(package.to_string()),
                test: None,
                elapsed: None,
                output: Some(format!("[gob: {} lines of output omitted]\n", self.omitted)),
                extra: Default::default(),
            };
            lines.extend(serde_json::to_string(&note).ok());
        }
        let mut rest: Vec<(usize, String)> = self.events;
        rest.extend(self.tail);
        rest.sort_by_key(|(seq, _)| *seq);
        lines.extend(rest.into_iter().map(|(_, line)| line));
        lines
    }
}

/// Feeds what a binary printed on the cluster (converted) to `reporter`, then its end, as a
/// local run would.
pub fn report(reporter: &mut dyn Events, suite: &str, package: &str, ran: &Ran) {
    let finished = &ran.finished;
    reporter.gob(GobEvent::RunStart {
        suite: suite.to_string(),
        package: package.to_string(),
    });
    reporter.gob(GobEvent::RemoteRun {
        suite: suite.to_string(),
        package: package.to_string(),
        worker: finished.worker.clone(),
        cached: finished.cached,
        elapsed: finished.elapsed,
    });
    let elapsed = finished.elapsed.unwrap_or(0.0);
    for line in &ran.lines {
        feed_line(reporter, line);
    }
    match (finished.timed_out, finished.exit_code) {
        (true, _) => reporter.abandoned(
            package,
            "timed out: still running past its timeout, stopped by the cluster",
            elapsed,
        ),
        (false, 0) => reporter.exited_ok(package, elapsed),
        (false, code) => reporter.abandoned(package, &format!("exit status {code}"), elapsed),
    }
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::events::TestEvent;
    use crate::reapi::execute::Output;

    /// What a runner told its consumer, as text.
    #[derive(Default)]
    struct Recorded(Vec<String>);

    impl Events for Recorded {
        fn event(&mut self, e: &TestEvent) {
            let test = e.test.clone().unwrap_or_default();
            match e.action.as_str() {
                "output" => self
                    .0
                    .push(format!("output {}", e.output.as_deref().unwrap_or(""))),
                action => self.0.push(format!("{action} {test} {:?}", e.elapsed)),
            }
        }
        fn gob(&mut self, event: GobEvent) {
            if let GobEvent::RemoteRun { cached, .. } = event {
                self.0.push(format!("remote-run cached={cached}"));
            }
        }
        fn output_line(&mut self, line: &str) {
            self.0.push(format!("line {line}"));
        }
        fn build_failed(&mut self, package: &str) {
            self.0.push(format!("build-failed {package}"));
        }
        fn abandoned(&mut self, package: &str, why: &str, elapsed: f64) {
            self.0.push(format!("abandoned {package} {why} {elapsed}"));
        }
        fn exited_ok(&mut self, package: &str, elapsed: f64) {
            self.0.push(format!("exited-ok {package} {elapsed}"));
        }
        fn tick(&mut self) {}
    }

    fn finished(stdout: &str, exit_code: i32, timed_out: bool) -> Ran {
        let mut conversion = Conversion::new("m/db");
        conversion.write(stdout.as_bytes());
        conversion.end_stdout();
        conversion.write(b"panic: boom\n");
        Ran {
            finished: Finished {
                exit_code,
                stdout: Output::Inline(Vec::new()),
                stderr: Output::Inline(Vec::new()),
                cached: true,
                files: Vec::new(),
                timed_out,
                worker: "w1".into(),
                elapsed: Some(1.5),
            },
            lines: conversion.finish(1.5),
        }
    }

    fn report_of(ran: &Ran) -> Vec<String> {
        let mut recorded = Recorded::default();
        report(&mut recorded, "integ", "m/db", ran);
        recorded.0
    }

    #[test]
    fn a_huge_remote_output_is_kept_as_its_head_and_tail_with_every_test_event() {
        let mut conversion = Conversion::new("m/db");
        conversion.write(b"=== RUN   TestA\n");
        for i in 0..200_000 {
            conversion.write(format!("line {i} of a chatty test\n").as_bytes());
        }
        conversion
            .write(b"--- PASS: TestA (0.20s)\n=== RUN   TestB\n--- FAIL: TestB (0.00s)\nFAIL\n");
        let lines = conversion.finish(1.0);
        let bytes: usize = lines.iter().map(String::len).sum();
        assert!(bytes < 2 * OUTPUT_TAIL_BYTES, "bounded: {bytes} bytes");
        let text = lines.join("");
        assert!(
            text.contains("lines of output omitted"),
            "the omission is said"
        );
        assert!(text.contains("line 0 of a chatty test"), "the head is kept");
        assert!(
            text.contains("line 199999 of a chatty test"),
            "the tail is kept"
        );
        for event in [
            "\"Action\":\"pass\",\"Package\":\"m/db\",\"Test\":\"TestA\"",
            "\"Action\":\"fail\",\"Package\":\"m/db\",\"Test\":\"TestB\"",
        ] {
            assert!(text.contains(event), "{event} is kept");
        }
    }

    #[test]
    fn remote_output_becomes_events_with_the_workers_time() {
        let out = "=== RUN   TestA\n--- PASS: TestA (0.20s)\nPASS\n";
        let events = report_of(&finished(out, 0, false));
        assert_eq!(events[0], "remote-run cached=true");
        assert!(
            events.contains(&"pass TestA Some(0.2)".to_string()),
            "{events:?}"
        );
        assert!(
            events.contains(&"pass  Some(1.5)".to_string()),
            "the package result carries the worker's time: {events:?}"
        );
        assert!(
            events.iter().any(|e| e.contains("panic: boom")),
            "stderr follows stdout: {events:?}"
        );
        assert_eq!(events.last().unwrap(), "exited-ok m/db 1.5");
    }

    #[test]
    fn a_failed_or_timed_out_action_ends_the_package_as_locally() {
        let failed = report_of(&finished("--- FAIL: TestA (0.00s)\nFAIL", 1, false));
        assert_eq!(failed.last().unwrap(), "abandoned m/db exit status 1 1.5");
        let timed_out = report_of(&finished("=== RUN   TestA\n", 2, true));
        assert_eq!(
            timed_out.last().unwrap(),
            "abandoned m/db timed out: still running past its timeout, stopped by the cluster 1.5"
        );
    }
}
