//! Services for test suites, with a real server: redis-server (Debian's package
//! `redis-server`, which `.ci/run` installs) started before an integration suite whose tests
//! talk to it with the standard library only, its address handed over through `$GOB_ENV`,
//! and stopped after the suite: when it passes, when it fails, after Ctrl-C, from an archive,
//! in a unit suite; no process left and the port free each time.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{Workspace, gob_command, run};

const STORE_TEST: &str = r#"package store

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func send(t *testing.T, conn net.Conn, r *bufio.Reader, command string) string {
	fmt.Fprintf(conn, "%s\r\n", command)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(line)
}

func TestTalksToRedis(t *testing.T) {
	conn, err := net.Dial("tcp", os.Getenv("REDIS_ADDR"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	if got := send(t, conn, r, "PING"); got != "+PONG" {
		t.Fatalf("PING: %q", got)
	}
	if got := send(t, conn, r, "SET gob works"); got != "+OK" {
		t.Fatalf("SET: %q", got)
	}
}

func TestFailsWhenAsked(t *testing.T) {
	if os.Getenv("STORE_FAIL") != "" {
		t.Fatal("asked to fail")
	}
}

func TestWaitsWhenAsked(t *testing.T) {
	if file := os.Getenv("STORE_WAIT_FILE"); file != "" {
		os.WriteFile(file, []byte("running"), 0o644)
		time.Sleep(60 * time.Second)
	}
}
"#;

/// A free TCP port on loopback (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn redis() -> Option<&'static str> {
    let path = "/usr/bin/redis-server";
    if Path::new(path).exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "redis-server is missing under CI (.ci/run installs it)"
    );
    eprintln!("skipped: no redis-server (Debian package redis-server)");
    None
}

/// The module with suites `integ` and `unit` over ./store, both needing the service.
fn workspace(port: u16) -> Workspace {
    let ws = Workspace {
        tmp: tempfile::tempdir().unwrap(),
    };
    ws.write("go.mod", "module example.com/svc\n\ngo 1.22\n");
    ws.write("store/store_test.go", STORE_TEST);
    ws.write(
        "gobuild.toml",
        &format!(
            "[task.redis]\nrun = \"echo REDIS_ADDR=127.0.0.1:{port} >> \\\"$GOB_ENV\\\"; exec redis-server --port {port} --save '' --appendonly no\"\nservice = true\nready = {{ tcp = \"127.0.0.1:{port}\", timeout = \"15s\" }}\n\n[test.integ]\npackages = [\"./store\"]\ninteg = true\nservices = [\"redis\"]\n\n[test.unit]\npackages = [\"./store\"]\nservices = [\"redis\"]\n"
        ),
    );
    ws
}

/// The command line of a running process that contains `needle`, if one does.
fn running(needle: &str) -> Option<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .find_map(|entry| {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(needle).then_some(cmdline)
        })
}

/// Nothing listens on `port` and no redis-server serves it.
fn stopped(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "port {port} still answers");
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = running(&format!("redis-server *:{port}"));
    assert!(left.is_none(), "left running: {left:?}");
}

#[test]
fn an_integration_suite_talks_to_a_service_started_before_and_stopped_after() {
    let Some(_) = redis() else { return };
    let port = free_port();
    let ws = workspace(port);
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "integ"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("ok   example.com/svc/store"), "{stdout}");
    assert!(stderr.contains("gob: service redis: ready"), "{stderr}");
    assert!(stderr.contains("gob: service redis: stopped"), "{stderr}");
    stopped(port);
    // A failing suite stops it too.
    let (code, stdout, stderr) = run(ws.gob(&["test", "integ"]).env("STORE_FAIL", "1"));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stdout.contains("asked to fail"), "{stdout}");
    stopped(port);
    // A unit suite (go test) gets the service and its environment as well.
    let (code, stdout, stderr) = run(ws.gob(&["test", "unit"]).env("GOFLAGS", "-count=1"));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    stopped(port);
    // With a cluster configured, a suite with services runs here, and says so.
    let (code, _, stderr) =
        run(&mut ws.gob(&["test", "integ", "--remote-exec=grpc://127.0.0.1:1"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr
            .contains("suite integ needs services (redis): its test binaries run on this machine"),
        "{stderr}"
    );
    stopped(port);
}

#[test]
fn ctrl_c_during_the_suite_stops_the_service() {
    let Some(_) = redis() else { return };
    let port = free_port();
    let ws = workspace(port);
    let marker = ws.dir().join("waiting");
    let mut gob = gob_command()
        .current_dir(ws.dir())
        .args(["test", "integ"])
        .env("STORE_WAIT_FILE", &marker)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the test never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: SIGINT to the gob this test started.
    unsafe { libc::kill(gob.id() as i32, libc::SIGINT) };
    let status = gob.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    stopped(port);
}

/// [`workspace`] with the service's redis-server replaced by `command` and its `ready`
/// replaced by `ready` (a whole line, or nothing).
fn fake_service(port: u16, command: &str, ready: &str) -> Workspace {
    let ws = workspace(port);
    let manifest = std::fs::read_to_string(ws.dir().join("gobuild.toml")).unwrap();
    let manifest = manifest
        .replace(
            &format!("exec redis-server --port {port} --save '' --appendonly no"),
            command,
        )
        .replace(
            &format!("ready = {{ tcp = \"127.0.0.1:{port}\", timeout = \"15s\" }}\n"),
            ready,
        );
    ws.write("gobuild.toml", &manifest);
    ws
}

#[test]
fn a_service_that_is_not_ready_in_time_fails_its_suite_with_its_output() {
    let port = free_port();
    let ready = format!("ready = {{ tcp = \"127.0.0.1:{port}\", timeout = \"1s\" }}\n");
    let ws = fake_service(port, "echo starting slowly; exec sleep 61.5", &ready);
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "integ"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("service redis failed: not ready after 1s (no connection to 127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("starting slowly"),
        "its last output: {stdout}"
    );
    assert_eq!(running("sleep 61.5"), None, "stopped");
}

#[test]
fn an_archive_starts_its_suites_services_where_the_tests_run() {
    let Some(_) = redis() else { return };
    let port = free_port();
    let ws = workspace(port);
    let (code, _, stderr) = run(&mut ws.gob(&["test", "integ", "--archive", "t.tar.zst"]));
    assert_eq!(code, 0, "{stderr}");
    let machine = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(gob_command()
        .current_dir(machine.path())
        .env("PATH", "/usr/bin:/bin")
        .args(["test", "--from-archive"])
        .arg(ws.dir().join("t.tar.zst")));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("ok   example.com/svc/store"), "{stdout}");
    assert!(stderr.contains("gob: service redis: ready"), "{stderr}");
    stopped(port);
}

#[test]
fn a_service_that_exits_while_its_suite_runs_fails_the_run_with_its_output() {
    let ws = fake_service(free_port(), "echo giving up early; exit 4", "");
    let (code, stdout, stderr) = run(ws.gob(&["test", "integ"]).env("REDIS_ADDR", "unused"));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("gob: service redis: failed: it exited while it was needed (exit status 4); its last output:\n    giving up early"),
        "{stderr}"
    );
    assert!(
        stderr.contains("service redis exited while the tests needed it"),
        "{stderr}"
    );
}
