//! What a tree holds for some test packages, as go sees it: every package of their test
//! closures (`go list -e -deps -test` with a suite's tags) with a digest of each file it is
//! built from, so that `--since` compares the merge base with the work tree by content.
//!
//! A package's inputs are its files as go lists them (Go, cgo, C, headers, assembly, `.syso`,
//! embedded files as its patterns match them), the `go.mod` and `go.sum` of its module when
//! that lives in the repository, and for a module from the module cache its version. A test
//! main (`p.test`) also holds what the test reads at run time that go does not list: the
//! files in its package dir that are not sources, its `testdata/` tree (links followed), and
//! `go.work`/`go.work.sum`. Paths are keyed relative to the tree's root, canonicalized, so a
//! tree reached through a symlink or written elsewhere compares alike.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::base::paths::escaped;
use crate::go::packages::is_source_file;

/// The fields gob asks `go list -deps -test` for.
pub const FIELDS: &str = "ImportPath,Dir,Imports,GoFiles,CgoFiles,CFiles,CXXFiles,MFiles,HFiles,FFiles,SFiles,SwigFiles,SwigCXXFiles,SysoFiles,EmbedFiles,TestGoFiles,XTestGoFiles,TestEmbedFiles,XTestEmbedFiles,Standard,Module,Error,DepsErrors";

/// A package of a test closure as `go list -e -deps -test -json=…` reports it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClosurePackage {
    /// Import path, with the variant suffix (`p [q.test]`), or `q.test` for a test main.
    pub import_path: String,
    /// Source dir.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Direct imports (variant names as listed).
    #[serde(default)]
    pub imports: Vec<String>,
    #[serde(default)]
    go_files: Vec<String>,
    #[serde(default)]
    cgo_files: Vec<String>,
    #[serde(default, rename = "CFiles")]
    c_files: Vec<String>,
    #[serde(default, rename = "CXXFiles")]
    cxx_files: Vec<String>,
    #[serde(default, rename = "MFiles")]
    m_files: Vec<String>,
    #[serde(default, rename = "HFiles")]
    h_files: Vec<String>,
    #[serde(default, rename = "FFiles")]
    f_files: Vec<String>,
    #[serde(default, rename = "SFiles")]
    s_files: Vec<String>,
    #[serde(default)]
    swig_files: Vec<String>,
    #[serde(default, rename = "SwigCXXFiles")]
    swig_cxx_files: Vec<String>,
    #[serde(default)]
    syso_files: Vec<String>,
    #[serde(default)]
    embed_files: Vec<String>,
    #[serde(default)]
    test_go_files: Vec<String>,
    #[serde(default)]
    x_test_go_files: Vec<String>,
    #[serde(default)]
    test_embed_files: Vec<String>,
    #[serde(default)]
    x_test_embed_files: Vec<String>,
    /// In the standard library.
    #[serde(default)]
    pub standard: bool,
    /// Its module.
    #[serde(default)]
    pub module: Option<ModuleInfo>,
    #[serde(default)]
    error: Option<Problem>,
    #[serde(default)]
    deps_errors: Vec<Problem>,
}

/// A module as go list reports it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModuleInfo {
    /// Module path.
    #[serde(default)]
    pub path: String,
    /// Version (empty for main and workspace modules).
    #[serde(default)]
    pub version: String,
    /// Its go.mod.
    #[serde(default)]
    pub go_mod: Option<PathBuf>,
    /// What replaces it.
    #[serde(default)]
    pub replace: Option<Box<ModuleInfo>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Problem {
    #[serde(default)]
    err: String,
}

impl ClosurePackage {
    /// Every file name go builds the package from (relative to its dir), its test files
    /// included.
    fn files(&self) -> impl Iterator<Item = &String> {
        self.built_files().chain(
            [
                &self.test_go_files,
                &self.x_test_go_files,
                &self.test_embed_files,
                &self.x_test_embed_files,
            ]
            .into_iter()
            .flatten(),
        )
    }

    /// The files that make the package as its importers get it: a plain package's test files
    /// go only into its own test binary (whose test main holds them), while a test variant
    /// (`p [p.test]`) lists them among its Go files.
    fn built_files(&self) -> impl Iterator<Item = &String> {
        [
            &self.go_files,
            &self.cgo_files,
            &self.c_files,
            &self.cxx_files,
            &self.m_files,
            &self.h_files,
            &self.f_files,
            &self.s_files,
            &self.swig_files,
            &self.swig_cxx_files,
            &self.syso_files,
            &self.embed_files,
        ]
        .into_iter()
        .flatten()
    }

    /// What go reported as wrong with it or its dependencies.
    fn problem(&self) -> Option<String> {
        self.error
            .iter()
            .chain(&self.deps_errors)
            .map(|p| p.err.trim().to_string())
            .find(|e| !e.is_empty())
    }
}

/// Parses the concatenated JSON objects of `go list -json`.
pub fn parse(bytes: &[u8]) -> Result<Vec<ClosurePackage>, serde_json::Error> {
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<ClosurePackage>()
        .collect()
}

/// The test closures of a tree: package (as listed) → its inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Every package of the closures outside the standard library.
    pub packages: BTreeMap<String, Inputs>,
}

/// One package's inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// Its imports outside the standard library.
    pub imports: Vec<String>,
    /// Input key (a path relative to the tree's root, or `module PATH`) → digest.
    pub files: BTreeMap<String, String>,
    /// What go said is wrong with it, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A listing taken in a tree that lies under another repository's root: the tree's
/// packages resolved to the other tree's files (a module missing at the compared commit).
#[derive(Debug, thiserror::Error)]
#[error("go resolved {package} to {}, outside the tree at the compared commit", dir.display())]
pub struct EscapedTree {
    /// The package.
    pub package: String,
    /// Where go found it.
    pub dir: PathBuf,
}

/// Where a listing was taken.
pub struct Tree<'a> {
    /// The repository root of this tree (a real path): keys are relative to it.
    pub root: &'a Path,
    /// A dir no package of this tree may resolve to (the work tree holding a written one).
    pub foreign: Option<&'a Path>,
    /// The `go.work` in use, if any.
    pub go_work: Option<&'a Path>,
    /// The test packages the listing was for.
    pub tests: &'a [String],
}

/// A snapshot and the files under the tree's root it read.
pub struct Built {
    /// The snapshot.
    pub snapshot: Snapshot,
    /// The files read, relative to the root.
    pub read: std::collections::BTreeSet<PathBuf>,
}

/// Builds the snapshot of `listed` (a `go list -e -deps -test` of `tree.tests`).
pub fn build(listed: &[ClosurePackage], tree: &Tree) -> Result<Built, EscapedTree> {
    let mut digests = Digests::new(tree.root);
    let mut dirs: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut real = |dir: &Path| -> PathBuf {
        dirs.entry(dir.to_path_buf())
            .or_insert_with(|| std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()))
            .clone()
    };
    let own: BTreeMap<String, &ClosurePackage> = listed
        .iter()
        .filter(|p| !p.import_path.contains(' '))
        .map(|p| (p.import_path.clone(), p))
        .collect();
    let outside_std: std::collections::HashSet<&str> = listed
        .iter()
        .filter(|p| !p.standard)
        .map(|p| p.import_path.as_str())
        .collect();
    let mut packages = BTreeMap::new();
    for package in listed.iter().filter(|p| !p.standard) {
        let dir = package.dir.as_deref().map(&mut real);
        if let (Some(dir), Some(foreign)) = (&dir, tree.foreign)
            && dir.starts_with(foreign)
            && !dir.starts_with(tree.root)
        {
            return Err(EscapedTree {
                package: package.import_path.clone(),
                dir: dir.clone(),
            });
        }
        let mut files = BTreeMap::new();
        let test_of = package
            .import_path
            .strip_suffix(".test")
            .filter(|p| tree.tests.iter().any(|t| t == p));
        match (&dir, cached_module(package, dir.as_deref(), tree.root)) {
            (_, Some((key, version))) => {
                files.insert(key, version);
            }
            (Some(dir), None) => {
                // A test main's Go file is generated in go's cache: its tests' names come
                // from the test files, which its package variants hold.
                if test_of.is_none() {
                    let variant = package.import_path.contains(' ');
                    let names: Vec<&String> = match variant {
                        true => package.files().collect(),
                        false => package.built_files().collect(),
                    };
                    for name in names {
                        digests.add(&dir.join(name), &mut files);
                    }
                }
                module_files(package, &mut real, &mut digests, &mut files);
            }
            (None, None) => {}
        }
        if let (Some(dir), Some(tested)) = (&dir, test_of) {
            run_inputs(dir, &mut digests, &mut files);
            if let Some(plain) = own.get(tested) {
                for name in plain.files() {
                    digests.add(&dir.join(name), &mut files);
                }
            }
            for work in tree
                .go_work
                .iter()
                .flat_map(|w| [w.to_path_buf(), sum_of(w)])
            {
                digests.add(&real(&work), &mut files);
            }
        }
        let imports = package
            .imports
            .iter()
            .filter(|i| outside_std.contains(i.as_str()))
            .cloned()
            .collect();
        packages.insert(
            package.import_path.clone(),
            Inputs {
                imports,
                files,
                error: package.problem(),
            },
        );
    }
    Ok(Built {
        snapshot: Snapshot { packages },
        read: digests.read,
    })
}

/// `go.work.sum` beside a `go.work`, `go.sum` beside a `go.mod`.
fn sum_of(file: &Path) -> PathBuf {
    let mut sum = file.as_os_str().to_owned();
    match file.extension().is_some_and(|e| e == "work") {
        true => sum.push(".sum"),
        false => return file.with_file_name("go.sum"),
    }
    PathBuf::from(sum)
}

/// For a package of a module from the module cache: the key and version that stand for its
/// files (the cache is read-only and keyed by version).
fn cached_module(
    package: &ClosurePackage,
    dir: Option<&Path>,
    root: &Path,
) -> Option<(String, String)> {
    let module = package.module.as_ref()?;
    let version = match &module.replace {
        Some(replace) if !replace.version.is_empty() => {
            format!("{} => {}@{}", module.version, replace.path, replace.version)
        }
        Some(_) => return None,
        None if !module.version.is_empty() => module.version.clone(),
        None => return None,
    };
    let inside = dir.is_some_and(|d| d.starts_with(root));
    (!inside).then(|| (format!("module {}", module.path), version))
}

/// The go.mod and go.sum of the package's module (its replacement's, when replaced by a dir).
fn module_files(
    package: &ClosurePackage,
    real: &mut impl FnMut(&Path) -> PathBuf,
    digests: &mut Digests,
    files: &mut BTreeMap<String, String>,
) {
    let Some(module) = &package.module else {
        return;
    };
    let go_mod = module
        .replace
        .as_ref()
        .and_then(|r| r.go_mod.clone())
        .or_else(|| module.go_mod.clone());
    if let Some(go_mod) = go_mod {
        let go_mod = real(&go_mod);
        digests.add(&sum_of(&go_mod), files);
        digests.add(&go_mod, files);
    }
}

/// What a test reads at run time that go does not list: the files in its package dir that
/// are not sources (go lists the sources it uses), and its `testdata/` tree (links followed).
fn run_inputs(dir: &Path, digests: &mut Digests, files: &mut BTreeMap<String, String>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let is_dir = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
            if !is_dir && !is_source_file(&name.to_string_lossy()) {
                digests.add(&entry.path(), files);
            }
        }
    }
    let mut found = crate::workspace::inputs::Found::default();
    crate::workspace::inputs::files_under(&dir.join("testdata"), dir, Path::new(""), &mut found);
    for path in found.files.values() {
        digests.add(path, files);
    }
}

/// Digests of files, each read once, keyed relative to the tree's root.
struct Digests<'a> {
    root: &'a Path,
    done: HashMap<PathBuf, (String, String)>,
    read: std::collections::BTreeSet<PathBuf>,
}

impl<'a> Digests<'a> {
    fn new(root: &'a Path) -> Self {
        Digests {
            root,
            done: HashMap::new(),
            read: Default::default(),
        }
    }

    /// Adds `path` (keyed as the tree sees it; a link's own path, not its target's) to
    /// `files`.
    fn add(&mut self, path: &Path, files: &mut BTreeMap<String, String>) {
        let root = self.root;
        let read = &mut self.read;
        let (key, digest) = self
            .done
            .entry(path.to_path_buf())
            .or_insert_with(|| {
                if let Ok(rel) = path.strip_prefix(root) {
                    read.insert(rel.to_path_buf());
                }
                let key = escaped(path.strip_prefix(root).unwrap_or(path));
                (key, digest_of(path))
            })
            .clone();
        files.insert(key, digest);
    }
}

/// A file's digest: SHA-256 of its content (through links), a link's target besides, or
/// what stands in for a file that is missing or cannot be read.
pub fn digest_of(path: &Path) -> String {
    let link = std::fs::read_link(path)
        .map(|t| format!(" -> {}", escaped(&t)))
        .unwrap_or_default();
    match std::fs::read(path) {
        Ok(bytes) => format!("{}{link}", crate::base::hash::sha256_hex(&bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => format!("absent{link}"),
        Err(e) => format!("unreadable ({}){link}", e.kind()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn listing(root: &Path) -> Vec<ClosurePackage> {
        let json = format!(
            r#"{{"ImportPath":"m/lib","Dir":"{r}/lib","GoFiles":["lib.go"],"EmbedFiles":["data/x.txt"],"Module":{{"Path":"m","GoMod":"{r}/go.mod"}}}}
            {{"ImportPath":"fmt","Dir":"/goroot/src/fmt","GoFiles":["print.go"],"Standard":true}}
            {{"ImportPath":"ext.com/dep","Dir":"/modcache/ext.com/dep@v1.2.0","GoFiles":["dep.go"],"Module":{{"Path":"ext.com/dep","Version":"v1.2.0"}}}}
            {{"ImportPath":"m/t [m/t.test]","Dir":"{r}/t","GoFiles":["t_test.go"],"Imports":["m/lib","fmt","ext.com/dep"],"Module":{{"Path":"m","GoMod":"{r}/go.mod"}}}}
            {{"ImportPath":"m/t.test","Dir":"{r}/t","GoFiles":["/cache/xx-d"],"Imports":["m/t [m/t.test]"],"Module":{{"Path":"m","GoMod":"{r}/go.mod"}}}}
            {{"ImportPath":"m/t","Dir":"{r}/t","TestGoFiles":["t_test.go"],"Module":{{"Path":"m","GoMod":"{r}/go.mod"}}}}"#,
            r = root.display()
        );
        parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn a_closure_holds_sources_embeds_module_files_and_run_inputs() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        write(&root, "go.mod", "module m\n");
        write(&root, "lib/lib.go", "package lib\n");
        write(&root, "lib/data/x.txt", "x");
        write(&root, "t/t_test.go", "package t\n");
        write(&root, "t/golden.json", "{}");
        write(&root, "t/excluded_linux_test.go", "//go:build never\n");
        write(&root, "t/testdata/deep/in.txt", "in");
        let tests = ["m/t".to_string()];
        let tree = Tree {
            root: &root,
            foreign: None,
            go_work: None,
            tests: &tests,
        };
        let snapshot = build(&listing(&root), &tree).unwrap().snapshot;
        assert!(
            !snapshot.packages.contains_key("fmt"),
            "the standard library"
        );
        let lib = &snapshot.packages["m/lib"];
        let keys: Vec<&str> = lib.files.keys().map(String::as_str).collect();
        assert_eq!(keys, ["go.mod", "go.sum", "lib/data/x.txt", "lib/lib.go"]);
        assert_eq!(lib.files["go.sum"], "absent");
        assert_eq!(
            snapshot.packages["ext.com/dep"].files["module ext.com/dep"],
            "v1.2.0"
        );
        let main = &snapshot.packages["m/t.test"];
        let keys: Vec<&str> = main.files.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "go.mod",
                "go.sum",
                "t/golden.json",
                "t/t_test.go",
                "t/testdata/deep/in.txt"
            ],
            "not the cached test main, not a source file go left out"
        );
        assert_eq!(
            snapshot.packages["m/t [m/t.test]"].imports,
            ["m/lib", "ext.com/dep"]
        );
    }

    #[test]
    fn a_listing_that_resolves_into_the_work_tree_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let work = std::fs::canonicalize(tmp.path()).unwrap();
        let written = work.join(".gob/since/abc/tree");
        std::fs::create_dir_all(&written).unwrap();
        let tests = ["m/t".to_string()];
        let tree = Tree {
            root: &written,
            foreign: Some(&work),
            go_work: None,
            tests: &tests,
        };
        let error = build(&listing(&work), &tree).err().unwrap();
        assert!(error.to_string().contains("outside the tree"), "{error}");
    }
}
