//! Remembering `go list` answers between `gob build` runs. On a no-op build, `go list` was
//! most of gob's overhead over go's own no-op (≈70 of 80 ms on the benchmark workspace), so
//! the answer for the manifest's exact package paths is kept in `.gob/cache/` with stamps of
//! everything it depends on: the go toolchain and its environment, the patterns, `go.mod` /
//! `go.work` / `go.sum` of the workspace, and for each package dir the dir itself and the
//! name, size and mtime of each of its `.go` files plus any `go.mod` between it and the
//! workspace. Any change to any of them, or a package with an error, means a fresh `go list`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::workspace::gotool::{GoEnv, GoTool, GoToolError, ListedPackage};

#[derive(Serialize, Deserialize)]
struct Entry {
    key: u64,
    stamps: u64,
    packages: Vec<ListedPackage>,
}

/// `go list` of `patterns` (exact package paths, no `...`), from the cache when nothing it
/// depends on changed.
pub fn list(
    go: &GoTool,
    go_env: &GoEnv,
    workspace_dir: &Path,
    patterns: &[&str],
) -> Result<Vec<ListedPackage>, GoToolError> {
    let key = crate::base::hash::fnv1a(
        format!(
            "{}|{:?}|{:?}|{:?}|{}",
            go.program,
            go_env,
            patterns,
            module_files(workspace_dir),
            environment()
        )
        .as_bytes(),
    );
    let path = workspace_dir
        .join(crate::base::state::LIST_CACHE_DIR)
        .join(format!("list-{key:016x}.json"));
    if let Some(entry) = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Entry>(&b).ok())
        && entry.key == key
        && entry.stamps == stamps(&entry.packages, workspace_dir)
    {
        return Ok(entry.packages);
    }
    let packages = go.list(patterns, &[])?;
    if packages
        .iter()
        .all(|p| p.error.is_none() && p.dir.is_some())
    {
        let entry = Entry {
            key,
            stamps: stamps(&packages, workspace_dir),
            packages: packages.clone(),
        };
        // A cache: failing to write it (or refusing to, through a symlink) only costs the
        // next run a go list.
        if let Ok(bytes) = serde_json::to_vec(&entry)
            && crate::base::paths::refuse_symlinks(workspace_dir, &path).is_ok()
        {
            let _ = crate::base::paths::write_atomically(&path, &bytes);
        }
    }
    Ok(packages)
}

/// The variables that change what `go list` answers, as set for gob.
fn environment() -> String {
    [
        "GOFLAGS",
        "GOOS",
        "GOARCH",
        "CGO_ENABLED",
        "GOWORK",
        "GO111MODULE",
        "GOPATH",
        "GOPROXY",
    ]
    .iter()
    .map(|k| format!("{k}={:?};", std::env::var_os(k)))
    .collect()
}

/// Stamps of the workspace's module files.
fn module_files(workspace_dir: &Path) -> Vec<Option<(u64, u128)>> {
    ["go.mod", "go.work", "go.sum", "go.work.sum"]
        .iter()
        .map(|f| stamp(&workspace_dir.join(f)))
        .collect()
}

/// One hash over the stamps of every package dir, its `.go` files, and the `go.mod` files
/// that could move it to another module.
fn stamps(packages: &[ListedPackage], workspace_dir: &Path) -> u64 {
    let mut text = String::new();
    for dir in packages.iter().filter_map(|p| p.dir.as_ref()) {
        text.push_str(&format!("{}={:?};", dir.display(), stamp(dir)));
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "go"))
            .collect();
        files.sort();
        for file in &files {
            text.push_str(&format!("{}={:?};", file.display(), stamp(file)));
        }
        let mut ancestor = dir.as_path();
        while ancestor.starts_with(workspace_dir) && ancestor != workspace_dir {
            text.push_str(&format!("{:?};", stamp(&ancestor.join("go.mod"))));
            match ancestor.parent() {
                Some(parent) => ancestor = parent,
                None => break,
            }
        }
    }
    crate::base::hash::fnv1a(text.as_bytes())
}

/// Size and mtime (ns) of a file or dir, `None` when it does not exist.
fn stamp(path: &Path) -> Option<(u64, u128)> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((meta.len(), mtime))
}
