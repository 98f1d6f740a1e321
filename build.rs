//! Records the commit gob is built from, for `gob --version`: `GOB_BUILD_COMMIT` when set
//! (tools/dist.sh sets it), else what git says about the checkout, else "unknown".

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=GOB_BUILD_COMMIT");
    let commit = std::env::var("GOB_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=GOB_COMMIT={commit}");
    watch_git_head();
}

/// The checked-out commit, short, as git prints it.
fn git_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}

/// Reruns this script when HEAD moves: a checkout (`.git/HEAD`) or a commit on the branch.
fn watch_git_head() {
    let git = Path::new(".git");
    let Ok(head) = std::fs::read_to_string(git.join("HEAD")) else {
        return;
    };
    let mut watched = vec![git.join("HEAD"), git.join("packed-refs")];
    if let Some(branch) = head.trim().strip_prefix("ref: ") {
        watched.push(git.join(branch));
    }
    // A path that does not exist would rerun the script on every build.
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}
