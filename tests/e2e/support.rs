//! Helpers for end-to-end tests: a copy of a real Go workspace in a temp dir, the real gob
//! binary, the real go, and a logging `go` shim for checking the exact calls.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temp dir holding a copy of a Go workspace.
pub struct Workspace {
    pub tmp: tempfile::TempDir,
}

impl Workspace {
    /// A copy of examples/mesh with `manifest` as its gobuild.toml.
    pub fn example(manifest: &str) -> Workspace {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&repo().join("examples/mesh"), tmp.path());
        std::fs::write(tmp.path().join("gobuild.toml"), manifest).unwrap();
        Workspace { tmp }
    }

    /// A copy of examples/mesh with the repository's own gobuild.toml, pointed at the copy.
    pub fn repo_example() -> Workspace {
        Workspace::repo_example_with("")
    }

    /// [`Workspace::repo_example`] with `extra` appended to the manifest.
    pub fn repo_example_with(extra: &str) -> Workspace {
        let text = std::fs::read_to_string(repo().join("gobuild.toml")).unwrap();
        let text = text.replace("dir = \"examples/mesh\"", "dir = \".\"");
        Workspace::example(&format!("{text}\n{extra}"))
    }

    /// A copy of tests/fixtures/NAME with `manifest` as its gobuild.toml.
    pub fn fixture(name: &str, manifest: &str) -> Workspace {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&repo().join("tests/fixtures").join(name), tmp.path());
        std::fs::write(tmp.path().join("gobuild.toml"), manifest).unwrap();
        Workspace { tmp }
    }

    /// The workspace dir.
    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `text` to `rel` inside the workspace.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.dir().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// `gob ARGS` run in the workspace.
    pub fn gob(&self, args: &[&str]) -> Command {
        let mut cmd = gob_command();
        cmd.current_dir(self.dir()).args(args);
        cmd
    }

    /// Installs a `go` shim that logs `cwd|GOMAXPROCS|argv` per call and runs the real go.
    /// Returns the PATH to use and the log file.
    pub fn go_shim(&self) -> (String, PathBuf) {
        go_shim_in(self.dir())
    }
}

/// [`Workspace::go_shim`] in any dir.
pub fn go_shim_in(dir: &Path) -> (String, PathBuf) {
    let shim_dir = dir.join(".shim");
    std::fs::create_dir_all(&shim_dir).unwrap();
    let log = shim_dir.join("calls.log");
    let real_go = which_go();
    let script = format!(
        "#!/bin/sh\nprintf '%s|%s|%s\\n' \"$(pwd)\" \"${{GOMAXPROCS-unset}}\" \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
        log.display(),
        real_go.display()
    );
    let shim = shim_dir.join("go");
    std::fs::write(&shim, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", shim_dir.display(), std::env::var("PATH").unwrap());
    (path, log)
}

/// Debian's Go 1.19 (package golang-1.19-go), or `None` after printing why the test skips.
pub fn old_go() -> Option<PathBuf> {
    let path = PathBuf::from("/usr/lib/go-1.19/bin/go");
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "skipped: no Go 1.19 at {} (Debian golang-1.19-go)",
            path.display()
        );
        None
    }
}

/// The real go on PATH.
pub fn which_go() -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", "command -v go"])
        .output()
        .unwrap();
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// The gob binary under test, with an environment that makes go offline and deterministic.
pub fn gob_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gob"));
    cmd.env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "")
        .env("NO_COLOR", "1")
        .env_remove("GOMAXPROCS")
        .env_remove("GOB_JOBS")
        .env_remove("GOB_GO")
        .env_remove("GOCACHEPROG")
        .env_remove("GOB_REMOTE_CACHE")
        .env_remove("GOB_REMOTE_CACHE_READ_ONLY")
        .env_remove("GOB_CACHE_DIR")
        .env_remove("GO19CONCURRENTCOMPILATION");
    cmd
}

/// The JSON lines of `stdout` (gob test --json, gob build --json) with this `Action`.
pub fn events(stdout: &str, action: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["Action"] == action)
        .collect()
}

/// Runs `cmd`, returning (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// SHA-256 of a file's bytes, in hex.
pub fn sha256_file(path: &Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs a built binary and returns its trimmed stdout.
pub fn run_binary(path: &Path) -> String {
    let out = Command::new(path)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(out.status.success(), "{} failed", path.display());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Copies the dir `from` to `to` (gob's state and published binaries left out).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "bin" || name == ".gob" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A GOCACHE (in a temp dir of its own) whose store for gob's cache program (`gob/`)
/// already holds the standard library the example imports, as on a machine that has built
/// some other Go program: only the example's own packages are cold. For tests of a remote
/// cache that fails, where compiling the standard library again proves nothing and costs
/// ~10 CPU-seconds each.
pub fn seeded_gocache() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(seed_template(), copy.path());
    copy
}

/// The GOCACHE [`seeded_gocache`] copies, filled once per test run by `gob build` of a copy
/// of the example renamed to another module (so none of the example's packages are in it),
/// through gob's cache program with a remote that refuses connections.
fn seed_template() -> &'static Path {
    static SEED_TEMPLATE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    SEED_TEMPLATE.get_or_init(|| {
        let cache = dir_for_the_run();
        let ws = Workspace::repo_example();
        rename_module(ws.dir(), "example.com/mesh", "example.com/seed");
        let (code, _, stderr) = run(ws
            .gob(&["build"])
            .env("GOCACHE", &cache)
            .env("GOB_REMOTE_CACHE", "http://127.0.0.1:1"));
        assert_eq!(code, 0, "seeding a GOCACHE: {stderr}");
        // Forget that the remote was down.
        for entry in std::fs::read_dir(cache.join("gob")).unwrap() {
            let entry = entry.unwrap();
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("remote-down-")
            {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
        cache
    })
}

/// A temp dir for what a test run makes once and keeps in a static (which is never dropped):
/// removed when the test process exits.
pub fn dir_for_the_run() -> PathBuf {
    static DIRS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    extern "C" fn remove_all() {
        if let Ok(dirs) = DIRS.lock() {
            for dir in dirs.iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
    let dir = tempfile::tempdir().unwrap().keep();
    let mut dirs = DIRS.lock().unwrap();
    if dirs.is_empty() {
        // SAFETY: registers a plain function that only removes dirs.
        unsafe { libc::atexit(remove_all) };
    }
    dirs.push(dir.clone());
    dir
}

/// Replaces the module path `from` with `to` in every file under `dir`.
fn rename_module(dir: &Path, from: &str, to: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rename_module(&path, from, to);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            std::fs::write(&path, text.replace(from, to)).unwrap();
        }
    }
}
