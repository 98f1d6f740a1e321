//! Stopping a run: SIGINT/SIGTERM reach every process of the run, a test binary gets its
//! grace period, a second Ctrl-C kills at once, leaked pipes and frozen binaries cannot hang
//! gob, and two runs on one workspace take turns on the lock.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Workspace, run};

/// A workspace whose suite `stop` runs `package` of tests/fixtures/integ/stop.
struct StopRun {
    ws: Workspace,
    pids: tempfile::TempDir,
}

impl StopRun {
    fn new(package: &str, timeout: &str) -> StopRun {
        let pids = tempfile::tempdir().unwrap();
        let manifest = format!(
            "[test.stop]\npackages = [\"./stop/{package}\"]\ntags = [\"integ\"]\ninteg = true\ntimeout = \"{timeout}\"\nenv = {{ PIDS_DIR = \"{}\" }}\n\n[test.unit]\npackages = [\"./lib/...\"]\n",
            pids.path().display()
        );
        StopRun {
            ws: Workspace::fixture("integ", &manifest),
            pids,
        }
    }

    /// Starts `gob ARGS` with stdout and stderr going to files in the pids dir.
    fn start(&self, args: &[&str], stop_mode: &str) -> Child {
        let out = File::create(self.pids.path().join("gob.out")).unwrap();
        let err = File::create(self.pids.path().join("gob.err")).unwrap();
        self.ws
            .gob(args)
            .env("STOP_MODE", stop_mode)
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap()
    }

    /// gob's output so far: (stdout, stderr).
    fn output(&self) -> (String, String) {
        let read = |name| fs::read_to_string(self.pids.path().join(name)).unwrap_or_default();
        (read("gob.out"), read("gob.err"))
    }

    /// The pid a fixture recorded under `name`, waiting for it (compiling comes first).
    fn pid(&self, name: &str) -> i32 {
        let path = self.pids.path().join(name);
        wait_until(Duration::from_secs(180), || path.exists());
        fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("the fixture never wrote {}", path.display()))
            .trim()
            .parse()
            .unwrap()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.pids.path().join(name)
    }
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

/// Waits for `child` to exit within `limit`; kills it and fails the test otherwise.
fn exit_within(child: &mut Child, limit: Duration) -> ExitStatus {
    let mut status = None;
    wait_until(limit, || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    status.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("gob did not exit within {limit:?}");
    })
}

/// True while `pid` is a live process (a zombie waiting for its reaper counts as gone).
fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

fn assert_gone(pids: &[i32]) {
    for &pid in pids {
        assert!(
            wait_until(Duration::from_secs(5), || !alive(pid)),
            "process {pid} of the run survived gob"
        );
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on the gob child this test started.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
}

#[test]
fn ctrl_c_stops_every_process_of_the_run_and_exits_130() {
    let r = StopRun::new("sleeper", "10m");
    let mut gob = r.start(&["test", "stop"], "");
    let (test, child) = (r.pid("test"), r.pid("child"));
    signal(&gob, libc::SIGINT);
    let status = exit_within(&mut gob, Duration::from_secs(30));
    let (stdout, stderr) = r.output();
    assert_eq!(status.code(), Some(130), "{stdout}\n{stderr}");
    assert_gone(&[test, child]);
    assert!(
        stdout.contains("FAIL example.com/fixture/stop/sleeper TestSleeps (interrupted)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("gob: suite stop: 0 passed, 1 failed"),
        "the summary still prints: {stderr}"
    );
}

#[test]
fn sigterm_gives_a_test_its_grace_period_to_clean_up_and_exits_143() {
    let r = StopRun::new("sleeper", "10m");
    let mut gob = r.start(&["test", "stop"], "cleanup");
    let (test, child) = (r.pid("test"), r.pid("child"));
    signal(&gob, libc::SIGTERM);
    let status = exit_within(&mut gob, Duration::from_secs(30));
    let (stdout, stderr) = r.output();
    assert_eq!(status.code(), Some(143), "{stdout}\n{stderr}");
    assert!(r.file("cleaned").exists(), "the test's SIGTERM handler ran");
    assert_gone(&[test, child]);
}

#[test]
fn sighup_stops_running_tests_like_sigterm_and_exits_129() {
    let r = StopRun::new("sleeper", "10m");
    let mut gob = r.start(&["test", "stop"], "cleanup");
    let (test, child) = (r.pid("test"), r.pid("child"));
    signal(&gob, libc::SIGHUP);
    let status = exit_within(&mut gob, Duration::from_secs(30));
    let (stdout, stderr) = r.output();
    assert_eq!(status.code(), Some(129), "{stdout}\n{stderr}");
    assert!(
        r.file("cleaned").exists(),
        "the test got SIGTERM and cleaned up"
    );
    assert_gone(&[test, child]);
}

#[test]
fn sigquit_to_gob_stops_running_tests_and_exits_131() {
    let r = StopRun::new("sleeper", "10m");
    let mut gob = r.start(&["test", "stop"], "");
    let (test, child) = (r.pid("test"), r.pid("child"));
    signal(&gob, libc::SIGQUIT);
    let status = exit_within(&mut gob, Duration::from_secs(30));
    let (stdout, stderr) = r.output();
    assert_eq!(status.code(), Some(131), "{stdout}\n{stderr}");
    assert_gone(&[test, child]);
}

#[test]
fn a_binary_ignoring_sigterm_is_killed_after_the_grace_period() {
    let r = StopRun::new("sleeper", "10m");
    let mut gob = r.start(&["test", "stop", "--grace", "1s"], "ignore");
    let test = r.pid("test");
    let stopped = Instant::now();
    signal(&gob, libc::SIGINT);
    let status = exit_within(&mut gob, Duration::from_secs(30));
    assert_eq!(status.code(), Some(130), "{:?}", r.output());
    assert!(
        stopped.elapsed() >= Duration::from_secs(1),
        "SIGKILL came before the grace period ended"
    );
    assert_gone(&[test]);
}

#[test]
fn a_second_ctrl_c_kills_at_once() {
    let r = StopRun::new("sleeper", "10m");
    let mut gob = r.start(&["test", "stop", "--grace", "10m"], "ignore");
    let test = r.pid("test");
    signal(&gob, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        gob.try_wait().unwrap().is_none() && alive(test),
        "within the grace period the binary is still running"
    );
    signal(&gob, libc::SIGINT);
    let status = exit_within(&mut gob, Duration::from_secs(20));
    let (stdout, stderr) = r.output();
    assert_eq!(status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("gob: SIGINT: killing running processes"),
        "{stderr}"
    );
    assert_gone(&[test]);
}

#[test]
fn a_leftover_holding_the_output_pipe_neither_hangs_gob_nor_survives_it() {
    let r = StopRun::new("leaky", "10m");
    let mut gob = r.start(&["test", "stop"], "");
    let child = r.pid("child");
    let status = exit_within(&mut gob, Duration::from_secs(60));
    let (stdout, stderr) = r.output();
    assert_eq!(status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("ok   example.com/fixture/stop/leaky"),
        "{stdout}"
    );
    assert_gone(&[child]);
}

#[test]
fn gob_enforces_the_suite_timeout_on_a_binary_that_cannot_time_itself_out() {
    let r = StopRun::new("frozen", "1s");
    let mut gob = r.start(&["test", "stop"], "");
    let status = exit_within(&mut gob, Duration::from_secs(120));
    let (stdout, stderr) = r.output();
    assert_eq!(status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("FAIL example.com/fixture/stop/frozen TestFrozen (timed out: still running past the 1s timeout, stopped by gob)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("about to freeze"),
        "the test's output is kept: {stdout}"
    );
    assert!(
        stdout.contains("SIGQUIT: quit") && stdout.contains("goroutine "),
        "gob asked the hung binary for its goroutines before stopping it: {stdout}"
    );
}

#[test]
fn two_runs_take_turns_on_the_workspace_lock() {
    let r = StopRun::new("sleeper", "10m");
    let mut first = r.start(&["test", "stop"], "");
    r.pid("test");
    let (code, _, stderr) = run(&mut r.ws.gob(&["test", "--no-wait"]));
    assert_eq!(code, 4, "{stderr}");
    let lock = r.ws.dir().join(".gob/lock");
    assert!(
        stderr.contains(&format!(
            "gob: error: another gob run holds the workspace lock {} (held by pid {}: ",
            lock.display(),
            first.id()
        )),
        "{stderr}"
    );
    let err = r.file("second.err");
    let mut second =
        r.ws.gob(&["test"])
            .stderr(Stdio::from(File::create(&err).unwrap()))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
    let waiting = |p: &Path| {
        fs::read_to_string(p)
            .unwrap_or_default()
            .contains("gob: waiting for the workspace lock")
    };
    assert!(wait_until(Duration::from_secs(30), || waiting(&err)));
    assert!(second.try_wait().unwrap().is_none(), "the second run waits");
    signal(&first, libc::SIGINT);
    assert_eq!(
        exit_within(&mut first, Duration::from_secs(30)).code(),
        Some(130)
    );
    let status = exit_within(&mut second, Duration::from_secs(120));
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        fs::read_to_string(&err).unwrap()
    );
}

/// Pids of live processes whose working dir is inside `dir`.
fn processes_in(dir: &Path) -> Vec<i32> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
                && alive(pid)
        })
        .collect()
}

#[test]
fn ctrl_c_during_a_cold_build_leaves_no_process_and_no_half_written_binary() {
    let ws = Workspace::repo_example();
    let cache = tempfile::tempdir().unwrap();
    let mut gob = ws
        .gob(&["build"])
        .env("GOCACHE", cache.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_until(Duration::from_secs(60), || ws
        .dir()
        .join(".gob/build")
        .exists()));
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        !processes_in(ws.dir()).is_empty(),
        "go was running when the signal came"
    );
    signal(&gob, libc::SIGINT);
    let status = exit_within(&mut gob, Duration::from_secs(30));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut gob.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("gob: stopped: "), "{stderr}");
    let left = processes_in(ws.dir());
    assert!(
        wait_until(Duration::from_secs(5), || processes_in(ws.dir()).is_empty()),
        "processes of the run survived: {left:?}"
    );
    for entry in fs::read_dir(ws.dir().join("bin")).into_iter().flatten() {
        let path = entry.unwrap().path();
        crate::support::run_binary(&path);
    }
    // The next run completes what was stopped.
    let (code, _, stderr) = run(ws.gob(&["build"]).env("GOCACHE", cache.path()));
    assert_eq!(code, 0, "{stderr}");
    for name in ["alpha", "beta", "gamma", "server", "tool-server"] {
        crate::support::run_binary(&ws.dir().join("bin").join(name));
    }
}
