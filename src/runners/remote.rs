//! Integration test binaries on a REAPI cluster: each binary is one action, with its
//! package's testdata and the suite's `include` files in the input root at their workspace
//! paths, run in its package dir as gob runs it locally. At most `jobs` actions are in flight.
//! A failure of the cluster (not of the test) is an [`ExecFailure`]; once the cluster is
//! unreachable or has no worker for the platform, later binaries do not try it again.

use std::sync::Mutex;

use tokio::sync::Semaphore;

use super::{Events, SuiteRun, feed_line};
use crate::base::events::GobEvent;
use crate::plan::remote::plan_remote_run;
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

    /// Runs `binary` of `run` (with `extra` test arguments) on the cluster.
    pub async fn run(
        &self,
        run: &SuiteRun<'_>,
        binary: &TestBinary,
        extra: &[String],
    ) -> Result<Finished, ExecFailure> {
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
        result
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

/// Feeds what a binary printed on the cluster through gob's test2json converter, then its
/// end, as a local run would.
pub fn report(reporter: &mut dyn Events, suite: &str, package: &str, finished: &Finished) {
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
    let mut converter =
        crate::go::test2json::Converter::new(package, Box::new(crate::base::events::now));
    let mut lines = converter.write(&finished.stdout);
    if !finished.stdout.is_empty() && !finished.stdout.ends_with(b"\n") {
        lines.extend(converter.write(b"\n"));
    }
    lines.extend(converter.write(&finished.stderr));
    let elapsed = finished.elapsed.unwrap_or(0.0);
    lines.extend(converter.close_after(elapsed));
    for line in &lines {
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

    fn finished(stdout: &str, exit_code: i32, timed_out: bool) -> Finished {
        Finished {
            exit_code,
            stdout: stdout.as_bytes().to_vec(),
            stderr: b"panic: boom\n".to_vec(),
            cached: true,
            timed_out,
            worker: "w1".into(),
            elapsed: Some(1.5),
        }
    }

    fn report_of(finished: &Finished) -> Vec<String> {
        let mut recorded = Recorded::default();
        report(&mut recorded, "integ", "m/db", finished);
        recorded.0
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
