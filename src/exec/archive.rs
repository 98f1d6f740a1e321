//! Test archives (`gob test --archive`, `--from-archive`): compiled test binaries with what
//! they read at run time, so a CI matrix compiles once and every shard machine runs the
//! binaries without go or the source tree. A tar stream compressed with zstd:
//!
//! - `index.json`, the first entry: the [`Index`] (suites, packages, their dirs, env, args,
//!   timeouts, the Go version, GOOS/GOARCH and each binary's build ID);
//! - `bin/<suite>/<n>/<name>.test`: the binaries;
//! - `src/<package dir>/...`: each package's `testdata/` and the files of the suites'
//!   `include` globs, at their paths relative to the workspace (a package outside it, a
//!   `go.work` module elsewhere, under `src/_outside/<hash>/`). A link whose target is in
//!   the archive stays a link; one that points elsewhere is stored as the file it points to,
//!   and the index says so.
//!
//! Written to a temp file and renamed. Read only into a dir gob made (it holds
//! [`MARKER`]) or an empty one, under a lock on that dir: the index first (capped in size,
//! and its GOOS/GOARCH checked against this machine before anything is written), then every
//! entry into a temp dir inside it, each checked (no path or link that leaves the dir, no
//! hard link or device), with the umask applied to file modes; only then does the
//! extraction replace the previous one. A truncated or corrupt archive fails before anything
//! runs and leaves nothing.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::base::paths::{RemovedOnDrop, normalize, remove_tree};

/// The index format this gob writes and reads.
pub const FORMAT: u32 = 1;
/// The index's name in the archive.
const INDEX: &str = "index.json";
/// The most bytes of index gob reads (a large suite's index is some KiB).
const MAX_INDEX: u64 = 4 * 1024 * 1024;
/// The file that marks a dir as one gob extracts archives into (and is locked while a run
/// uses it).
pub const MARKER: &str = ".gob-archive";

/// What an archive holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// [`FORMAT`] of the gob that wrote it.
    pub format: u32,
    /// That gob's version.
    pub gob: String,
    /// The Go that compiled the binaries (`go1.26.8`).
    pub go_version: String,
    /// Their GOOS.
    pub goos: String,
    /// Their GOARCH.
    pub goarch: String,
    /// The suites, in the order they run.
    pub suites: Vec<ArchivedSuite>,
    /// The coverage counter mode the binaries were built with (`--cover`); none: not
    /// instrumented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
    /// Files stored in place of links that pointed outside what the archive holds (paths in
    /// the archive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dereferenced: Vec<String>,
}

/// A suite in an archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedSuite {
    /// Suite name.
    pub name: String,
    /// An integration suite.
    pub integ: bool,
    /// Per binary, seconds.
    pub timeout: f64,
    /// Added to the binaries' environment.
    pub env: BTreeMap<String, String>,
    /// Passed to the binaries.
    pub args: Vec<String>,
    /// `split`: seconds of the groups its big packages are split into, by test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<f64>,
    /// Its packages, in the order they run.
    pub packages: Vec<ArchivedPackage>,
    /// The services it needs, started where the tests run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ArchivedService>,
}

/// A service a suite of an archive needs (its stamps filled in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedService {
    /// Task name.
    pub name: String,
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Its dir relative to the workspace.
    #[serde(default)]
    pub dir: Option<String>,
    /// Added to its environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Ready when a TCP connection to this address succeeds.
    #[serde(default)]
    pub ready_tcp: Option<String>,
    /// Ready when this command exits 0.
    #[serde(default)]
    pub ready_run: Option<Vec<String>>,
    /// Seconds the readiness check may take.
    #[serde(default)]
    pub ready_timeout: f64,
}

/// A test binary in an archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedPackage {
    /// Import path.
    pub import_path: String,
    /// Its dir relative to the workspace (under `src/` in the archive).
    pub dir: String,
    /// The binary's path in the archive.
    pub binary: String,
    /// Its Go build ID.
    pub build_id: Option<String>,
}

/// What an archive entry is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The content of this file (links followed).
    File(PathBuf),
    /// A link with this target (relative, inside the archive).
    Link(PathBuf),
}

/// An archive that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Writing failed.
    #[error("cannot write the archive {}: {source}", path.display())]
    Write {
        /// The archive.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The archive is not one gob can run.
    #[error("{} is not a test archive gob can run: {why}", path.display())]
    Unreadable {
        /// The archive.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// The binaries were built for another machine.
    #[error(
        "{} holds test binaries for {goos}/{goarch}, and this machine is {host_os}/{host_arch}: run it on a {goos}/{goarch} machine, or build the archive with GOOS={host_os} GOARCH={host_arch}",
        path.display()
    )]
    OtherPlatform {
        /// The archive.
        path: PathBuf,
        /// Its GOOS.
        goos: String,
        /// Its GOARCH.
        goarch: String,
        /// This machine's GOOS.
        host_os: String,
        /// This machine's GOARCH.
        host_arch: String,
    },
    /// The extraction dir holds files gob did not put there.
    #[error(
        "refusing to extract into {}: it is not empty and gob did not make it (it has no {MARKER}); name a new or empty dir with --extract-dir",
        .0.display()
    )]
    NotOurs(PathBuf),
    /// The extraction dir cannot be used.
    #[error("cannot extract into {}: {source}", path.display())]
    Dir {
        /// The dir.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Writes an archive at `path`: `index`, then each `(path in archive, source)` of `files`.
pub fn pack(path: &Path, index: &Index, files: &[(PathBuf, Source)]) -> Result<(), ArchiveError> {
    let write = |temp: &Path| -> std::io::Result<()> {
        let file = std::fs::File::create(temp)?;
        let encoder = zstd::Encoder::new(file, 3)?;
        let mut tar = tar::Builder::new(encoder);
        tar.follow_symlinks(true);
        let json = serde_json::to_vec_pretty(index).map_err(std::io::Error::other)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        tar.append_data(&mut header, INDEX, json.as_slice())?;
        for (name, source) in files {
            match source {
                Source::File(file) => tar.append_path_with_name(file, name)?,
                Source::Link(target) => {
                    let mut header = tar::Header::new_gnu();
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_size(0);
                    header.set_mode(0o777);
                    header.set_mtime(0);
                    tar.append_link(&mut header, name, target)?;
                }
            }
        }
        tar.into_inner()?.finish()?.sync_all()
    };
    crate::base::paths::replace_atomically(path, write).map_err(|source| ArchiveError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Makes `dest` an extraction dir: one gob made (it holds [`MARKER`]), or a missing or empty
/// one it takes. A dir with files of someone else's is refused, never emptied.
pub fn claim(dest: &Path) -> Result<(), ArchiveError> {
    let dir_error = |source| ArchiveError::Dir {
        path: dest.to_path_buf(),
        source,
    };
    if dest.join(MARKER).is_file() {
        return Ok(());
    }
    match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(ArchiveError::NotOurs(dest.to_path_buf()));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dest).map_err(dir_error)?;
        }
        Err(e) => return Err(dir_error(e)),
    }
    std::fs::write(dest.join(MARKER), "").map_err(dir_error)
}

/// Reads the index of the archive at `path` (the first entry), checked.
pub fn read_index(path: &Path) -> Result<Index, ArchiveError> {
    let unreadable = |why: String| ArchiveError::Unreadable {
        path: path.to_path_buf(),
        why,
    };
    let mut tar = open(path).map_err(unreadable)?;
    let mut entries = tar
        .entries()
        .map_err(|e| unreadable(format!("not a tar stream: {e}")))?;
    first_index(path, &mut entries)
}

/// Reads the archive at `path` into the extraction dir `dest` (claimed with [`claim`]),
/// replacing the previous extraction, and returns its index.
pub fn unpack(path: &Path, dest: &Path) -> Result<Index, ArchiveError> {
    let unreadable = |why: String| ArchiveError::Unreadable {
        path: path.to_path_buf(),
        why,
    };
    let temp = RemovedOnDrop(dest.join(format!(".gob-extract-{}.tmp", std::process::id())));
    remove_tree(&temp.0).map_err(|source| ArchiveError::Dir {
        path: temp.0.clone(),
        source,
    })?;
    std::fs::create_dir(&temp.0).map_err(|source| ArchiveError::Dir {
        path: dest.to_path_buf(),
        source,
    })?;
    let index = extract(path, &temp.0)?;
    for package in index.suites.iter().flat_map(|s| &s.packages) {
        let binary = temp.0.join(&package.binary);
        let regular = std::fs::symlink_metadata(&binary).is_ok_and(|m| m.is_file());
        if !safe(&package.binary) || !regular {
            return Err(unreadable(format!(
                "its binary {} is missing",
                package.binary
            )));
        }
    }
    check_links(&temp.0).map_err(unreadable)?;
    replace_contents(dest, &temp.0).map_err(|source| ArchiveError::Dir {
        path: dest.to_path_buf(),
        source,
    })?;
    Ok(index)
}

fn open(
    path: &Path,
) -> Result<tar::Archive<zstd::Decoder<'static, std::io::BufReader<std::fs::File>>>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let decoder = zstd::Decoder::new(file).map_err(|e| format!("not zstd: {e}"))?;
    Ok(tar::Archive::new(decoder))
}

/// Reads and checks the index, the first of `entries`.
fn first_index<R: Read>(
    path: &Path,
    entries: &mut tar::Entries<'_, R>,
) -> Result<Index, ArchiveError> {
    let unreadable = |why: String| ArchiveError::Unreadable {
        path: path.to_path_buf(),
        why,
    };
    let index = match entries.next() {
        Some(entry) => {
            let mut entry = entry.map_err(|e| unreadable(format!("truncated or corrupt: {e}")))?;
            index_of(path, &mut entry)?
        }
        None => return Err(unreadable(format!("it has no {INDEX}"))),
    };
    check_index(path, &index)?;
    Ok(index)
}

/// Parses the index entry, refusing one that is not first or too large.
fn index_of<R: Read>(path: &Path, entry: &mut tar::Entry<R>) -> Result<Index, ArchiveError> {
    let unreadable = |why: String| ArchiveError::Unreadable {
        path: path.to_path_buf(),
        why,
    };
    let name = entry.path().map(|p| p.to_path_buf()).unwrap_or_default();
    if name != Path::new(INDEX) {
        return Err(unreadable(format!(
            "its first entry is {}, not its {INDEX}",
            name.display()
        )));
    }
    let size = entry.header().size().unwrap_or(u64::MAX);
    if size > MAX_INDEX {
        return Err(unreadable(format!(
            "its {INDEX} is {size} bytes, more than the {MAX_INDEX} gob reads"
        )));
    }
    let mut text = String::new();
    entry
        .take(MAX_INDEX)
        .read_to_string(&mut text)
        .map_err(|e| unreadable(format!("truncated or corrupt: {e}")))?;
    serde_json::from_str::<Index>(&text).map_err(|e| unreadable(format!("bad index: {e}")))
}

/// Refuses an index of a newer gob, of another machine, or with paths that leave the archive.
fn check_index(path: &Path, index: &Index) -> Result<(), ArchiveError> {
    let unreadable = |why: String| ArchiveError::Unreadable {
        path: path.to_path_buf(),
        why,
    };
    if index.format > FORMAT {
        return Err(unreadable(format!(
            "it was written by a newer gob ({}, archive format {}); this gob reads format {FORMAT}",
            index.gob, index.format
        )));
    }
    let (host_os, host_arch) = crate::go::platform::host();
    if index.goos != host_os || index.goarch != host_arch {
        return Err(ArchiveError::OtherPlatform {
            path: path.to_path_buf(),
            goos: index.goos.clone(),
            goarch: index.goarch.clone(),
            host_os,
            host_arch,
        });
    }
    for package in index.suites.iter().flat_map(|s| &s.packages) {
        if !safe(&package.binary) {
            return Err(unreadable(format!(
                "its binary {} leaves the archive",
                package.binary
            )));
        }
        if !safe(&package.dir) {
            return Err(unreadable(format!(
                "its dir {} leaves the archive",
                package.dir
            )));
        }
    }
    Ok(())
}

/// Extracts every entry into `dir` (nothing outside it) and returns the checked index.
fn extract(path: &Path, dir: &Path) -> Result<Index, ArchiveError> {
    let unreadable = |why: String| ArchiveError::Unreadable {
        path: path.to_path_buf(),
        why,
    };
    let mut tar = open(path).map_err(unreadable)?;
    tar.set_preserve_permissions(false);
    tar.set_mask(umask());
    let mut entries = tar
        .entries()
        .map_err(|e| unreadable(format!("not a tar stream: {e}")))?;
    let index = first_index(path, &mut entries)?;
    for entry in entries {
        let mut entry = entry.map_err(|e| unreadable(format!("truncated or corrupt: {e}")))?;
        let name = entry
            .path()
            .map_err(|e| unreadable(format!("an entry's name cannot be read: {e}")))?
            .to_path_buf();
        let shown = name.display().to_string();
        if !safe(&shown) {
            return Err(unreadable(format!("its entry {shown} leaves the archive")));
        }
        refuse_kind(&name, &entry).map_err(unreadable)?;
        let unpacked = entry
            .unpack_in(dir)
            .map_err(|e| unreadable(format!("its entry {shown} cannot be extracted: {e}")))?;
        if !unpacked {
            return Err(unreadable(format!("its entry {shown} leaves the archive")));
        }
    }
    Ok(index)
}

/// Refuses entries gob never writes: hard links, devices, fifos, and links that leave the
/// archive (an absolute target, or one that climbs above the archive's root).
fn refuse_kind<R: Read>(name: &Path, entry: &tar::Entry<R>) -> Result<(), String> {
    let kind = entry.header().entry_type();
    let target = || {
        entry
            .link_name()
            .ok()
            .flatten()
            .map(|t| t.to_path_buf())
            .unwrap_or_default()
    };
    match kind {
        tar::EntryType::Regular | tar::EntryType::Directory | tar::EntryType::Continuous => Ok(()),
        tar::EntryType::Symlink => {
            let target = target();
            let parent = name.parent().unwrap_or(Path::new(""));
            match link_stays_inside(parent, &target) {
                true => Ok(()),
                false => Err(format!(
                    "its entry {} is a link to {}, which leaves the archive (gob refuses such links)",
                    name.display(),
                    target.display()
                )),
            }
        }
        tar::EntryType::Link => Err(format!(
            "its entry {} is a hard link to {}; gob's archives hold none, and gob refuses them",
            name.display(),
            target().display()
        )),
        other => Err(format!(
            "its entry {} is a {other:?} entry; gob's archives hold only files, dirs and links",
            name.display()
        )),
    }
}

/// Whether a link at `parent/<name>` with `target` resolves, read as written, inside the
/// archive's root.
fn link_stays_inside(parent: &Path, target: &Path) -> bool {
    !target.as_os_str().is_empty() && crate::base::paths::join_within(parent, target).is_some()
}

/// Refuses a tree in which a link, followed through every other link, resolves outside it.
fn check_links(root: &Path) -> Result<(), String> {
    let real_root = std::fs::canonicalize(root).map_err(|e| e.to_string())?;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| e.to_string())?;
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).map_err(|e| e.to_string())?;
            if meta.is_dir() {
                stack.push(path);
            } else if meta.file_type().is_symlink() {
                let resolved = match std::fs::canonicalize(&path) {
                    Ok(real) => real,
                    // A dangling link: where it would lead, read as written.
                    Err(_) => normalize(&dir.join(std::fs::read_link(&path).unwrap_or_default())),
                };
                let inside =
                    resolved.starts_with(&real_root) || normalize(&resolved).starts_with(root);
                if !inside {
                    let rel = path.strip_prefix(root).unwrap_or(&path);
                    return Err(format!(
                        "its entry {} is a link that leads to {}, outside the archive",
                        rel.display(),
                        resolved.display()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Replaces what `dest` holds (its marker aside) with what `temp` (inside it) holds.
fn replace_contents(dest: &Path, temp: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dest)?.flatten() {
        let path = entry.path();
        if path == temp || entry.file_name() == MARKER {
            continue;
        }
        match std::fs::symlink_metadata(&path)?.is_dir() {
            true => remove_tree(&path)?,
            false => std::fs::remove_file(&path)?,
        }
    }
    for entry in std::fs::read_dir(temp)?.flatten() {
        std::fs::rename(entry.path(), dest.join(entry.file_name()))?;
    }
    Ok(())
}

/// The process's umask, which extracted files' modes respect as tar's do for a user who is
/// not root (`/proc/self/status`; 022 where it cannot be read).
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// A relative path that stays inside the dir it is joined to.
fn safe(name: &str) -> bool {
    let path = Path::new(name);
    !name.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(binary: &str) -> Index {
        let (goos, goarch) = crate::go::platform::host();
        Index {
            format: FORMAT,
            gob: "0.1.0".into(),
            go_version: "go1.26.8".into(),
            goos,
            goarch,
            suites: vec![ArchivedSuite {
                name: "integ".into(),
                integ: true,
                timeout: 600.0,
                env: BTreeMap::new(),
                args: Vec::new(),
                split: None,
                packages: vec![ArchivedPackage {
                    import_path: "m/a".into(),
                    dir: "a".into(),
                    binary: binary.into(),
                    build_id: None,
                }],
                services: Vec::new(),
            }],
            dereferenced: Vec::new(),
            cover: None,
        }
    }

    fn extraction(dir: &Path) -> PathBuf {
        let out = dir.join("out");
        claim(&out).unwrap();
        out
    }

    #[test]
    fn an_archive_round_trips_and_a_truncated_one_is_refused_whole() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("a.test");
        std::fs::write(&binary, vec![7u8; 100_000]).unwrap();
        let data = dir.path().join("input.txt");
        std::fs::write(&data, "fixture").unwrap();
        let archive = dir.path().join("t.tar.zst");
        let files = vec![
            ("bin/integ/1/a.test".into(), Source::File(binary)),
            ("src/a/testdata/input.txt".into(), Source::File(data)),
            (
                "src/a/testdata/link.txt".into(),
                Source::Link("input.txt".into()),
            ),
        ];
        pack(&archive, &index("bin/integ/1/a.test"), &files).unwrap();
        let out = extraction(dir.path());
        assert_eq!(unpack(&archive, &out).unwrap(), index("bin/integ/1/a.test"));
        assert_eq!(
            std::fs::read_to_string(out.join("src/a/testdata/link.txt")).unwrap(),
            "fixture"
        );
        let bytes = std::fs::read(&archive).unwrap();
        std::fs::write(&archive, &bytes[..bytes.len() / 2]).unwrap();
        let error = unpack(&archive, &out).unwrap_err().to_string();
        assert!(error.contains("not a test archive gob can run"), "{error}");
        let left: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !left.iter().any(|n| n.contains("tmp")),
            "no temp dir is left: {left:?}"
        );
        assert!(
            out.join("src/a/testdata/input.txt").is_file(),
            "a failed extraction keeps the previous one"
        );
    }

    #[test]
    fn an_archive_of_a_newer_gob_or_with_escaping_paths_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("a.test");
        std::fs::write(&binary, "x").unwrap();
        let archive = dir.path().join("t.tar.zst");
        let mut newer = index("bin/a.test");
        newer.format = FORMAT + 1;
        let files = [("bin/a.test".into(), Source::File(binary.clone()))];
        pack(&archive, &newer, &files).unwrap();
        let out = extraction(dir.path());
        let error = unpack(&archive, &out).unwrap_err().to_string();
        assert!(error.contains("written by a newer gob"), "{error}");
        pack(&archive, &index("../a.test"), &files).unwrap();
        assert!(unpack(&archive, &out).is_err());
        assert!(!safe("/etc/passwd") && !safe("a/../../b") && safe("src/a/testdata/x"));
    }

    #[test]
    fn links_must_stay_inside_the_archive_as_written() {
        assert!(link_stays_inside(
            Path::new("src/a/testdata"),
            Path::new("in.txt")
        ));
        assert!(link_stays_inside(
            Path::new("src/a/testdata"),
            Path::new("../../b/x")
        ));
        assert!(!link_stays_inside(Path::new("src"), Path::new("../../etc")));
        assert!(!link_stays_inside(
            Path::new("src/a"),
            Path::new("/etc/passwd")
        ));
        assert!(!link_stays_inside(Path::new(""), Path::new("..")));
    }
}
