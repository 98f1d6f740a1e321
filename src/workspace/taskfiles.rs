//! The files a task's `sources` and `outputs` globs match, and a digest of their contents
//! (go-task's checksum method): a task with both is up to date while both digests equal those
//! recorded after its last success. Each glob is walked from its literal prefix (`api/**/*.go`
//! walks `api/`), hidden dirs and gob's state left out, links not followed.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use crate::manifest::Globs;

/// What `globs` match under `workspace`: the files (relative, sorted) and a digest of their
/// paths and contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// Relative paths.
    pub files: Vec<PathBuf>,
    /// SHA-256 over each path and its content's SHA-256.
    pub digest: String,
}

/// Reads what `globs` match under `workspace`.
pub fn matched(workspace: &Path, globs: &Globs) -> Matched {
    let mut files = BTreeSet::new();
    let mut roots: Vec<PathBuf> = globs.patterns.iter().map(|p| literal_prefix(p)).collect();
    roots.sort();
    roots.dedup();
    // A root below another is walked with it.
    let roots: Vec<&PathBuf> = roots
        .iter()
        .filter(|r| !roots.iter().any(|o| o != *r && r.starts_with(o)))
        .collect();
    for root in roots {
        walk(workspace, &workspace.join(root), globs, &mut files);
    }
    let mut text = String::new();
    for file in &files {
        let content = std::fs::read(workspace.join(file)).unwrap_or_default();
        text.push_str(&format!(
            "{} {}\n",
            crate::base::paths::escaped(file),
            crate::base::hash::sha256_hex(&content)
        ));
    }
    Matched {
        files: files.into_iter().collect(),
        digest: crate::base::hash::sha256_hex(text.as_bytes()),
    }
}

/// The leading components of `pattern` that hold no glob syntax (`api/v1/**/*.go` →
/// `api/v1`); the whole path for a pattern without any, up to its last dir.
fn literal_prefix(pattern: &str) -> PathBuf {
    let path = Path::new(pattern);
    let parts: Vec<Component> = path.components().collect();
    let mut prefix = PathBuf::new();
    for (i, part) in parts.iter().enumerate() {
        let text = part.as_os_str().to_string_lossy();
        let last = i + 1 == parts.len();
        if last || text.contains(['*', '?', '[', '{']) || !matches!(part, Component::Normal(_)) {
            break;
        }
        prefix.push(part);
    }
    prefix
}

fn walk(workspace: &Path, dir: &Path, globs: &Globs, files: &mut BTreeSet<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let rel = path.strip_prefix(workspace).unwrap_or(&path);
        if kind.is_dir() {
            if !entry.file_name().to_string_lossy().starts_with('.') {
                walk(workspace, &path, globs, files);
            }
        } else if globs.set.is_match(rel) {
            files.insert(rel.to_path_buf());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(patterns: &[&str]) -> Globs {
        let mut builder = globset::GlobSetBuilder::new();
        for p in patterns {
            builder.add(globset::Glob::new(p).unwrap());
        }
        Globs {
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            set: builder.build().unwrap(),
        }
    }

    #[test]
    fn globs_are_walked_from_their_literal_prefix_and_digested_by_content() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for (file, text) in [
            ("api/v1/a.proto", "a"),
            ("api/v1/deep/b.proto", "b"),
            ("api/v1/a.go", "package v1"),
            ("other/c.proto", "c"),
            (".git/x.proto", "x"),
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let protos = globs(&["api/**/*.proto"]);
        let first = matched(root, &protos);
        assert_eq!(
            first.files,
            [
                PathBuf::from("api/v1/a.proto"),
                PathBuf::from("api/v1/deep/b.proto")
            ]
        );
        assert_eq!(
            matched(root, &protos),
            first,
            "the same files, the same digest"
        );
        std::fs::write(root.join("api/v1/a.proto"), "changed").unwrap();
        assert_ne!(matched(root, &protos).digest, first.digest);
        assert_eq!(
            matched(root, &globs(&["**/*.proto"])).files.len(),
            3,
            "no hidden dirs"
        );
        assert_eq!(literal_prefix("api/v1/**/*.go"), PathBuf::from("api/v1"));
        assert_eq!(literal_prefix("go.mod"), PathBuf::new());
        assert_eq!(literal_prefix("gen/*.go"), PathBuf::from("gen"));
    }
}
