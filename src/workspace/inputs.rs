//! The files a test binary may read besides itself: its package's `testdata/` and the
//! suite's `include` globs, by the path the test uses. Links are followed (a test reading
//! `testdata/link.txt` reads what it points to; a linked dir is walked, once per path, never
//! in a loop), and links to files are remembered with their targets, so an archive can keep
//! a link whose target it holds. The archive packs them and remote execution puts them in
//! each action's input root.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a test may read below some dirs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Path as the test reads it (relative, below a prefix) → a path that reads it.
    pub files: BTreeMap<PathBuf, PathBuf>,
    /// Those of `files` that are links to a file → the link's target as written.
    pub file_links: BTreeMap<PathBuf, PathBuf>,
}

/// Every file under `dir`, keyed by `prefix` joined to its path relative to `base`.
pub fn files_under(dir: &Path, base: &Path, prefix: &Path, found: &mut Found) {
    let mut seen = Vec::new();
    walk(dir, base, prefix, &mut seen, found, &|_| true, true);
}

/// The files under `dir` whose path relative to `workspace` matches `globs`, keyed by that
/// path (gob's state, `.git` and other hidden dirs are not walked, nor linked dirs).
pub fn matching(dir: &Path, workspace: &Path, globs: &globset::GlobSet, found: &mut Found) {
    let mut seen = Vec::new();
    let matches = |rel: &Path| globs.is_match(rel);
    walk(
        dir,
        workspace,
        Path::new(""),
        &mut seen,
        found,
        &matches,
        false,
    );
}

fn walk(
    dir: &Path,
    base: &Path,
    prefix: &Path,
    seen: &mut Vec<PathBuf>,
    found: &mut Found,
    wanted: &dyn Fn(&Path) -> bool,
    follow_dirs: bool,
) {
    let Ok(real) = std::fs::canonicalize(dir) else {
        return;
    };
    if seen.contains(&real) {
        return;
    }
    seen.push(real);
    let Ok(entries) = std::fs::read_dir(dir) else {
        seen.pop();
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let link = entry.file_type().is_ok_and(|t| t.is_symlink());
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() && (follow_dirs || !link && !hidden) => {
                walk(&path, base, prefix, seen, found, wanted, follow_dirs);
            }
            Ok(meta) if meta.is_file() => {
                let rel = path.strip_prefix(base).unwrap_or(&path);
                if !wanted(rel) {
                    continue;
                }
                let key = prefix.join(rel);
                if link && let Ok(target) = std::fs::read_link(&path) {
                    found.file_links.insert(key.clone(), target);
                }
                found.files.insert(key, path);
            }
            // A dangling link or a special file: nothing a test can read.
            _ => {}
        }
    }
    seen.pop();
}

/// A package's `testdata/` files and the files of `include`, by workspace-relative path,
/// links followed.
pub fn test_inputs(
    package_dir: &Path,
    workspace: &Path,
    include: &globset::GlobSet,
) -> BTreeMap<String, PathBuf> {
    let mut found = Found::default();
    files_under(
        &package_dir.join("testdata"),
        workspace,
        Path::new(""),
        &mut found,
    );
    if !include.is_empty() {
        matching(workspace, workspace, include, &mut found);
    }
    // Input roots name files in UTF-8.
    found
        .files
        .into_iter()
        .map(|(rel, path)| (rel.display().to_string(), path))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn testdata_and_included_files_by_relative_path_links_followed() {
        let ws = tempfile::tempdir().unwrap();
        let root = ws.path();
        for file in [
            "pkg/testdata/in.txt",
            "pkg/testdata/deep/x",
            "pkg/a.go",
            "conf/app.yaml",
            ".git/conf/x.yaml",
            "shared/golden.txt",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let link =
            |target: &str, at: &str| std::os::unix::fs::symlink(target, root.join(at)).unwrap();
        link("in.txt", "pkg/testdata/near.txt");
        link("../../shared/golden.txt", "pkg/testdata/far.txt");
        link("../../shared", "pkg/testdata/shared");
        link("..", "pkg/testdata/deep/loop");
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
                "pkg/testdata/far.txt",
                "pkg/testdata/in.txt",
                "pkg/testdata/near.txt",
                "pkg/testdata/shared/golden.txt",
            ]
        );
        let mut found = Found::default();
        files_under(
            &root.join("pkg/testdata"),
            &root.join("pkg"),
            Path::new("_outside/1/pkg"),
            &mut found,
        );
        assert_eq!(
            found.file_links[Path::new("_outside/1/pkg/testdata/near.txt")],
            Path::new("in.txt")
        );
        assert!(
            found
                .files
                .contains_key(Path::new("_outside/1/pkg/testdata/far.txt"))
        );
        let none = test_inputs(&root.join("conf"), root, &globset::GlobSet::empty());
        assert!(none.is_empty());
    }
}
