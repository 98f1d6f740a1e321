//! Which test packages a change can affect (`--since REF`). A test package is selected when a
//! file in its dir changed (its `testdata/` included); when a package of its test dependency
//! closure (`go list -deps -test`, its `_test.go` imports included) has a changed source file
//! or a changed file its `//go:embed` patterns match; when go.mod, go.sum or go.work changed
//! (every package: the build list may have changed); or when a file the suite's `inputs`
//! globs match changed (the whole suite). Pure: the changed files and the closure come in.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

use globset::GlobSet;

use crate::go::packages::{base_import_path, is_source_file};
use crate::workspace::gotool::DepPackage;
use crate::workspace::suites::TestPackage;

/// Why a test package is selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// go.mod, go.sum or go.work changed.
    ModuleFile(PathBuf),
    /// A file the suite's `inputs` match changed.
    Input(PathBuf),
    /// A file in the package's own dir (or its testdata) changed.
    OwnDir(PathBuf),
    /// A file of a package it imports, directly or not, changed: the import chain from the
    /// test package to that package.
    Import {
        /// The changed file.
        file: PathBuf,
        /// Import paths from the test package to the one holding the file.
        chain: Vec<String>,
    },
}

/// The test packages of a suite a change selects, and those it leaves out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Selected packages (import path) with why, in the suite's order.
    pub selected: Vec<(String, Reason)>,
    /// Packages no changed file can affect.
    pub not_affected: Vec<String>,
}

/// Selects the `packages` of a suite that the `changed` files (absolute) can affect.
pub fn select(
    packages: &[TestPackage],
    deps: &[DepPackage],
    changed: &[PathBuf],
    workspace_dir: &Path,
    inputs: &GlobSet,
) -> Selection {
    let whole_suite = changed
        .iter()
        .find(|f| is_module_file(f, workspace_dir))
        .map(|f| Reason::ModuleFile(f.clone()))
        .or_else(|| {
            changed
                .iter()
                .find(|f| {
                    f.strip_prefix(workspace_dir)
                        .is_ok_and(|rel| inputs.is_match(rel))
                })
                .map(|f| Reason::Input(f.clone()))
        });
    let by_name: BTreeMap<&str, &DepPackage> =
        deps.iter().map(|d| (d.import_path.as_str(), d)).collect();
    let mut selection = Selection::default();
    for package in packages {
        let reason = whole_suite
            .clone()
            .or_else(|| own_dir(&package.dir, changed))
            .or_else(|| through_imports(&package.import_path, &by_name, changed));
        match reason {
            Some(reason) => selection
                .selected
                .push((package.import_path.clone(), reason)),
            None => selection.not_affected.push(package.import_path.clone()),
        }
    }
    selection
}

/// go.mod, go.sum or go.work in the workspace dir or above it.
fn is_module_file(file: &Path, workspace_dir: &Path) -> bool {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    matches!(name, "go.mod" | "go.sum" | "go.work")
        && file
            .parent()
            .is_some_and(|dir| workspace_dir.starts_with(dir))
}

/// A changed file directly in `dir` or anywhere under `dir/testdata`.
fn own_dir(dir: &Path, changed: &[PathBuf]) -> Option<Reason> {
    let testdata = dir.join("testdata");
    changed
        .iter()
        .find(|f| f.parent() == Some(dir) || f.starts_with(&testdata))
        .map(|f| Reason::OwnDir(f.clone()))
}

/// The nearest package of the test closure of `package` with a changed file, found breadth
/// first from the test main, so the chain is a shortest one.
fn through_imports(
    package: &str,
    by_name: &BTreeMap<&str, &DepPackage>,
    changed: &[PathBuf],
) -> Option<Reason> {
    let root = format!("{package}.test");
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue: VecDeque<&str> =
        VecDeque::from([by_name.get(root.as_str())?.import_path.as_str()]);
    while let Some(name) = queue.pop_front() {
        let dep = by_name.get(name)?;
        if let Some(file) = changed_file_of(dep, changed) {
            return Some(Reason::Import {
                file,
                chain: chain(name, &parent),
            });
        }
        for import in &dep.imports {
            if let Some((key, _)) = by_name.get_key_value(import.as_str())
                && !parent.contains_key(key)
                && *key != root
            {
                parent.insert(key, name);
                queue.push_back(key);
            }
        }
    }
    None
}

/// A changed file that is part of `dep`: a source file in its dir, or an embedded file.
fn changed_file_of(dep: &DepPackage, changed: &[PathBuf]) -> Option<PathBuf> {
    let dir = dep.dir.as_deref().filter(|_| !dep.standard)?;
    let embedded = dep
        .embed_files
        .iter()
        .chain(&dep.test_embed_files)
        .chain(&dep.x_test_embed_files)
        .map(|e| dir.join(e));
    let embedded: Vec<PathBuf> = embedded.collect();
    changed
        .iter()
        .find(|f| {
            let source = f.parent() == Some(dir)
                && f.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(is_source_file);
            source || embedded.contains(f)
        })
        .cloned()
}

/// Import paths from the test package to `last`, variants named by their package once.
fn chain(last: &str, parent: &BTreeMap<&str, &str>) -> Vec<String> {
    let mut names = vec![last];
    while let Some(up) = parent.get(names[names.len() - 1]) {
        names.push(up);
    }
    let mut chain: Vec<String> = Vec::new();
    for name in names.iter().rev() {
        let base = base_import_path(name);
        if !base.ends_with(".test") && chain.last().map(String::as_str) != Some(base) {
            chain.push(base.to_string());
        }
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str, dir: &str, imports: &[&str]) -> DepPackage {
        DepPackage {
            import_path: name.into(),
            dir: Some(PathBuf::from(dir)),
            imports: imports.iter().map(|i| i.to_string()).collect(),
            ..DepPackage::default()
        }
    }

    /// t imports mid, mid imports leaf (with an embedded file); u imports nothing of ours.
    fn closure() -> Vec<DepPackage> {
        let mut leaf = dep("m/leaf", "/ws/leaf", &["fmt"]);
        leaf.embed_files = vec!["data/x.txt".into()];
        vec![
            leaf,
            dep("m/mid", "/ws/mid", &["m/leaf"]),
            dep("m/t [m/t.test]", "/ws/t", &["m/mid", "testing"]),
            dep("m/t.test", "/ws/t", &["m/t [m/t.test]", "testing"]),
            dep("m/u [m/u.test]", "/ws/u", &["testing"]),
            dep("m/u.test", "/ws/u", &["m/u [m/u.test]"]),
            DepPackage {
                standard: true,
                ..dep("fmt", "/goroot/src/fmt", &[])
            },
        ]
    }

    fn packages() -> Vec<TestPackage> {
        ["t", "u"]
            .iter()
            .map(|p| TestPackage {
                import_path: format!("m/{p}"),
                dir: PathBuf::from(format!("/ws/{p}")),
            })
            .collect()
    }

    fn pick(changed: &[&str], inputs: &GlobSet) -> Selection {
        let changed: Vec<PathBuf> = changed.iter().map(PathBuf::from).collect();
        select(&packages(), &closure(), &changed, Path::new("/ws"), inputs)
    }

    fn none() -> GlobSet {
        GlobSet::empty()
    }

    #[test]
    fn a_changed_leaf_selects_the_tests_whose_closure_holds_it_with_the_chain() {
        let s = pick(&["/ws/leaf/leaf.go"], &none());
        assert_eq!(s.not_affected, ["m/u"]);
        assert_eq!(
            s.selected,
            [(
                "m/t".to_string(),
                Reason::Import {
                    file: "/ws/leaf/leaf.go".into(),
                    chain: vec!["m/t".into(), "m/mid".into(), "m/leaf".into()],
                }
            )]
        );
        let embedded = pick(&["/ws/leaf/data/x.txt"], &none());
        assert_eq!(embedded.selected.len(), 1, "an embedded file counts");
        assert_eq!(pick(&["/ws/leaf/README.md"], &none()).selected, []);
    }

    #[test]
    fn testdata_and_module_files_and_inputs() {
        let s = pick(&["/ws/u/testdata/deep/new.txt"], &none());
        assert_eq!(s.selected[0].0, "m/u");
        assert_eq!(s.not_affected, ["m/t"]);
        let all = pick(&["/ws/go.mod"], &none());
        assert_eq!(all.selected.len(), 2);
        assert!(
            pick(&["/ws/other/go.mod"], &none()).selected.is_empty(),
            "another module"
        );
        let mut inputs = globset::GlobSetBuilder::new();
        inputs.add(globset::Glob::new("config/*.yaml").unwrap());
        let inputs = inputs.build().unwrap();
        assert_eq!(pick(&["/ws/config/app.yaml"], &inputs).selected.len(), 2);
        assert!(pick(&[], &inputs).selected.is_empty());
    }
}
