//! `gob check --watch` and `gob test --watch` over tests/fixtures/watch (leaf ← mid, other,
//! slow): driven by stdin lines and read through `gob-watch-cycle` events, and in a
//! terminal through tmux, as a person uses it.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::Workspace;

const MANIFEST: &str = "[test.unit]\npackages = [\"./...\"]\n";

/// A running `gob ... --watch --json` with its stdin and what it printed, over `ws` (a
/// workspace, or another tree the test owns).
pub struct Watching<W = Workspace> {
    pub ws: W,
    _logs: tempfile::TempDir,
    child: Child,
    stdin: ChildStdin,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: PathBuf,
}

impl Watching {
    fn start(ws: Workspace, args: &[&str]) -> Watching {
        let command = ws.gob(args);
        Watching::spawn(ws, command)
    }
}

impl<W> Watching<W> {
    /// Runs `command` (a `gob ... --watch --json`) over `ws`.
    pub fn spawn(ws: W, mut command: Command) -> Watching<W> {
        // Outside the workspace: a write there would be a save.
        let logs = tempfile::tempdir().unwrap();
        let stderr = logs.path().join("gob.err");
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let out = child.stdout.take().unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let lines = stdout.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Watching {
            ws,
            _logs: logs,
            child,
            stdin,
            stdout,
            stderr,
        }
    }

    /// The `n`-th cycle's event (from 1), waiting for it.
    pub fn cycle(&self, n: usize) -> Value {
        let found = wait_for(Duration::from_secs(120), || {
            self.cycles().get(n - 1).cloned()
        });
        found.unwrap_or_else(|| {
            panic!(
                "no cycle {n}; events: {:?}\nstderr:\n{}",
                self.cycles(),
                self.stderr()
            )
        })
    }

    pub fn cycles(&self) -> Vec<Value> {
        crate::support::events(&self.stdout.lock().unwrap().join("\n"), "gob-watch-cycle")
    }

    /// The packages whose tests passed or failed between cycle `n - 1`'s event and cycle `n`'s.
    fn tested_in(&self, n: usize) -> Vec<String> {
        let lines = self.stdout.lock().unwrap().clone();
        let mut cycle = 0;
        let mut tested = Vec::new();
        for line in lines {
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if event["Action"] == "gob-watch-cycle" {
                cycle += 1;
            } else if cycle == n - 1
                && event["Test"].is_null()
                && (event["Action"] == "pass" || event["Action"] == "fail")
                && let Some(package) = event["Package"].as_str()
            {
                tested.push(package.trim_start_matches("example.com/w/").to_string());
            }
        }
        tested.sort();
        tested
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
    }

    /// Sends `q` and returns the exit code.
    pub fn quit(mut self) -> i32 {
        self.send("q");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("gob did not quit on q; stderr:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl<W> Drop for Watching<W> {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for<T>(limit: Duration, mut found: impl FnMut() -> Option<T>) -> Option<T> {
    let started = Instant::now();
    loop {
        if let Some(value) = found() {
            return Some(value);
        }
        if started.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn affected(event: &Value) -> Vec<String> {
    let mut names: Vec<String> = event["Affected"]["unit"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            p.as_str()
                .unwrap()
                .trim_start_matches("example.com/w/")
                .to_string()
        })
        .collect();
    names.sort();
    names
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, s)| !s.starts_with('Z'))
    })
}

const LEAF_43: &str =
    "package leaf\n\n// Answer is what mid and the tests read.\nfunc Answer() int { return 43 }\n";
const LEAF_TEST_43: &str = "package leaf\n\nimport \"testing\"\n\nfunc TestAnswer(t *testing.T) {\n\tif Answer() != 43 {\n\t\tt.Fatal(\"wrong answer\")\n\t}\n}\n";

#[test]
fn a_broken_file_fails_the_check_and_its_fix_tests_the_package_and_its_importers_only() {
    let ws = Workspace::fixture("watch", MANIFEST);
    let mut watch = Watching::start(ws, &["test", "--watch", "--json"]);
    let first = watch.cycle(1);
    assert_eq!(first["Trigger"], "start");
    assert_eq!(first["Result"], "passed", "{}", watch.stderr());
    assert_eq!(watch.tested_in(1), ["leaf", "mid", "other", "slow"]);

    // A type error in leaf: the check names the file, no test runs.
    watch.ws.write(
        "leaf/leaf.go",
        "package leaf\n\nfunc Answer() int { return \"no\" }\n",
    );
    let broken = watch.cycle(2);
    assert_eq!(broken["Trigger"], "change");
    assert_eq!(broken["Changed"], serde_json::json!(["leaf/leaf.go"]));
    assert_eq!(broken["Result"], "check-failed");
    assert_eq!(affected(&broken), ["leaf", "mid"]);
    assert!(
        watch.stderr().contains("leaf/leaf.go:3"),
        "{}",
        watch.stderr()
    );
    assert!(watch.tested_in(2).is_empty());

    // The fix (and the test that goes with it): leaf's and mid's tests run, not the others.
    watch.ws.write("leaf/leaf_test.go", LEAF_TEST_43);
    watch.ws.write("leaf/leaf.go", LEAF_43);
    let fixed = watch.cycle(3);
    assert_eq!(affected(&fixed), ["leaf", "mid"], "{fixed}");
    assert_eq!(watch.tested_in(3), ["leaf", "mid"]);
    assert_eq!(fixed["Result"], "failed", "mid wants 84: {fixed}");
    assert_eq!(fixed["Failed"], 1);

    // Enter runs the last set again; `f` what failed; `a` everything.
    watch.send("");
    assert_eq!(watch.cycle(4)["Trigger"], "rerun");
    assert_eq!(watch.tested_in(4), ["leaf", "mid"]);
    watch.send("f");
    assert_eq!(watch.cycle(5)["Trigger"], "failed");
    assert_eq!(watch.tested_in(5), ["mid"]);
    watch.send("a");
    assert_eq!(watch.cycle(6)["Trigger"], "all");
    assert_eq!(watch.tested_in(6), ["leaf", "mid", "other", "slow"]);

    // A manifest that does not parse is a cycle's error, not the watch's end.
    watch.ws.write("gobuild.toml", "[test.unit\n");
    let broken = watch.cycle(7);
    assert_eq!(broken["Result"], "error", "{broken}");
    assert!(
        watch.stderr().contains("gobuild.toml"),
        "{}",
        watch.stderr()
    );
    watch.ws.write("gobuild.toml", MANIFEST);
    assert_eq!(watch.cycle(8)["Result"], "nothing");
    // Which go checks is said once, not every cycle.
    let stderr = watch.stderr();
    assert_eq!(
        stderr.matches("gob: checking with go").count(),
        1,
        "{stderr}"
    );
    assert_eq!(watch.quit(), 0);
}

#[test]
fn a_save_during_a_long_test_cancels_it_and_q_leaves_nothing_running() {
    let pids = tempfile::tempdir().unwrap();
    let pid_file = pids.path().join("slow.pid");
    let manifest = format!(
        "{MANIFEST}env = {{ SLOW_PID_FILE = \"{}\" }}\n",
        pid_file.display()
    );
    let ws = Workspace::fixture("watch", &manifest);
    let watch = Watching::start(ws, &["test", "--watch", "--json"]);
    assert_eq!(watch.cycle(1)["Result"], "passed", "{}", watch.stderr());
    let pid_of = || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
    };

    watch.ws.write("slow/testdata/sleep.txt", "60\n");
    let first = wait_for(Duration::from_secs(60), pid_of).expect("slow never started");
    std::fs::remove_file(&pid_file).unwrap();
    watch.ws.write(
        "other/other.go",
        "package other\n\n// Name is other's name.\nfunc Name() string { return \"other\" }\n\n// More is new.\nfunc More() {}\n",
    );
    let cancelled = watch.cycle(2);
    assert_eq!(cancelled["Result"], "cancelled", "{cancelled}");
    assert!(
        wait_for(Duration::from_secs(10), || (!alive(first)).then_some(())).is_some(),
        "the cancelled test binary {first} still runs"
    );
    // The next cycle takes both saves: slow runs again, with other.
    let second = wait_for(Duration::from_secs(60), pid_of).expect("slow never ran again");
    assert_ne!(first, second);
    let events = watch.cycles();
    assert_eq!(events.len(), 2, "cycle 3 runs: {events:?}");
    assert_eq!(watch.quit(), 0);
    assert!(!alive(second), "q left the test binary {second} running");
}

#[test]
fn editor_saves_each_make_one_cycle_and_ignored_files_none() {
    let ws = Workspace::fixture("watch", MANIFEST);
    git(ws.dir(), &["init", "-q"]);
    ws.write(".gitignore", "*.log\n");
    let watch = Watching::start(ws, &["check", "--watch", "--json"]);
    assert_eq!(watch.cycle(1)["Result"], "passed", "{}", watch.stderr());
    let dir = watch.ws.dir().to_path_buf();

    // Write a temp file, then rename it over the file (vim's backupcopy=no, most IDEs).
    std::fs::write(dir.join("leaf/.leaf.go.tmp"), LEAF_43).unwrap();
    std::fs::rename(dir.join("leaf/.leaf.go.tmp"), dir.join("leaf/leaf.go")).unwrap();
    let renamed = watch.cycle(2);
    assert_eq!(renamed["Changed"], serde_json::json!(["leaf/leaf.go"]));
    assert_eq!(affected(&renamed), ["leaf", "mid"]);

    // Truncate, then write (editors that write in place), with a log file git ignores.
    std::fs::write(dir.join("leaf/debug.log"), "noise").unwrap();
    let mut file = std::fs::File::create(dir.join("other/other.go")).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    file.write_all(
        b"package other\n\n// Name is other's name.\nfunc Name() string { return \"x\" }\n",
    )
    .unwrap();
    drop(file);
    let truncated = watch.cycle(3);
    assert_eq!(truncated["Changed"], serde_json::json!(["other/other.go"]));
    assert_eq!(affected(&truncated), ["other"]);
    assert_eq!(truncated["Result"], "passed");

    // A file no package reads makes a cycle that runs nothing.
    std::fs::write(dir.join("NOTES.md"), "notes").unwrap();
    let nothing = watch.cycle(4);
    assert_eq!(nothing["Result"], "nothing");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(watch.cycles().len(), 4, "{:?}", watch.cycles());

    // A test file goes into its own package's test binary only: mid imports leaf, not its
    // tests.
    watch.ws.write("leaf/leaf_test.go", LEAF_TEST_43);
    assert_eq!(affected(&watch.cycle(5)), ["leaf"]);
    assert_eq!(watch.quit(), 0);
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// A tmux server of the test's own, with one window running gob in `dir`.
struct Tmux {
    socket: String,
    done: PathBuf,
    _files: tempfile::TempDir,
}

impl Tmux {
    /// Starts `gob ARGS` in a 200x50 terminal; the exit code goes to a file.
    fn start(dir: &Path, args: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must have tmux (.ci/run installs it)"
            );
            eprintln!("skipped: tmux is not installed");
            return None;
        }
        // A server of its own per start: a new server on the socket of one just killed
        // can find it still shutting down ("server exited unexpectedly").
        static STARTS: AtomicUsize = AtomicUsize::new(0);
        let socket = format!(
            "gob-watch-{}-{}",
            std::process::id(),
            STARTS.fetch_add(1, Ordering::Relaxed)
        );
        // Outside the workspace: a write there would be a save.
        let files = tempfile::tempdir().unwrap();
        let done = files.path().join("exit-code");
        let gob = env!("CARGO_BIN_EXE_gob");
        let script = format!(
            "cd '{}' && GOTOOLCHAIN=local GOPROXY=off GOFLAGS= NO_COLOR=1 '{gob}' {args}; echo $? > '{}'; sleep 60",
            dir.display(),
            done.display()
        );
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "200",
                "-y",
                "50",
            ])
            .arg(script)
            .status()
            .unwrap();
        assert!(status.success());
        Some(Tmux {
            socket,
            done,
            _files: files,
        })
    }

    fn pane(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-J"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits until the pane shows `count` status lines.
    fn status_lines(&self, count: usize) -> String {
        wait_for(Duration::from_secs(120), || {
            let pane = self.pane();
            (pane.matches("gob: watching 4 packages").count() >= count).then_some(pane)
        })
        .unwrap_or_else(|| panic!("fewer than {count} status lines:\n{}", self.pane()))
    }

    fn exit_code(&self) -> String {
        wait_for(Duration::from_secs(30), || {
            std::fs::read_to_string(&self.done).ok()
        })
        .unwrap_or_else(|| panic!("gob did not exit:\n{}", self.pane()))
        .trim()
        .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

#[test]
fn in_a_terminal_keys_run_clear_and_quit_and_ctrl_c_exits_130() {
    let ws = Workspace::fixture("watch", MANIFEST);
    let Some(tmux) = Tmux::start(ws.dir(), "check --watch") else {
        return;
    };
    let pane = tmux.status_lines(1);
    assert!(
        pane.contains("1 affected") || pane.contains("4 affected"),
        "{pane}"
    );
    assert!(
        pane.contains("(Enter rerun · a all · f failed · c clear · q quit)"),
        "{pane}"
    );
    tmux.keys(&["a"]);
    tmux.status_lines(2);
    tmux.keys(&["c"]);
    assert!(
        wait_for(Duration::from_secs(10), || (!tmux
            .pane()
            .contains("gob: watching"))
        .then_some(()))
        .is_some(),
        "c did not clear:\n{}",
        tmux.pane()
    );
    tmux.keys(&["Enter"]);
    tmux.status_lines(1);
    tmux.keys(&["q"]);
    assert_eq!(tmux.exit_code(), "0");
    drop(tmux);

    let Some(tmux) = Tmux::start(ws.dir(), "check --watch") else {
        return;
    };
    tmux.status_lines(1);
    tmux.keys(&["C-c"]);
    assert_eq!(tmux.exit_code(), "130", "{}", tmux.pane());
}

#[test]
fn a_cycle_that_checks_everything_leaves_a_pass_to_remember_and_uses_one() {
    let ws = Workspace::fixture("watch", MANIFEST);
    // A pass is remembered once the files are 2 s old (as in check.rs).
    std::thread::sleep(Duration::from_millis(2200));
    let skipped = "gob: nothing changed since the check that passed at";
    let watch = Watching::spawn(&ws, ws.gob(&["check", "--watch", "--json"]));
    assert_eq!(watch.cycle(1)["Result"], "passed", "{}", watch.stderr());
    assert!(!watch.stderr().contains(skipped), "{}", watch.stderr());
    assert_eq!(watch.quit(), 0);
    let (code, _, stderr) = crate::support::run(&mut ws.gob(&["check"]));
    assert!(code == 0 && stderr.contains(skipped), "{stderr}");
    // A watch started with nothing changed: its first cycle runs no go command.
    let watch = Watching::spawn(&ws, ws.gob(&["check", "--watch", "--json"]));
    assert_eq!(watch.cycle(1)["Result"], "passed", "{}", watch.stderr());
    assert!(watch.stderr().contains(skipped), "{}", watch.stderr());
    assert_eq!(watch.quit(), 0);
}

/// The `go list` calls logged since `from` (a line count of the shim's log): the suites'
/// listings and their closures' (not the check's own).
fn listings_since(log: &Path, from: usize) -> Vec<String> {
    let calls = std::fs::read_to_string(log).unwrap_or_default();
    calls
        .lines()
        .skip(from)
        .filter(|l| l.contains("|list -e -json=") || l.contains("|list -e -deps -test"))
        .map(str::to_string)
        .collect()
}

fn log_lines(log: &Path) -> usize {
    std::fs::read_to_string(log).map_or(0, |calls| calls.lines().count())
}

#[test]
fn a_body_edit_reuses_go_lists_answers_and_an_import_or_a_new_file_asks_go_again() {
    let ws = Workspace::fixture("watch", MANIFEST);
    // The shim logs outside the workspace: a write there would be a save.
    let shim = tempfile::tempdir().unwrap();
    let (path, log) = crate::support::go_shim_in(shim.path());
    let mut command = ws.gob(&["check", "--watch", "--json"]);
    command.env("PATH", path);
    let mut watch = Watching::spawn(ws, command);
    assert_eq!(watch.cycle(1)["Result"], "passed", "{}", watch.stderr());
    let listed_first = listings_since(&log, 0);
    assert!(!listed_first.is_empty(), "the shim logs go list");

    // A body edit: what go list answers cannot change; the save is checked all the same.
    let mut seen = log_lines(&log);
    watch.ws.write(
        "leaf/leaf.go",
        "// Package leaf is imported by mid.\npackage leaf\n\n// Answer is what mid and the tests read.\nfunc Answer() int { return \"no\" }\n",
    );
    let broken = watch.cycle(2);
    assert_eq!(broken["Result"], "failed", "{broken}");
    assert_eq!(affected(&broken), ["leaf", "mid"]);
    assert_eq!(listings_since(&log, seen), Vec::<String>::new());

    // mid imports other now: go lists again, and a body edit of other then affects mid.
    seen = log_lines(&log);
    watch.ws.write(
        "mid/mid.go",
        "package mid\n\nimport (\n\t\"example.com/w/leaf\"\n\t\"example.com/w/other\"\n)\n\n// Double is twice leaf's answer.\nfunc Double() int { return 2 * leaf.Answer() + len(other.Name()) }\n",
    );
    assert_eq!(affected(&watch.cycle(3)), ["mid"]);
    assert!(!listings_since(&log, seen).is_empty());
    seen = log_lines(&log);
    watch.ws.write(
        "other/other.go",
        "// Package other imports nothing of the module.\npackage other\n\n// Name is other's name.\nfunc Name() string { return \"OTHER\" }\n",
    );
    assert_eq!(affected(&watch.cycle(4)), ["mid", "other"]);
    assert_eq!(listings_since(&log, seen), Vec::<String>::new());

    // A new file: go lists again.
    seen = log_lines(&log);
    watch
        .ws
        .write("other/more.go", "package other\n\nfunc More() {}\n");
    assert_eq!(affected(&watch.cycle(5)), ["mid", "other"]);
    assert!(!listings_since(&log, seen).is_empty());

    // A key (Enter: the last set again) is a fresh look: go is asked again.
    seen = log_lines(&log);
    watch.send("");
    assert_eq!(watch.cycle(6)["Trigger"], "rerun");
    assert!(!listings_since(&log, seen).is_empty());
    assert_eq!(watch.quit(), 0);
}
