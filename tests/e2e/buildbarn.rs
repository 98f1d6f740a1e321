//! A real Buildbarn cluster on loopback, started per test: one bb_storage for CAS and action
//! cache (in memory), one bb_storage as the client frontend, bb_scheduler, and per worker one
//! bb_worker (native build dir, one action at a time) with its bb_runner. Configs are the
//! jsonnet files in tests/buildbarn/; ports and dirs reach them as env vars. `.ci/run` builds
//! the binaries (tools/build-buildbarn.sh) into target/tools/buildbarn.
//! Outside CI a missing binary skips the test with a message; in CI it fails.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::servers::{find_tool, free_port};

/// A running cluster, every process killed on drop.
pub struct Cluster {
    /// Where clients connect: `grpc://127.0.0.1:PORT`.
    pub url: String,
    processes: Vec<(String, Child)>,
    workers: Vec<(Child, Child)>,
    admin_port: u16,
    tmp: tempfile::TempDir,
}

impl Cluster {
    /// A cluster with `workers` workers, each ready for work; `None` (the test skips) when
    /// Buildbarn is not built.
    pub fn start(workers: usize) -> Option<Cluster> {
        let bin = find_tool(
            "GOB_TEST_BUILDBARN",
            &crate::support::repo().join("target/tools/buildbarn"),
            "Buildbarn (.ci/run builds it into target/tools/buildbarn with tools/build-buildbarn.sh)",
        )?;
        // A port found free can be taken by another process before a server binds it (tests
        // run in parallel): start again on new ports then.
        let mut attempts = 0;
        loop {
            attempts += 1;
            match Cluster::try_start(&bin, workers) {
                Ok(cluster) => return Some(cluster),
                Err(why) if why.contains("address already in use") && attempts < 4 => {}
                Err(why) => panic!("{why}"),
            }
        }
    }

    fn try_start(bin: &Path, workers: usize) -> Result<Cluster, String> {
        let tmp = tempfile::tempdir().unwrap();
        let ports = [
            ("GOB_BB_STORAGE_PORT", free_port()),
            ("GOB_BB_FRONTEND_PORT", free_port()),
            ("GOB_BB_SCHEDULER_CLIENT_PORT", free_port()),
            ("GOB_BB_SCHEDULER_WORKER_PORT", free_port()),
            ("GOB_BB_SCHEDULER_ADMIN_PORT", free_port()),
        ];
        let mut cluster = Cluster {
            url: format!("grpc://127.0.0.1:{}", ports[1].1),
            processes: Vec::new(),
            workers: Vec::new(),
            admin_port: ports[4].1,
            tmp,
        };
        let spawn = |name: &str, program: &str, config: &str, env: &[(&str, String)]| {
            let log =
                std::fs::File::create(cluster.tmp.path().join(format!("{name}.log"))).unwrap();
            let mut command = Command::new(bin.join(program));
            command
                .arg(crate::support::repo().join("tests/buildbarn").join(config))
                .current_dir(cluster.tmp.path())
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log);
            for (key, port) in &ports {
                command.env(key, port.to_string());
            }
            for (key, value) in env {
                command.env(key, value);
            }
            command.spawn().unwrap_or_else(|e| panic!("{program}: {e}"))
        };
        for (name, program, config) in [
            ("storage", "bb_storage", "storage.jsonnet"),
            ("frontend", "bb_storage", "frontend.jsonnet"),
            ("scheduler", "bb_scheduler", "scheduler.jsonnet"),
        ] {
            let child = spawn(name, program, config, &[]);
            cluster.processes.push((name.to_string(), child));
        }
        for i in 1..=workers {
            let dir = cluster.tmp.path().join(format!("w{i}"));
            for sub in ["build", "cache"] {
                std::fs::create_dir_all(dir.join(sub)).unwrap();
            }
            let env = [
                ("GOB_BB_WORKER_DIR", dir.display().to_string()),
                ("GOB_BB_WORKER_NAME", format!("w{i}")),
            ];
            let runner = spawn(&format!("runner{i}"), "bb_runner", "runner.jsonnet", &env);
            let worker = spawn(&format!("worker{i}"), "bb_worker", "worker.jsonnet", &env);
            cluster.workers.push((worker, runner));
        }
        cluster.wait_ready(ports[1].1, workers)?;
        Ok(cluster)
    }

    /// Waits until the frontend listens and the scheduler counts `workers` workers.
    fn wait_ready(&mut self, frontend: u16, workers: usize) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let listening = std::net::TcpStream::connect(("127.0.0.1", frontend)).is_ok();
            if listening && self.worker_count() == Some(workers) {
                return Ok(());
            }
            let exited = self.processes.iter_mut().find_map(|(name, child)| {
                let status = child.try_wait().ok().flatten()?;
                Some(format!("{name} exited ({status})"))
            });
            if let Some(exited) = exited {
                return Err(format!("{exited}:\n{}", self.logs()));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the cluster did not get ready (workers: {:?}):\n{}",
                    self.worker_count(),
                    self.logs()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The workers the scheduler's web page counts, over all platform queues.
    fn worker_count(&self) -> Option<usize> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.admin_port)).ok()?;
        stream
            .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .ok()?;
        let mut page = String::new();
        stream.read_to_string(&mut page).ok()?;
        // Each queue's "All workers" cell: <a href="workers?filter={"all":…}">N</a>.
        let mut count = 0;
        for cell in page.split("%22all%22").skip(1) {
            let digits: String = cell
                .split_once("\">")?
                .1
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            count += digits.parse::<usize>().ok()?;
        }
        Some(count)
    }

    /// Kills worker `i` (1-based) and its runner at once, as a machine that dies.
    pub fn kill_worker(&mut self, i: usize) {
        let (worker, runner) = &mut self.workers[i - 1];
        for child in [worker, runner] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Every process's log, for failure messages.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(self.tmp.path()).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "log") {
                let log = std::fs::read_to_string(&path).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                text.push_str(&format!("--- {name}\n"));
                for line in tail.iter().rev() {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
        text
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // bb_worker may ignore SIGTERM for more than 10 s: SIGKILL everything.
        let workers = self.workers.iter_mut().flat_map(|(w, r)| [w, r]);
        for child in workers.chain(self.processes.iter_mut().map(|(_, c)| c)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The marks the fixture's tests left in `dir/file`: (what, unix nanos) per line.
pub fn marks(dir: &Path, file: &str) -> Vec<(String, u128)> {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (what, nanos) = line.split_once(' ')?;
            Some((what.to_string(), nanos.parse().ok()?))
        })
        .collect()
}

/// A marks dir for a test, inside `parent`.
pub fn marks_dir(parent: &Path) -> PathBuf {
    let dir = parent.join(".marks");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
