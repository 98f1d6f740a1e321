//! Finding `gobuild.toml`: `--manifest PATH` wins; otherwise walk up from the start dir.

use std::path::{Path, PathBuf};

use super::FILE_NAME;

/// No manifest where one was looked for.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    /// `--manifest PATH` names a file that does not exist.
    #[error("manifest {0} does not exist")]
    Missing(PathBuf),
    /// No `gobuild.toml` in the start dir or any parent.
    #[error("no {FILE_NAME} in {0} or any parent directory (create one, or pass --manifest PATH)")]
    NotFound(PathBuf),
}

/// The manifest to use: `explicit` if given (must exist), else the nearest `gobuild.toml`
/// at or above `start`.
pub fn locate(explicit: Option<&Path>, start: &Path) -> Result<PathBuf, LocateError> {
    if let Some(path) = explicit {
        let path = start.join(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(LocateError::Missing(path))
        };
    }
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| LocateError::NotFound(start.to_path_buf()))
}

/// A manifest that refuses to be overwritten.
#[derive(Debug, thiserror::Error)]
#[error("{} already exists; gob init never overwrites a manifest", path.display())]
pub struct ManifestExists {
    /// The existing file.
    pub path: std::path::PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_up_to_the_nearest_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "").unwrap();
        assert_eq!(locate(None, &nested).unwrap(), dir.path().join(FILE_NAME));
    }

    #[test]
    fn explicit_path_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let err = locate(Some(Path::new("nope.toml")), dir.path()).unwrap_err();
        assert!(matches!(err, LocateError::Missing(_)), "{err}");
    }
}
