//! gob as `go test`'s `-exec` program: keep each integration test binary, run nothing.
//!
//! `gob test --integ` compiles a suite's test binaries in one `go test -v -exec=GOB` call
//! (one action graph: nothing is walked twice, and binaries named alike never clash, since go
//! links each in its own `$WORK` dir). After each link go runs `GOB BINARY FLAGS…` in the
//! package's dir; gob hard-links the binary into the suite's store (in a dir named by its
//! Go build ID, so a path always means the same build), prints a ready line that tells the gob
//! reading go's output where it is, and exits 0. It also writes an empty test log beside the
//! binary, where `-test.testlogfile` would have pointed (test.go `saveOutput` caches a result
//! only when that log exists): go then caches the "result", and the next call replays the
//! ready line of an unchanged binary without linking it again.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Set in go's environment: the suite's store of test binaries.
pub const STORE_ENV: &str = "GOB_TEST_STORE";
/// Set in go's environment: the workspace dir (store paths mirror package dirs below it).
pub const ROOT_ENV: &str = "GOB_TEST_ROOT";

/// What starts a ready line.
const READY: &str = "gob-test-binary\t";
/// The header of an empty test log (test.go `testlogMagic`).
const TESTLOG: &[u8] = b"# test log\n";
/// The store's token file: a random word that goes into the call's `-run` pattern, which go
/// hashes into its cached results, so a result cached for another store (another clone,
/// another machine sharing GOCACHE through a remote) is never taken for this one's.
const TOKEN_FILE: &str = ".token";

/// True when go started this process as the `-exec` program of a compile call.
pub fn is_exec_call(args: &[String]) -> bool {
    // go always passes the binary's absolute path; gob's own subcommands are plain words.
    std::env::var_os(STORE_ENV).is_some() && args.len() >= 2 && Path::new(&args[1]).is_absolute()
}

/// Runs as the `-exec` program: `args` is gob's argv (`gob BINARY FLAGS…`).
pub fn exec_main(args: &[String]) -> ExitCode {
    match keep(Path::new(&args[1])) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("gob: cannot keep the test binary {}: {e}", args[1]);
            ExitCode::FAILURE
        }
    }
}

/// Stores `binary`, writes its empty test log, and returns the ready line.
fn keep(binary: &Path) -> io::Result<String> {
    let var = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .ok_or_else(|| io::Error::other(format!("{name} is not set")))
    };
    let (store, root) = (var(STORE_ENV)?, var(ROOT_ENV)?);
    // go sets PWD to the package dir it runs the program in (base.AppendPWD).
    let dir = std::env::var_os("PWD")
        .map(PathBuf::from)
        .map_or_else(std::env::current_dir, Ok)?;
    let id = crate::go::buildid::build_id(binary)?;
    let id = match id {
        Some(id) => id,
        None => std::fs::read(binary)?,
    };
    let name = binary
        .file_name()
        .ok_or_else(|| io::Error::other("the binary's path has no file name"))?;
    let build = kept_dir(&store, &root, &dir).join(build_dir_name(crate::base::hash::fnv1a(&id)));
    let kept = build.join(name);
    if !kept.is_file() {
        std::fs::create_dir_all(&build)?;
        crate::base::paths::replace_without_sync(&kept, |temp| {
            std::fs::hard_link(binary, temp).or_else(|_| std::fs::copy(binary, temp).map(drop))
        })?;
    }
    remove_other_builds(&build);
    if let Some(objdir) = binary.parent() {
        std::fs::write(objdir.join("testlog.txt"), TESTLOG)?;
    }
    Ok(ready_line(&dir, &kept))
}

/// The dir of one build of a package's binary, named by its build ID's hash (`@` cannot
/// start a package dir's name, so it never clashes with a subpackage's dir beside it). The
/// binary keeps go's name for it inside (`api.test`), as `go test` runs it.
fn build_dir_name(id_hash: u64) -> String {
    format!("{BUILD_DIR_PREFIX}{id_hash:016x}")
}

/// What starts the name of a build's dir.
const BUILD_DIR_PREFIX: char = '@';

/// Where the store keeps the binary of the package in `dir`: below the package's dir
/// relative to the workspace `root`, or, for a dir outside it (a `go.work` module
/// elsewhere), below `_outside/` and a hash of the dir.
pub fn kept_dir(store: &Path, root: &Path, dir: &Path) -> PathBuf {
    match dir.strip_prefix(root) {
        Ok(rel)
            if rel
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_))) =>
        {
            store.join(rel)
        }
        _ => {
            let hash = crate::base::hash::fnv1a(dir.as_os_str().as_encoded_bytes());
            store.join("_outside").join(format!("{hash:016x}"))
        }
    }
}

/// Removes the package's other builds beside `build` (a store keeps one per package).
fn remove_other_builds(build: &Path) {
    let Some(dir) = build.parent() else { return };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let other_build = entry
            .file_name()
            .to_string_lossy()
            .starts_with(BUILD_DIR_PREFIX);
        if other_build && path != build {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// The line that says the binary of the package in `dir` is kept at `kept`.
fn ready_line(dir: &Path, kept: &Path) -> String {
    format!("{READY}{}\t{}", dir.display(), kept.display())
}

/// The package dir and binary path of a ready line.
pub fn parse_ready(line: &str) -> Option<(&str, &str)> {
    line.strip_prefix(READY)?.split_once('\t')
}

/// The store's token, if it has one.
pub fn read_token(store: &Path) -> Option<String> {
    let token = std::fs::read_to_string(store.join(TOKEN_FILE)).ok()?;
    Some(token.trim().to_string()).filter(|t| !t.is_empty())
}

/// The store's token, made (and every older file in the store removed) when it has none.
pub fn store_token(store: &Path) -> io::Result<String> {
    if let Some(token) = read_token(store) {
        return Ok(token);
    }
    if store.exists() {
        std::fs::remove_dir_all(store)?;
    }
    std::fs::create_dir_all(store)?;
    let seed = format!(
        "{:?} {} {:?}",
        std::time::SystemTime::now(),
        std::process::id(),
        store
    );
    let token = format!("{:016x}", crate::base::hash::fnv1a(seed.as_bytes()));
    crate::base::paths::write_atomically(&store.join(TOKEN_FILE), token.as_bytes())?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_lines_round_trip() {
        let line = ready_line(
            Path::new("/w/a/api"),
            Path::new("/w/.gob/test/i/a/api/x.test"),
        );
        assert_eq!(
            parse_ready(&line),
            Some(("/w/a/api", "/w/.gob/test/i/a/api/x.test"))
        );
        assert_eq!(parse_ready("ok  \texample.com/a\t0.01s"), None);
        assert_eq!(parse_ready("gob-test-binary\tno tab"), None);
    }

    #[test]
    fn kept_dirs_mirror_package_dirs_inside_the_workspace() {
        let (store, root) = (Path::new("/s"), Path::new("/w"));
        let kept = |dir: &str| kept_dir(store, root, Path::new(dir));
        assert_eq!(kept("/w/a/api"), Path::new("/s/a/api"));
        assert_eq!(kept("/w"), Path::new("/s"));
        let outside = kept("/elsewhere/lib");
        assert!(outside.starts_with("/s/_outside"), "{outside:?}");
        assert_ne!(outside, kept("/elsewhere/lib2"));
        assert!(kept("/w/../x").starts_with("/s/_outside"));
    }

    #[test]
    fn build_dirs_are_fixed_width_hashes() {
        assert_eq!(build_dir_name(0xab), "@00000000000000ab");
    }

    #[test]
    fn keeping_a_build_removes_the_packages_other_builds_only() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("a");
        for name in ["@old/a.test", "@new/a.test", "notes.txt", "sub/@x/sub.test"] {
            std::fs::create_dir_all(pkg.join(name).parent().unwrap()).unwrap();
            std::fs::write(pkg.join(name), name).unwrap();
        }
        remove_other_builds(&pkg.join("@new"));
        assert!(!pkg.join("@old").exists());
        for name in ["@new/a.test", "notes.txt", "sub/@x/sub.test"] {
            assert!(pkg.join(name).exists(), "{name}");
        }
    }

    #[test]
    fn a_store_keeps_its_token_and_a_new_one_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("integ");
        std::fs::create_dir_all(store.join("batch-1")).unwrap();
        std::fs::write(store.join("batch-1/api.test"), "old layout").unwrap();
        let token = store_token(&store).unwrap();
        assert_eq!(token.len(), 16);
        assert!(!store.join("batch-1").exists(), "a new store starts empty");
        std::fs::create_dir_all(store.join("a")).unwrap();
        assert_eq!(store_token(&store).unwrap(), token);
        assert!(store.join("a").exists());
    }
}
