//! Test archives (`gob test --archive`, `--from-archive`): compiled test binaries with what
//! they read at run time, so a CI matrix compiles once and every shard machine runs the
//! binaries without go or the source tree. A tar stream compressed with zstd:
//!
//! - `index.json`: the [`Index`] (suites, packages, their dirs, env, args, timeouts, the Go
//!   version and each binary's build ID);
//! - `bin/<suite>/<n>/<name>.test`: the binaries;
//! - `src/<package dir>/...`: each package's `testdata/` and the files of the suites'
//!   `include` globs, at their paths relative to the workspace.
//!
//! Written to a temp file and renamed; read whole into a temp dir, checked, then renamed into
//! place, so a truncated or corrupt archive fails before anything runs and leaves nothing.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::base::paths::RemovedOnDrop;

/// The index format this gob writes and reads.
pub const FORMAT: u32 = 1;
/// The index's name in the archive.
const INDEX: &str = "index.json";

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
    /// Its packages, in the order they run.
    pub packages: Vec<ArchivedPackage>,
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
}

/// Writes an archive at `path`: `index`, then each `(path in archive, file)` of `files`.
pub fn pack(path: &Path, index: &Index, files: &[(String, PathBuf)]) -> Result<(), ArchiveError> {
    let write = |temp: &Path| -> std::io::Result<()> {
        let file = std::fs::File::create(temp)?;
        let encoder = zstd::Encoder::new(file, 3)?;
        let mut tar = tar::Builder::new(encoder);
        tar.follow_symlinks(false);
        let json = serde_json::to_vec_pretty(index).map_err(std::io::Error::other)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        tar.append_data(&mut header, INDEX, json.as_slice())?;
        for (name, source) in files {
            tar.append_path_with_name(source, name)?;
        }
        tar.into_inner()?.finish()?.sync_all()
    };
    crate::base::paths::replace_atomically(path, write).map_err(|source| ArchiveError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads the archive at `path` into `dest` (replacing what is there) and returns its index.
pub fn unpack(path: &Path, dest: &Path) -> Result<Index, ArchiveError> {
    let unreadable = |why: String| ArchiveError::Unreadable {
        path: path.to_path_buf(),
        why,
    };
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .map_err(|e| unreadable(format!("{}: {e}", parent.display())))?;
    let temp = RemovedOnDrop(parent.join(format!(".gob-archive-{}.tmp", std::process::id())));
    let _ = std::fs::remove_dir_all(&temp.0);
    std::fs::create_dir(&temp.0)
        .map_err(|e| unreadable(format!("cannot extract into {}: {e}", parent.display())))?;
    let index = extract(path, &temp.0).map_err(unreadable)?;
    if index.format > FORMAT {
        return Err(unreadable(format!(
            "it was written by a newer gob ({}, archive format {}); this gob reads format {FORMAT}",
            index.gob, index.format
        )));
    }
    for package in index.suites.iter().flat_map(|s| &s.packages) {
        if !safe(&package.binary) || !temp.0.join(&package.binary).is_file() {
            return Err(unreadable(format!(
                "its binary {} is missing",
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
    let _ = std::fs::remove_dir_all(dest);
    std::fs::rename(&temp.0, dest)
        .map_err(|e| unreadable(format!("cannot move it to {}: {e}", dest.display())))?;
    Ok(index)
}

/// Extracts every entry into `dir` (nothing outside it) and parses the index.
fn extract(path: &Path, dir: &Path) -> Result<Index, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let decoder = zstd::Decoder::new(file).map_err(|e| format!("not zstd: {e}"))?;
    let mut tar = tar::Archive::new(decoder);
    let entries = tar
        .entries()
        .map_err(|e| format!("not a tar stream: {e}"))?;
    let mut index = None;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("truncated or corrupt: {e}"))?;
        let name = entry
            .path()
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .into_owned();
        if !safe(&name) {
            return Err(format!("its entry {name} leaves the archive"));
        }
        if name == INDEX {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text)
                .map_err(|e| format!("truncated or corrupt: {e}"))?;
            index =
                Some(serde_json::from_str::<Index>(&text).map_err(|e| format!("bad index: {e}"))?);
            continue;
        }
        let unpacked = entry
            .unpack_in(dir)
            .map_err(|e| format!("truncated or corrupt: {e}"))?;
        if !unpacked {
            return Err(format!("its entry {name} leaves the archive"));
        }
    }
    index.ok_or_else(|| format!("it has no {INDEX}"))
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
        Index {
            format: FORMAT,
            gob: "0.1.0".into(),
            go_version: "go1.26.8".into(),
            goos: "linux".into(),
            goarch: "amd64".into(),
            suites: vec![ArchivedSuite {
                name: "integ".into(),
                integ: true,
                timeout: 600.0,
                env: BTreeMap::new(),
                args: Vec::new(),
                packages: vec![ArchivedPackage {
                    import_path: "m/a".into(),
                    dir: "a".into(),
                    binary: binary.into(),
                    build_id: None,
                }],
            }],
        }
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
            ("bin/integ/1/a.test".to_string(), binary),
            ("src/a/testdata/input.txt".to_string(), data),
        ];
        pack(&archive, &index("bin/integ/1/a.test"), &files).unwrap();
        let out = dir.path().join("out");
        assert_eq!(unpack(&archive, &out).unwrap(), index("bin/integ/1/a.test"));
        assert_eq!(
            std::fs::read_to_string(out.join("src/a/testdata/input.txt")).unwrap(),
            "fixture"
        );
        let bytes = std::fs::read(&archive).unwrap();
        std::fs::write(&archive, &bytes[..bytes.len() / 2]).unwrap();
        let fresh = dir.path().join("fresh");
        let error = unpack(&archive, &fresh).unwrap_err().to_string();
        assert!(error.contains("not a test archive gob can run"), "{error}");
        assert!(!fresh.exists(), "nothing is left of a failed extraction");
    }

    #[test]
    fn an_archive_of_a_newer_gob_or_with_escaping_paths_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("a.test");
        std::fs::write(&binary, "x").unwrap();
        let archive = dir.path().join("t.tar.zst");
        let mut newer = index("bin/a.test");
        newer.format = FORMAT + 1;
        pack(&archive, &newer, &[("bin/a.test".into(), binary.clone())]).unwrap();
        let error = unpack(&archive, &dir.path().join("o"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("written by a newer gob"), "{error}");
        let escaping = index("../a.test");
        pack(&archive, &escaping, &[("bin/a.test".into(), binary)]).unwrap();
        assert!(unpack(&archive, &dir.path().join("o")).is_err());
        assert!(!safe("/etc/passwd") && !safe("a/../../b") && safe("src/a/testdata/x"));
    }
}
