//! Finding `gobuild.toml`: `--manifest PATH` wins; otherwise walk up from the start dir.

use std::path::{Path, PathBuf};

use super::FILE_NAME;

/// No manifest where one was looked for.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    /// `--manifest PATH` names a file that does not exist.
    #[error("manifest {0} does not exist")]
    Missing(PathBuf),
    /// No `gobuild.toml` in the start dir or any parent; what to do next, by whether a
    /// Go module (its dir) is in reach.
    #[error("no {FILE_NAME} in {} or any parent directory; {}", .0.display(), first_step(.1.as_deref()))]
    NotFound(PathBuf, Option<PathBuf>),
}

/// What someone without a manifest does next: `gob init` in the Go module in reach, else
/// find one.
fn first_step(module: Option<&Path>) -> String {
    match module {
        Some(dir) => format!(
            "{} is a Go module: run `gob init` there to write one for it (or pass --manifest PATH)",
            dir.display()
        ),
        None => "gob works in a Go module (a dir with go.mod): run `gob init` in one to write a manifest for it, or pass --manifest PATH".to_string(),
    }
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
        .ok_or_else(|| {
            let module = start.ancestors().find(|dir| dir.join("go.mod").is_file());
            LocateError::NotFound(start.to_path_buf(), module.map(Path::to_path_buf))
        })
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
    fn without_a_manifest_the_error_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("pkg/inner");
        std::fs::create_dir_all(&nested).unwrap();
        let none = locate(None, &nested).unwrap_err().to_string();
        assert!(
            none.contains("gob works in a Go module (a dir with go.mod)"),
            "{none}"
        );
        std::fs::write(dir.path().join("go.mod"), "module m\n").unwrap();
        let module = locate(None, &nested).unwrap_err().to_string();
        let expected = format!(
            "{} is a Go module: run `gob init` there",
            dir.path().display()
        );
        assert!(module.contains(&expected), "{module}");
    }

    #[test]
    fn explicit_path_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let err = locate(Some(Path::new("nope.toml")), dir.path()).unwrap_err();
        assert!(matches!(err, LocateError::Missing(_)), "{err}");
    }
}
