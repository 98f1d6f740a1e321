//! A module's test files as `gob init` needs them: which `_test.go` files exist (walked the
//! way `./...` walks, see [`crate::go::packages`]), the test tags their `//go:build` lines
//! need, and what that says about integration tests: tags and dir trees named like them
//! (`integ`, `integration`, `e2e`, `system`, `acceptance`, as words of a name) against other
//! tags (feature tags of unit tests).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::go::packages;

/// Build constraints that are platforms or toolchains, not a team's own test tags.
const NOT_TEST_TAGS: &[&str] = &[
    "ignore",
    "cgo",
    "gc",
    "gccgo",
    "unix",
    "linux",
    "darwin",
    "windows",
    "freebsd",
    "openbsd",
    "netbsd",
    "dragonfly",
    "solaris",
    "illumos",
    "aix",
    "plan9",
    "js",
    "wasip1",
    "android",
    "ios",
    "amd64",
    "arm64",
    "386",
    "arm",
    "wasm",
    "riscv64",
    "ppc64",
    "ppc64le",
    "s390x",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "loong64",
    "race",
    "purego",
    "tools",
];

/// The `//go:build` expression of a file, if it has one.
fn read_build_line(file: &Path) -> Option<String> {
    packages::build_constraint(&std::fs::read_to_string(file).ok()?)
}

/// The tags a build expression names that are not platforms (`integ && !race` → integ).
fn test_tags(expression: &str) -> Vec<String> {
    expression
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .filter(|w| !w.is_empty() && !w.starts_with("go1") && !NOT_TEST_TAGS.contains(w))
        .map(str::to_string)
        .collect()
}

/// Tag and dir names a Go developer gives integration tests (compared word by word:
/// `integ.v2`, `e2e_slow` and `system-test` count, `no_btrfs` and `synctest` do not).
const INTEG_WORDS: &[&str] = &[
    "integ",
    "integration",
    "integrationtest",
    "integrationtests",
    "e2e",
    "endtoend",
    "system",
    "systemtest",
    "systemtests",
    "acceptance",
];

/// True for a tag or dir name that says "integration tests".
fn names_integration(name: &str) -> bool {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| INTEG_WORDS.contains(&word))
}

/// A `_test.go` file found in the module: its dir (as `./a/b`) and the test tags it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct TestFile {
    /// The dir, as `./a/b`.
    pub dir: String,
    /// The test tags it needs.
    pub tags: Vec<String>,
}

/// Calls `visit(dir, name, path)` for each Go file under `dir`, in name order. Skips what
/// `./...` skips: hidden and `_` dirs, testdata, vendor, nested modules, and symlinks (go does
/// not follow them, and a link such as `a/b -> ..` would loop).
fn walk_go_files(dir: &Path, visit: &mut dyn FnMut(&Path, &str, &Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !packages::skips_dir(&name) && !packages::is_nested_module(&path) {
                walk_go_files(&path, visit);
            }
        } else if kind.is_file() && name.ends_with(".go") {
            visit(dir, &name, &path);
        }
    }
}

/// Collects the `_test.go` files under `dir` (relative to `root`), as `./...` walks.
pub fn find_test_files(root: &Path, dir: &Path, files: &mut Vec<TestFile>) {
    walk_go_files(dir, &mut |dir, name, path| {
        if name.ends_with("_test.go") {
            let expression = read_build_line(path).unwrap_or_default();
            files.push(TestFile {
                dir: dot_relative(dir, root),
                tags: test_tags(&expression),
            });
        }
    });
}

/// The `//go:generate` directives of a module's Go files (as `./...` walks), by package dir
/// (`./api`), in file order.
pub fn find_generate_directives(
    root: &Path,
    dir: &Path,
    found: &mut BTreeMap<String, Vec<String>>,
) {
    walk_go_files(dir, &mut |dir, _, path| {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let directives: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("//go:generate "))
            .map(|d| d.trim().to_string())
            .collect();
        if !directives.is_empty() {
            found
                .entry(dot_relative(dir, root))
                .or_default()
                .extend(directives);
        }
    });
}

/// The rules of a Makefile: each target with its recipe lines (tab-indented), in order;
/// special targets (`.PHONY`), pattern rules and variable assignments left out.
pub fn makefile_targets(text: &str) -> Vec<(String, Vec<String>)> {
    let mut targets: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_rule = false;
    for line in text.lines() {
        if let Some(recipe) = line.strip_prefix('\t') {
            if in_rule && let Some((_, recipe_lines)) = targets.last_mut() {
                recipe_lines.push(recipe.trim().to_string());
            }
            continue;
        }
        in_rule = false;
        let Some((names, _)) = line.split_once(':') else {
            continue;
        };
        if line.starts_with('#')
            || line.contains(":=")
            || line.contains("::=")
            || names.contains('=')
        {
            continue;
        }
        for name in names.split_whitespace() {
            if name.starts_with('.') || name.contains('%') || name.contains('$') {
                continue;
            }
            targets.push((name.to_string(), Vec::new()));
            in_rule = true;
        }
    }
    targets
}

/// What the test files say about the suites to write.
#[derive(Debug, Default, PartialEq)]
pub struct TestLayout {
    /// Integration tags (by name) with the dirs of the files that need them.
    pub integ_tags: BTreeMap<String, BTreeSet<String>>,
    /// Untagged integration test trees: `./integration`, `./test/e2e`, …
    pub integ_dirs: BTreeSet<String>,
    /// Other tags test files need (feature tags of unit tests), left as comments.
    pub other_tags: BTreeMap<String, BTreeSet<String>>,
}

impl TestLayout {
    /// The layout the test files of a module show.
    pub fn of(files: &[TestFile]) -> TestLayout {
        let mut layout = TestLayout::default();
        for file in files {
            let (integ, other): (Vec<&String>, Vec<&String>) =
                file.tags.iter().partition(|t| names_integration(t));
            for tag in &integ {
                let dirs = layout.integ_tags.entry(tag.to_string()).or_default();
                dirs.insert(file.dir.clone());
            }
            if !integ.is_empty() {
                continue;
            }
            for tag in other {
                let dirs = layout.other_tags.entry(tag.clone()).or_default();
                dirs.insert(file.dir.clone());
            }
            if let Some(tree) = integration_tree(&file.dir) {
                layout.integ_dirs.insert(tree);
            }
        }
        // A tree below another one is covered by it.
        let trees: Vec<String> = layout.integ_dirs.iter().cloned().collect();
        layout
            .integ_dirs
            .retain(|d| !trees.iter().any(|t| d.starts_with(&format!("{t}/"))));
        layout
    }
}

/// The first dir of `dir` (`./a/integration/x` → `./a/integration`) named like an
/// integration test tree.
fn integration_tree(dir: &str) -> Option<String> {
    let parts: Vec<&str> = dir.split('/').collect();
    let at = parts.iter().skip(1).position(|p| names_integration(p))? + 1;
    Some(parts[..=at].join("/"))
}

/// `dir` relative to `root` as a go package pattern: `.` or `./a/b`.
pub fn dot_relative(dir: &Path, root: &Path) -> String {
    let rel = crate::base::paths::relative_to(dir, root);
    if rel.as_os_str().is_empty() || rel == Path::new(".") {
        ".".to_string()
    } else {
        format!("./{}", rel.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makefile_rules_are_read_with_their_recipes() {
        let make = ".PHONY: all gen\nVERSION := $(shell git describe)\nall: build test\n\ngen:\n\tgo generate ./...\n\tgofmt -w api\nbuild: gen\n\tgo build -ldflags \"-X main.v=$(VERSION)\" ./cmd/...\n%.pb.go: %.proto\n\tprotoc $<\n# a comment: not a rule\n";
        let targets = makefile_targets(make);
        let names: Vec<&str> = targets.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["all", "gen", "build"]);
        assert_eq!(targets[1].1, ["go generate ./...", "gofmt -w api"]);
        assert!(targets[0].1.is_empty());
    }

    #[test]
    fn generate_directives_are_found_per_package_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for (file, text) in [
            (
                "api/api.go",
                "package api\n\n//go:generate stringer -type=Kind\n",
            ),
            ("api/more.go", "package api\n//go:generate go run gen.go\n"),
            ("lib/lib.go", "package lib\n"),
            ("api/testdata/x.go", "//go:generate never\n"),
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let mut found = BTreeMap::new();
        find_generate_directives(root, root, &mut found);
        assert_eq!(
            found,
            BTreeMap::from([(
                "./api".to_string(),
                vec![
                    "stringer -type=Kind".to_string(),
                    "go run gen.go".to_string()
                ]
            )])
        );
    }

    fn file(dir: &str, tags: &[&str]) -> TestFile {
        TestFile {
            dir: dir.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn test_tags_leave_platforms_out() {
        assert_eq!(test_tags("integ && !race"), ["integ"]);
        assert_eq!(
            test_tags("(e2e || integration) && linux"),
            ["e2e", "integration"]
        );
        assert!(test_tags("go1.21 && amd64").is_empty());
    }

    #[test]
    fn init_does_not_follow_symlinked_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::write(a.join("x_test.go"), "//go:build integ\n\npackage a\n").unwrap();
        std::os::unix::fs::symlink("..", a.join("b")).unwrap();
        let mut files = Vec::new();
        find_test_files(dir.path(), dir.path(), &mut files);
        assert_eq!(files, [file("./a", &["integ"])]);
    }

    #[test]
    fn integration_named_tags_and_trees_are_told_from_feature_tags() {
        let layout = TestLayout::of(&[
            file("./fs", &["no_btrfs"]),
            file("./integration", &[]),
            file("./integration/db", &[]),
            file("./test/e2e/web", &[]),
            file("./client", &["integ.v2"]),
        ]);
        assert_eq!(
            layout.integ_dirs,
            BTreeSet::from(["./integration".to_string(), "./test/e2e".to_string()])
        );
        assert_eq!(layout.integ_tags.keys().collect::<Vec<_>>(), ["integ.v2"]);
        assert_eq!(layout.other_tags.keys().collect::<Vec<_>>(), ["no_btrfs"]);
    }
}
