//! gob's type checker for `gob check` (`typecheck.go` next to this file, stdlib only):
//! built once per go version with the workspace's own go, so it reads the export data that
//! go writes, and kept in go's build cache dir (`$GOCACHE/gob-tools`), which CI setups keep
//! between runs where they keep anything, so a fresh checkout does not build it again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::base::state::TOOLS_DIR;
use crate::exec::{Outcome, run_merged};
use crate::plan::command::GoCommand;

/// The checker's source.
const SOURCE: &str = include_str!("typecheck.go");

/// The dir of gob's tools for go's build cache `gocache` (`go env GOCACHE`): inside it (go
/// trims and cleans only its own `00`-`ff` dirs there), or the workspace's `.gob/tools` when
/// go has no cache dir to offer ("off", or empty).
pub fn tools_dir(gocache: &str, workspace: &Path) -> PathBuf {
    let cache = Path::new(gocache);
    if cache.is_absolute() {
        cache.join("gob-tools")
    } else {
        workspace.join(TOOLS_DIR)
    }
}

/// The path of the checker built for `go_version` in `tools` (see [`tools_dir`]), building
/// it first when it is not there; the error says what failed, with go's output.
pub async fn ensure_checker(
    go: &str,
    go_version: &str,
    tools: &Path,
    env: &BTreeMap<String, String>,
) -> Result<PathBuf, String> {
    let digest = Sha256::digest(format!("{go_version}\n{SOURCE}").as_bytes());
    let name = format!("typecheck-{}", &crate::reapi::hex(&digest)[..16]);
    let checker = tools.join(name);
    if checker.is_file() {
        return Ok(checker);
    }
    // Named by pid and on the checker's filesystem: no other running gob uses it, and the
    // built program is moved into place by a rename.
    let build = tools.join(format!("build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&build);
    prepare(&build)?;
    let result = build_in(go, &build, &checker, env).await;
    let _ = std::fs::remove_dir_all(&build);
    result.map(|()| checker)
}

/// Builds the checker in dir `build` and moves it to `checker`.
async fn build_in(
    go: &str,
    build: &Path,
    checker: &Path,
    env: &BTreeMap<String, String>,
) -> Result<(), String> {
    let write = |name: &str, text: &str| {
        std::fs::write(build.join(name), text)
            .map_err(|e| format!("cannot write the type checker's {name}: {e}"))
    };
    write("go.mod", "module gobtypecheck\n\ngo 1.18\n")?;
    write("main.go", SOURCE)?;
    let built = build.join("typecheck");
    let command = GoCommand {
        program: go.to_string(),
        args: vec![
            "build".into(),
            "-o".into(),
            built.display().to_string(),
            ".".into(),
        ],
        env: host_build_env(env),
        dir: build.to_path_buf(),
    };
    let mut output = String::new();
    let outcome = run_merged(&command, |line| {
        output.push_str(line);
        output.push('\n');
    })
    .await
    .map_err(|e| e.to_string())?;
    if outcome != Outcome::Succeeded {
        return Err(format!("go could not build gob's type checker:\n{output}"));
    }
    std::fs::rename(&built, checker)
        .map_err(|e| format!("cannot move the type checker to {}: {e}", checker.display()))
}

/// Creates `dir` if missing.
fn prepare(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// The env for building the checker: the workspace's, but for this machine (an empty GOOS
/// or GOARCH is go's default, the host), outside any module, workspace or user GOFLAGS (its
/// packages have no cgo files, so CGO_ENABLED is left as it is: its std compiles are the
/// workspace's).
fn host_build_env(env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut env = env.clone();
    for (name, value) in [
        ("GOOS", ""),
        ("GOARCH", ""),
        ("GOFLAGS", ""),
        ("GOWORK", "off"),
    ] {
        env.insert(name.to_string(), value.to_string());
    }
    env
}
