//! The files a test binary may read besides itself: its package's `testdata/` and the
//! suite's `include` globs, by path relative to the workspace. The archive packs them and
//! remote execution puts them in each action's input root.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::base::paths::relative_to;

/// Every regular file under `dir`, by its path relative to `workspace` (`/`-separated).
pub fn files_under(dir: &Path, workspace: &Path, out: &mut BTreeMap<String, PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => files_under(&path, workspace, out),
            Ok(t) if t.is_file() => {
                out.insert(relative_to(&path, workspace).display().to_string(), path);
            }
            _ => {}
        }
    }
}

/// The files under `dir` whose path relative to `workspace` matches `globs` (gob's state,
/// `.git` and other hidden dirs are not walked).
pub fn matching(
    dir: &Path,
    workspace: &Path,
    globs: &globset::GlobSet,
    out: &mut BTreeMap<String, PathBuf>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        match entry.file_type() {
            Ok(t) if t.is_dir() && !hidden => matching(&path, workspace, globs, out),
            Ok(t) if t.is_file() => {
                let rel = relative_to(&path, workspace);
                if globs.is_match(&rel) {
                    out.insert(rel.display().to_string(), path);
                }
            }
            _ => {}
        }
    }
}

/// A package's `testdata/` files and the files of `include`, by workspace-relative path.
pub fn test_inputs(
    package_dir: &Path,
    workspace: &Path,
    include: &globset::GlobSet,
) -> BTreeMap<String, PathBuf> {
    let mut files = BTreeMap::new();
    files_under(&package_dir.join("testdata"), workspace, &mut files);
    if !include.is_empty() {
        matching(workspace, workspace, include, &mut files);
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn testdata_and_included_files_by_relative_path() {
        let ws = tempfile::tempdir().unwrap();
        let root = ws.path();
        for file in [
            "pkg/testdata/in.txt",
            "pkg/testdata/deep/x",
            "pkg/a.go",
            "conf/app.yaml",
            ".git/conf/x.yaml",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let include = globset::GlobSetBuilder::new()
            .add(globset::Glob::new("**/*.yaml").unwrap())
            .build()
            .unwrap();
        let files = test_inputs(&root.join("pkg"), root, &include);
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "conf/app.yaml",
                "pkg/testdata/deep/x",
                "pkg/testdata/in.txt"
            ]
        );
        let none = test_inputs(&root.join("conf"), root, &globset::GlobSet::empty());
        assert!(none.is_empty());
    }
}
