//! One digest over the files of some trees, for deciding that nothing changed: every file and
//! dir under each root, links followed, and under every dir a `go.mod` or `go.work` there
//! points go at (a `replace` by a dir, a `use`; see [`crate::go::modfile`]), wherever it is.
//!
//! Sources (what [`crate::go::packages::is_source_file`] names, and the module files) count
//! by content, so a file written again as it was changes nothing. Any other file counts by
//! its name, size, modification and change times and inode (cgo may `#include` any file, and
//! `//go:embed` needs the files it names to exist): a write changes the change time, which
//! nothing can set back; under a dir given as names-only (where gob writes binaries), by its
//! name alone. A dir counts by its entries' names.
//!
//! Besides the digest, a walk gives the stamps (the times of every file, sources included),
//! so that a caller can tell whether anything was written between two walks, and whether it
//! is settled: no file changed within [`SETTLE`] of the walk's start (a second write in the
//! same clock tick as one before the walk could leave a file's times as they were).

use std::collections::VecDeque;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

/// How long before a walk a file must have last changed for its times to be trusted.
pub const SETTLE: Duration = Duration::from_secs(2);

/// The module files, counted by content wherever they are.
const MODULE_FILES: [&str; 5] = ["go.mod", "go.sum", "go.work", "go.work.sum", "modules.txt"];

/// What a walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeDigest {
    /// SHA-256 over every entry, in hex.
    pub digest: String,
    /// SHA-256 over every file's times, in hex.
    pub stamps: String,
    /// The files seen.
    pub files: usize,
    /// No file changed within [`SETTLE`] of the walk.
    pub settled: bool,
}

/// What a walk treats apart: dirs (absolute paths), and Go files.
#[derive(Debug, Clone, Copy, Default)]
pub struct Apart<'a> {
    /// Left out, as every `.git` is.
    pub skip: &'a [PathBuf],
    /// Their files other than sources count by name alone.
    pub names_only: &'a [PathBuf],
    /// Go files other than tests count by what `go list` reads of them
    /// ([`crate::go::listed::as_listed`]), not by their whole content.
    pub go_as_listed: bool,
}

/// The roots of a walk over what go reads for a workspace: its dir, and the dirs of the
/// `go.mod` and `go.work` go uses (`module_files`, as `go env GOMOD GOWORK` prints them) when
/// they are elsewhere. `None` outside module mode (GOPATH's trees are not walked).
pub fn workspace_roots(workspace_dir: &Path, module_files: [&str; 2]) -> Option<Vec<PathBuf>> {
    let mut roots = vec![workspace_dir.to_path_buf()];
    for file in module_files {
        let path = Path::new(file);
        if path.is_absolute() && path != Path::new("/dev/null") {
            roots.extend(path.parent().map(Path::to_path_buf));
        }
    }
    (roots.len() > 1).then_some(roots)
}

/// The digest of the trees at `roots` and of the trees their module files point at. An
/// error: a root or file that cannot be read.
pub fn digest(roots: &[PathBuf], apart: Apart) -> io::Result<TreeDigest> {
    digest_as_of(roots, apart, SystemTime::now())
}

/// [`digest`], for a walk that started at `started`.
fn digest_as_of(roots: &[PathBuf], apart: Apart, started: SystemTime) -> io::Result<TreeDigest> {
    let canonical = |dirs: &[PathBuf]| -> Vec<PathBuf> {
        dirs.iter()
            .map(|s| s.canonicalize().unwrap_or_else(|_| s.clone()))
            .collect()
    };
    let (skip, names_only) = (canonical(apart.skip), canonical(apart.names_only));
    let mut walk = Walk {
        hasher: Sha256::new(),
        stamps: Sha256::new(),
        files: 0,
        settled: true,
        unsettled_after: started.checked_sub(SETTLE).unwrap_or(started),
        queued: VecDeque::new(),
        seen: Vec::new(),
        skip: &skip,
        names_only: &names_only,
        go_as_listed: apart.go_as_listed,
    };
    // Outer roots first: a root inside one is walked with it.
    let mut roots: Vec<PathBuf> = roots
        .iter()
        .map(|r| r.canonicalize())
        .collect::<io::Result<_>>()?;
    roots.sort_by_key(|r| r.components().count());
    for root in &roots {
        walk.queue(root)?;
    }
    while let Some(root) = walk.queued.pop_front() {
        walk.tree(&root)?;
    }
    Ok(TreeDigest {
        digest: crate::base::hash::hex(&walk.hasher.finalize()),
        stamps: crate::base::hash::hex(&walk.stamps.finalize()),
        files: walk.files,
        settled: walk.settled,
    })
}

/// A walk in progress.
struct Walk<'a> {
    hasher: Sha256,
    stamps: Sha256,
    files: usize,
    settled: bool,
    unsettled_after: SystemTime,
    /// Roots not walked yet.
    queued: VecDeque<PathBuf>,
    /// Roots walked or queued (canonical).
    seen: Vec<PathBuf>,
    skip: &'a [PathBuf],
    names_only: &'a [PathBuf],
    go_as_listed: bool,
}

impl Walk<'_> {
    /// Queues `root` unless a root walked or queued holds it.
    fn queue(&mut self, root: &Path) -> io::Result<()> {
        let root = root.canonicalize()?;
        if !self.seen.iter().any(|r| root.starts_with(r)) {
            self.seen.push(root.clone());
            self.queued.push_back(root);
        }
        Ok(())
    }

    /// Hashes a file's content (a Go file's as go list reads it, when the walk says so); for
    /// a go.mod or go.work, queues the dirs it points at.
    fn by_content(&mut self, path: &Path) -> io::Result<()> {
        let content = std::fs::read(path)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if self.go_as_listed && name.ends_with(".go") && !name.ends_with("_test.go") {
            self.hasher
                .update(Sha256::digest(crate::go::listed::as_listed(&content)));
        } else {
            self.hasher.update(Sha256::digest(&content));
        }
        if name == "go.mod" || name == "go.work" {
            let base = path.parent().unwrap_or(Path::new("."));
            for dir in crate::go::modfile::local_dirs(&String::from_utf8_lossy(&content)) {
                let target = base.join(&dir);
                // A target that is not there is go's error to report; its absence is hashed.
                self.hasher
                    .update(format!("points at {dir} {}\n", target.exists()));
                if target.is_dir() {
                    self.queue(&target)?;
                }
            }
        }
        Ok(())
    }

    /// Hashes every entry under `root`.
    fn tree(&mut self, root: &Path) -> io::Result<()> {
        self.hasher.update(format!("root {}\n", root.display()));
        let skip = self.skip;
        let entries = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.file_name() != ".git" && !skip.iter().any(|s| e.path() == s));
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    self.unreadable(root, error)?;
                    continue;
                }
            };
            let relative = crate::base::paths::escaped(
                entry.path().strip_prefix(root).unwrap_or(entry.path()),
            );
            if entry.file_type().is_dir() {
                self.hasher.update(format!("dir {relative}\n"));
                continue;
            }
            self.files += 1;
            let meta = entry.metadata().map_err(io::Error::other)?;
            let stamp = format!(
                "{} {}.{} {}.{} {}",
                meta.len(),
                meta.mtime(),
                meta.mtime_nsec(),
                meta.ctime(),
                meta.ctime_nsec(),
                meta.ino()
            );
            self.stamps.update(format!("{relative} {stamp}\n"));
            if meta.modified().is_ok_and(|t| t >= self.unsettled_after)
                || changed(&meta) >= self.unsettled_after
            {
                self.settled = false;
            }
            let name = entry.file_name().to_string_lossy();
            if crate::go::packages::is_source_file(&name) || MODULE_FILES.contains(&&*name) {
                self.hasher.update(format!("source {relative} "));
                self.by_content(entry.path())?;
                self.hasher.update("\n");
            } else if self.names_only.iter().any(|d| entry.path().starts_with(d)) {
                self.hasher.update(format!("name {relative}\n"));
            } else {
                self.hasher.update(format!("file {relative} {stamp}\n"));
            }
        }
        Ok(())
    }

    /// A link that leads nowhere, or back up its own path, counts by where it points; any
    /// other error ends the walk.
    fn unreadable(&mut self, root: &Path, error: walkdir::Error) -> io::Result<()> {
        let Some(path) = error.path().map(Path::to_path_buf) else {
            return Err(io::Error::other(error));
        };
        match std::fs::read_link(&path) {
            Ok(target) => {
                let relative = path.strip_prefix(root).unwrap_or(&path);
                self.hasher.update(format!(
                    "link {} {}\n",
                    crate::base::paths::escaped(relative),
                    target.display()
                ));
                Ok(())
            }
            Err(_) => Err(io::Error::other(error)),
        }
    }
}

/// A file's change time (ctime).
fn changed(meta: &std::fs::Metadata) -> SystemTime {
    let nanos = u32::try_from(meta.ctime_nsec()).unwrap_or(0);
    match u64::try_from(meta.ctime()) {
        Ok(secs) => SystemTime::UNIX_EPOCH + Duration::new(secs, nanos),
        Err(_) => SystemTime::UNIX_EPOCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with a package and its testdata.
    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("pkg/testdata")).unwrap();
        std::fs::write(root.join("go.mod"), "module m\n\ngo 1.22\n").unwrap();
        std::fs::write(root.join("pkg/a.go"), "package pkg\n").unwrap();
        std::fs::write(root.join("pkg/testdata/in.txt"), "data").unwrap();
        dir
    }

    /// Waits out the file system clock's tick (a few ms), so that a write changes times.
    fn next_tick() {
        std::thread::sleep(Duration::from_millis(30));
    }

    fn of(root: &Path) -> TreeDigest {
        digest(
            &[root.to_path_buf()],
            Apart {
                skip: &[root.join(".gob")],
                names_only: &[root.join("bin")],
                go_as_listed: false,
            },
        )
        .unwrap()
    }

    #[test]
    fn go_files_as_listed_count_by_what_go_list_reads_of_them_and_tests_whole() {
        let dir = tree();
        let root = dir.path();
        let as_listed = |root: &Path| {
            let apart = Apart {
                go_as_listed: true,
                ..Apart::default()
            };
            digest(&[root.to_path_buf()], apart).unwrap().digest
        };
        let write = |name: &str, text: &str| std::fs::write(root.join(name), text).unwrap();
        write("pkg/a.go", "package pkg\n\nvar v = 1\n");
        write("pkg/a_test.go", "package pkg\n");
        let (first, whole) = (as_listed(root), of(root).digest);
        write("pkg/a.go", "package pkg\n\nvar v = 2\n");
        assert_eq!(as_listed(root), first, "a body edit");
        assert_ne!(of(root).digest, whole, "counted whole otherwise");
        write("pkg/a.go", "package pkg\n\nimport \"os\"\n");
        assert_ne!(as_listed(root), first, "an import");
        write("pkg/a.go", "package pkg\n\nvar v = 1\n");
        assert_eq!(as_listed(root), first);
        write("pkg/a_test.go", "package pkg\n\nvar w = 1\n");
        assert_ne!(
            as_listed(root),
            first,
            "go list -test parses test files whole"
        );
    }

    #[test]
    fn roots_are_the_workspace_and_the_module_files_dirs_in_module_mode_only() {
        let ws = Path::new("/r/m/ws");
        assert_eq!(
            workspace_roots(ws, ["/r/m/go.mod", ""]),
            Some(vec![ws.to_path_buf(), PathBuf::from("/r/m")])
        );
        assert_eq!(
            workspace_roots(ws, ["/r/m/go.mod", "/r/go.work"]).map(|r| r.len()),
            Some(3)
        );
        assert_eq!(workspace_roots(ws, ["", "off"]), None, "GOPATH mode");
        assert_eq!(
            workspace_roots(ws, ["/dev/null", ""]),
            None,
            "GO111MODULE=off"
        );
    }

    #[test]
    fn sources_count_by_content_and_other_files_by_their_times() {
        let dir = tree();
        let root = dir.path();
        let first = of(root);
        assert_eq!(first.files, 3);
        assert!(!first.settled, "just written");
        assert_eq!(of(root).digest, first.digest);
        // A source written again as it was: the same digest.
        std::fs::write(root.join("pkg/a.go"), "package pkg\n").unwrap();
        assert_eq!(of(root).digest, first.digest);
        std::fs::write(root.join("pkg/a.go"), "package pkg // x\n").unwrap();
        let edited = of(root);
        assert_ne!(edited.digest, first.digest);
        // Any other file written again, even as it was (a clock tick later): another digest.
        next_tick();
        std::fs::write(root.join("pkg/testdata/in.txt"), "data").unwrap();
        let rewritten = of(root);
        assert_ne!(rewritten.digest, edited.digest);
        // Where binaries go, by name: a new one counts, one written again does not.
        std::fs::create_dir(root.join("bin")).unwrap();
        std::fs::write(root.join("bin/app"), "v1").unwrap();
        let built = of(root);
        assert_ne!(built.digest, rewritten.digest);
        next_tick();
        std::fs::write(root.join("bin/app"), "v2").unwrap();
        let rebuilt = of(root);
        assert_eq!(rebuilt.digest, built.digest);
        // The stamps tell every write apart, sources written as they were too.
        assert_ne!(rebuilt.stamps, built.stamps);
        next_tick();
        std::fs::write(root.join("pkg/a.go"), "package pkg // x\n").unwrap();
        let again = of(root);
        assert_eq!(again.digest, rebuilt.digest);
        assert_ne!(again.stamps, rebuilt.stamps);
    }

    #[test]
    fn a_digest_is_settled_once_no_file_changed_within_the_settle_time() {
        let dir = tree();
        let root = [dir.path().to_path_buf()];
        let at = |later: Duration| {
            digest_as_of(&root, Apart::default(), SystemTime::now() + later)
                .unwrap()
                .settled
        };
        assert!(!at(Duration::ZERO));
        assert!(at(SETTLE + Duration::from_secs(1)));
    }

    #[test]
    fn new_files_dirs_and_links_count_and_skipped_dirs_do_not() {
        let dir = tree();
        let root = dir.path();
        let first = of(root).digest;
        std::fs::create_dir_all(root.join(".gob/check")).unwrap();
        std::fs::write(root.join(".gob/check/x.json"), "{}").unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/index"), "x").unwrap();
        assert_eq!(of(root).digest, first);
        std::fs::create_dir(root.join("empty")).unwrap();
        let with_dir = of(root).digest;
        assert_ne!(with_dir, first);
        std::os::unix::fs::symlink(root.join("nowhere"), root.join("broken")).unwrap();
        let with_link = of(root).digest;
        assert_ne!(with_link, with_dir);
        std::os::unix::fs::symlink(root, root.join("pkg/loop")).unwrap();
        assert_ne!(of(root).digest, with_link);
    }

    #[test]
    fn a_replaced_module_outside_the_root_is_walked_too() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("lib.go"), "package lib\n").unwrap();
        let dir = tree();
        let root = dir.path();
        let gomod = format!("module m\n\nreplace lib => {}\n", outside.path().display());
        std::fs::write(root.join("go.mod"), gomod).unwrap();
        let first = of(root);
        assert_eq!(first.files, 4);
        std::fs::write(outside.path().join("lib.go"), "package lib // x\n").unwrap();
        assert_ne!(of(root).digest, first.digest);
    }

    #[test]
    fn a_root_inside_another_is_walked_once() {
        let dir = tree();
        let outer = dir.path().to_path_buf();
        let alone = digest(std::slice::from_ref(&outer), Apart::default()).unwrap();
        let both = digest(&[outer.join("pkg"), outer], Apart::default()).unwrap();
        assert_eq!(both, alone);
    }

    mod edits {
        use super::*;
        use proptest::prelude::*;

        /// Files a generated tree may hold: sources, module files, data, where binaries go.
        const NAMES: [&str; 8] = [
            "go.mod",
            "a/a.go",
            "a/a_test.go",
            "a/asm.s",
            "a/testdata/in.json",
            "b/embed/page.html",
            "b/b.go",
            "bin/tool",
        ];

        /// One change to a tree.
        #[derive(Debug, Clone)]
        enum Edit {
            Append(usize),
            Remove(usize),
            Create(String),
            Rename(usize),
            Rewrite(usize),
            MakeDir(String),
        }

        fn edit() -> impl Strategy<Value = Edit> {
            prop_oneof![
                (0..NAMES.len()).prop_map(Edit::Append),
                (0..NAMES.len()).prop_map(Edit::Remove),
                "[a-c]/[a-z]{1,3}\\.(go|txt|h)".prop_map(Edit::Create),
                (0..NAMES.len()).prop_map(Edit::Rename),
                (0..NAMES.len()).prop_map(Edit::Rewrite),
                "[a-c]/[a-z]{1,3}".prop_map(Edit::MakeDir),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]

            /// Any change that go could see changes the digest; a file written again as it was
            /// changes it unless it counts by content (or lies where binaries go, by name).
            #[test]
            fn every_change_go_could_see_changes_the_digest(
                present in proptest::collection::vec(any::<bool>(), NAMES.len()),
                edit in edit(),
            ) {
                let dir = tempfile::tempdir().unwrap();
                let root = dir.path();
                for (name, _) in NAMES.iter().zip(&present).filter(|(_, p)| **p) {
                    let path = root.join(name);
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(&path, format!("content of {name}\n")).unwrap();
                }
                let before = of(root).digest;
                std::thread::sleep(Duration::from_millis(20));
                let target = |i: usize| root.join(NAMES[i]);
                let exists = |i: usize| target(i).exists();
                let must_change = match &edit {
                    Edit::Append(i) if exists(*i) => {
                        let mut text = std::fs::read(target(*i)).unwrap();
                        text.push(b'x');
                        std::fs::write(target(*i), text).unwrap();
                        !NAMES[*i].starts_with("bin/")
                    }
                    Edit::Remove(i) if exists(*i) => {
                        std::fs::remove_file(target(*i)).unwrap();
                        true
                    }
                    Edit::Rename(i) if exists(*i) => {
                        std::fs::rename(target(*i), root.join(format!("{}.orig", NAMES[*i]))).unwrap();
                        true
                    }
                    Edit::Rewrite(i) if exists(*i) => {
                        let text = std::fs::read(target(*i)).unwrap();
                        std::fs::write(target(*i), text).unwrap();
                        let by_content = crate::go::packages::is_source_file(NAMES[*i])
                            || NAMES[*i] == "go.mod";
                        !by_content && !NAMES[*i].starts_with("bin/")
                    }
                    Edit::Create(name) if !root.join(name).exists() => {
                        let path = root.join(name);
                        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                        std::fs::write(&path, "new\n").unwrap();
                        true
                    }
                    Edit::MakeDir(name) if !root.join(name).exists() => {
                        std::fs::create_dir_all(root.join(name)).unwrap();
                        true
                    }
                    _ => return Ok(()),
                };
                let after = of(root).digest;
                if must_change {
                    prop_assert_ne!(after, before, "{:?}", edit);
                } else {
                    prop_assert_eq!(after, before, "{:?}", edit);
                }
            }
        }
    }
}
