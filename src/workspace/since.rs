//! What `--since REF` compares, read from git, go and the files: the merge base of REF and
//! HEAD, each suite's test closures now and at the base ([`crate::workspace::snapshot`]),
//! the suite's settings in the manifest at both, and the files its `inputs` and `include`
//! globs match at both. Deciding what that selects is the plan stage's job (`plan/affected.rs`).
//!
//! The base's files are written out once per commit ([`crate::workspace::revision`]) and go
//! lists them there with the same go, environment and tags as now (`GOWORK` set to the
//! base's own `go.work`, or off); the base's snapshot is cached beside the tree, keyed by
//! everything that shapes it, so a second run lists nothing at the base. When git says
//! nothing differs from the base, nothing is listed at all.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::base::paths::relative_to;
use crate::manifest::Manifest;
use crate::workspace::git::{GitError, changed_since, merge_base, repository_root};
use crate::workspace::gotool::{GoTool, GoToolError};
use crate::workspace::revision::{WrittenTree, lock, overlay_ignored, write_tree};
use crate::workspace::snapshot::{Snapshot, Tree, build, digest_of};
use crate::workspace::suites::{ExpandedSuite, TestPackage};

/// Changes the format of cached base snapshots.
const SNAPSHOT_FORMAT: u32 = 1;

/// `--since` cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum SinceError {
    /// git could not answer.
    #[error(transparent)]
    Git(#[from] GitError),
    /// go could not list the packages now.
    #[error(transparent)]
    Go(#[from] GoToolError),
}

/// What `--since` compares, per suite.
#[derive(Debug)]
pub struct Compared {
    /// The commit compared with (the merge base of REF and HEAD).
    pub base: String,
    /// What git says differs from it (paths relative to the repository root).
    pub changed: Vec<PathBuf>,
    /// One per suite, in order; `None` when git says nothing differs.
    pub suites: Option<Vec<SuiteSides>>,
}

/// Both sides of one suite.
#[derive(Debug)]
pub struct SuiteSides {
    /// Its test closures now.
    pub now: Snapshot,
    /// At the base, or why go could not list them there.
    pub base: Result<Snapshot, String>,
    /// Its settings in the manifest that differ (`tags`, `env`, …, or the manifest itself).
    pub settings: Vec<String>,
    /// The files its `inputs` and `include` globs match now (key → digest).
    pub inputs_now: BTreeMap<String, String>,
    /// The same at the base.
    pub inputs_base: BTreeMap<String, String>,
}

/// Reads both sides of every suite (`packages` are each suite's test packages).
pub fn compare(
    go: &GoTool,
    manifest: &Manifest,
    suites: &[ExpandedSuite],
    packages: &[Vec<TestPackage>],
    since: &str,
) -> Result<Compared, SinceError> {
    let workspace = std::fs::canonicalize(&manifest.workspace_dir)
        .unwrap_or_else(|_| manifest.workspace_dir.clone());
    let root = repository_root(&workspace)?;
    let base = merge_base(&root, since)?;
    let state = relative_to(&workspace.join(crate::base::state::STATE_DIR), &root);
    let changed = changed_since(&root, &base, &state)?;
    if changed.is_empty() {
        return Ok(Compared {
            base,
            changed,
            suites: None,
        });
    }
    let is_changed = |p: &Path| changed.iter().any(|c| c == p || c.starts_with(p));
    let cache = workspace.join(crate::base::state::SINCE_DIR);
    let tree = write_tree(&root, &base, &cache, &is_changed)?;
    let _held = lock(&tree).map_err(|e| io_failure(&tree.dir, e))?;
    let GoFacts {
        go_work,
        go_mod,
        version,
    } = go_facts(go)?;
    let sides = Sides {
        root: &root,
        workspace: &workspace,
        tree: &tree,
        go_work: go_work.as_deref(),
    };
    let mut now = Vec::new();
    let mut candidates = BTreeSet::new();
    for (suite, packages) in suites.iter().zip(packages) {
        let tests: Vec<String> = packages.iter().map(|p| p.import_path.clone()).collect();
        let (snapshot, read) = sides.now(go, &suite.spec.tags, &tests)?;
        let inputs = glob_inputs(&workspace, &root, suite);
        candidates.extend(read);
        candidates.extend(inputs.keys().cloned());
        now.push((snapshot, inputs, tests));
    }
    let laid = overlay_ignored(&tree, &root, &candidates)?;
    let manifest_now = settings_table(&manifest.text);
    let manifest_base = sides.base_manifest(manifest);
    let base_ws = match relative_to(&workspace, &root) {
        rel if rel.as_os_str().is_empty() => tree.root.clone(),
        rel => tree.root.join(rel),
    };
    let mut out = Vec::new();
    for (suite, (snapshot, inputs_now, tests)) in suites.iter().zip(now) {
        let listed = match sides.base_go(go, &base_ws, go_mod.as_deref()) {
            Ok(base_go) => {
                let key = cache_key(&base_go, &version, &suite.spec.tags, &tests, &laid, &root);
                sides.base(&base_go, key, &suite.spec.tags, &tests)
            }
            Err(why) => Err(why),
        };
        let inputs_base = match base_ws.is_dir() {
            true => glob_inputs(&base_ws, &tree.root, suite),
            false => BTreeMap::new(),
        };
        out.push(SuiteSides {
            now: snapshot,
            base: listed,
            settings: settings_changes(&manifest_now, &manifest_base, &suite.spec.name),
            inputs_now: keyed(inputs_now),
            inputs_base: keyed(inputs_base),
        });
    }
    Ok(Compared {
        base,
        changed,
        suites: Some(out),
    })
}

/// One suite as a watch compares it with its last run: the closures of all its packages
/// (those without tests too, which `gob check` compiles) and the files its `inputs` and
/// `include` globs match (key → digest).
#[derive(Debug, Clone, Default)]
pub struct Current {
    /// The closures now.
    pub snapshot: Snapshot,
    /// Its globs' files now.
    pub inputs: BTreeMap<String, String>,
}

/// Reads one suite's [`Current`] side (keys relative to the repository root, else to the
/// workspace dir when it is in no repository).
pub fn current(
    go: &GoTool,
    workspace: &Path,
    suite: &ExpandedSuite,
) -> Result<Current, SinceError> {
    let workspace = std::fs::canonicalize(workspace).unwrap_or_else(|_| workspace.to_path_buf());
    let root = repository_root(&workspace).unwrap_or_else(|_| workspace.clone());
    let packages: Vec<String> = suite
        .packages
        .iter()
        .map(|p| p.import_path.clone())
        .collect();
    if packages.is_empty() {
        return Ok(Current::default());
    }
    let go_work = go_facts(go)?.go_work;
    let mut snapshot = closures(go, &root, go_work.as_deref(), &suite.spec.tags, &packages)?.0;
    // What git ignores (a test's log, a build output) is no one's save: as `--since` lays
    // ignored files over the base, they never differ.
    let keys: BTreeSet<PathBuf> = snapshot
        .packages
        .values()
        .flat_map(|p| p.files.keys())
        .filter(|k| !k.starts_with("module "))
        .map(PathBuf::from)
        .collect();
    let keys: Vec<PathBuf> = keys.into_iter().collect();
    let ignored: BTreeSet<String> = crate::workspace::git::ignored(&root, &keys)
        .unwrap_or_default()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    for package in snapshot.packages.values_mut() {
        package.files.retain(|key, _| !ignored.contains(key));
    }
    Ok(Current {
        snapshot,
        inputs: keyed(glob_inputs(&workspace, &root, suite)),
    })
}

/// The settings of suite `name` that differ between two texts of the manifest.
pub fn settings_differ(now: &str, before: &str, name: &str) -> Vec<String> {
    settings_changes(&settings_table(now), &settings_table(before), name)
}

fn io_failure(path: &Path, error: std::io::Error) -> GitError {
    GitError::Failed {
        command: "(locking the tree of the base)".into(),
        dir: path.to_path_buf(),
        stderr: error.to_string(),
    }
}

/// What `go env` says that `--since` needs, asked once.
struct GoFacts {
    /// The `go.work` go uses now, if any.
    go_work: Option<PathBuf>,
    /// The `go.mod` go uses now, if any.
    go_mod: Option<PathBuf>,
    /// The go that lists, and the environment it resolves that shapes a listing (a cache key).
    version: String,
}

fn go_facts(go: &GoTool) -> Result<GoFacts, GoToolError> {
    let names = [
        "GOWORK",
        "GOMOD",
        "GOVERSION",
        "GOROOT",
        "GOOS",
        "GOARCH",
        "CGO_ENABLED",
    ];
    let values = go.env_values(&names)?;
    let path =
        |v: &String| (!v.is_empty() && v != "off" && v != "/dev/null").then(|| PathBuf::from(v));
    Ok(GoFacts {
        go_work: path(&values[0]),
        go_mod: path(&values[1]),
        version: values[2..].join(" "),
    })
}

/// The snapshot of `tests`' closures in the work tree at `root`, with the files it read.
fn closures(
    go: &GoTool,
    root: &Path,
    go_work: Option<&Path>,
    tags: &[String],
    tests: &[String],
) -> Result<(Snapshot, BTreeSet<PathBuf>), GoToolError> {
    let names: Vec<&str> = tests.iter().map(String::as_str).collect();
    let listed = go.test_closure(&names, tags)?;
    let go_work = go_work.map(|w| std::fs::canonicalize(w).unwrap_or(w.to_path_buf()));
    let tree = Tree {
        root,
        foreign: None,
        go_work: go_work.as_deref(),
        tests,
    };
    let built = build(&listed, &tree).map_err(|e| GoToolError::Unreadable {
        command: "go list -deps -test".into(),
        detail: e.to_string(),
    })?;
    Ok((built.snapshot, built.read))
}

/// The paths and what each is compared by.
struct Sides<'a> {
    root: &'a Path,
    workspace: &'a Path,
    tree: &'a WrittenTree,
    go_work: Option<&'a Path>,
}

impl Sides<'_> {
    /// The snapshot now, with the files it read (relative to the root).
    fn now(
        &self,
        go: &GoTool,
        tags: &[String],
        tests: &[String],
    ) -> Result<(Snapshot, BTreeSet<PathBuf>), GoToolError> {
        if tests.is_empty() {
            return Ok(Default::default());
        }
        closures(go, self.root, self.go_work, tags, tests)
    }

    /// go in the base's workspace dir: `GOWORK` is the base's own `go.work` (or the one
    /// outside the repository go uses now), else off, and a base without a `go.mod` for
    /// the workspace (one not in the repository yet) cannot be listed.
    fn base_go(
        &self,
        go: &GoTool,
        base_ws: &Path,
        go_mod: Option<&Path>,
    ) -> Result<GoTool, String> {
        if !base_ws.is_dir() {
            return Err("the workspace dir did not exist at the base".into());
        }
        let root = &self.tree.root;
        let find = |name: &str| {
            base_ws
                .ancestors()
                .take_while(|d| d.starts_with(root))
                .map(|d| d.join(name))
                .find(|f| f.is_file())
        };
        let module_here = go_mod
            .is_some_and(|m| std::fs::canonicalize(m).is_ok_and(|m| m.starts_with(self.root)));
        if module_here && find("go.mod").is_none() && find("go.work").is_none() {
            return Err("no go.mod held the workspace at the base".into());
        }
        let user = std::env::var_os("GOWORK").filter(|v| !v.is_empty());
        let go_work = match user {
            Some(v) if v == "off" => "off".into(),
            Some(v) => {
                let path = PathBuf::from(v);
                let real = std::fs::canonicalize(self.workspace.join(&path)).unwrap_or(path);
                match real.strip_prefix(self.root) {
                    Ok(rel) => root.join(rel).into_os_string(),
                    Err(_) => real.into_os_string(),
                }
            }
            None => match (find("go.work"), self.go_work) {
                (Some(found), _) => found.into_os_string(),
                (None, Some(now)) if !now.starts_with(self.root) => now.as_os_str().to_owned(),
                _ => "off".into(),
            },
        };
        let mut env = go.env.clone();
        env.insert("GOWORK".into(), go_work.to_string_lossy().into_owned());
        env.insert("PWD".into(), base_ws.to_string_lossy().into_owned());
        Ok(GoTool {
            program: go.program.clone(),
            dir: base_ws.to_path_buf(),
            env,
        })
    }

    /// The base's snapshot, from the cache or listed by go (and cached).
    fn base(
        &self,
        go: &GoTool,
        key: u64,
        tags: &[String],
        tests: &[String],
    ) -> Result<Snapshot, String> {
        let cached = self.tree.dir.join(format!("snapshot-{key:016x}.json"));
        if let Some(snapshot) = std::fs::read(&cached)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Snapshot>(&bytes).ok())
        {
            return Ok(snapshot);
        }
        if tests.is_empty() {
            return Ok(Snapshot::default());
        }
        let names: Vec<&str> = tests.iter().map(String::as_str).collect();
        let listed = go.test_closure(&names, tags).map_err(|e| e.to_string())?;
        let go_work = go
            .env
            .get("GOWORK")
            .filter(|w| *w != "off")
            .map(PathBuf::from);
        let tree = Tree {
            root: &self.tree.root,
            foreign: Some(self.root),
            go_work: go_work.as_deref(),
            tests,
        };
        let snapshot = build(&listed, &tree).map_err(|e| e.to_string())?.snapshot;
        if let Ok(bytes) = serde_json::to_vec(&snapshot) {
            let _ = crate::base::paths::write_cache_file(&cached, &bytes);
        }
        Ok(snapshot)
    }

    /// The manifest's settings at the base (`Err` says why there are none).
    fn base_manifest(&self, manifest: &Manifest) -> Result<toml::Table, String> {
        let real = std::fs::canonicalize(&manifest.path).unwrap_or(manifest.path.clone());
        let rel = relative_to(&real, self.root);
        match std::fs::read_to_string(self.tree.root.join(&rel)) {
            Ok(text) => settings_table(&text),
            Err(_) => Err(format!("{} (not at the base)", rel.display())),
        }
    }
}

/// Everything that shapes the base's snapshot besides the commit: the go, its environment,
/// the tags, the test packages and the ignored files laid over the tree.
fn cache_key(
    go: &GoTool,
    version: &str,
    tags: &[String],
    tests: &[String],
    laid: &[PathBuf],
    root: &Path,
) -> u64 {
    let mut text = format!("{SNAPSHOT_FORMAT}\n{}\n{version}\n", go.program);
    for (name, value) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if (name.starts_with("GO") || name.starts_with("CGO_"))
            && !go.env.contains_key(name.as_ref())
        {
            text.push_str(&format!("{name}={}\n", value.to_string_lossy()));
        }
    }
    for (name, value) in &go.env {
        text.push_str(&format!("{name}={value}\n"));
    }
    text.push_str(&format!("tags={}\n", tags.join(",")));
    for test in tests {
        text.push_str(&format!("test={test}\n"));
    }
    for path in laid {
        text.push_str(&format!(
            "laid={}={}\n",
            path.display(),
            digest_of(&root.join(path))
        ));
    }
    crate::base::hash::fnv1a(text.as_bytes())
}

/// The files a suite's `inputs` and `include` globs match under `workspace`, by path
/// relative to `root`.
fn glob_inputs(workspace: &Path, root: &Path, suite: &ExpandedSuite) -> BTreeMap<PathBuf, PathBuf> {
    let mut found = BTreeMap::new();
    for globs in [&suite.spec.inputs, &suite.spec.include] {
        if !globs.is_empty() {
            let mut matched = crate::workspace::inputs::Found::default();
            crate::workspace::inputs::matching(workspace, workspace, globs, &mut matched);
            for path in matched.files.into_values() {
                found.insert(relative_to(&path, root), path);
            }
        }
    }
    found
}

fn keyed(files: BTreeMap<PathBuf, PathBuf>) -> BTreeMap<String, String> {
    files
        .into_iter()
        .map(|(rel, path)| (crate::base::paths::escaped(&rel), digest_of(&path)))
        .collect()
}

/// The tables of a manifest that shape test runs: `[workspace]` and `[test]`.
fn settings_table(text: &str) -> Result<toml::Table, String> {
    text.parse::<toml::Table>()
        .map_err(|e| format!("the manifest (unreadable at the base: {})", e.message()))
}

/// The settings of suite `name` that differ between the manifest now and at the base.
fn settings_changes(
    now: &Result<toml::Table, String>,
    base: &Result<toml::Table, String>,
    name: &str,
) -> Vec<String> {
    let (now, base) = match (now, base) {
        (Ok(now), Ok(base)) => (now, base),
        (_, Err(why)) | (Err(why), _) => return vec![why.clone()],
    };
    let suite = |t: &toml::Table| {
        t.get("test")
            .and_then(|t| t.get(name))
            .cloned()
            .unwrap_or(toml::Value::Table(Default::default()))
    };
    let workspace = |t: &toml::Table| t.get("workspace").cloned();
    let mut changed = Vec::new();
    if workspace(now) != workspace(base) {
        changed.push("[workspace]".to_string());
    }
    let (now, base) = (suite(now), suite(base));
    let empty = toml::Table::new();
    let now = now.as_table().unwrap_or(&empty);
    let base = base.as_table().unwrap_or(&empty);
    let keys: BTreeSet<&String> = now.keys().chain(base.keys()).collect();
    for key in keys {
        if now.get(key) != base.get(key) {
            changed.push(key.clone());
        }
    }
    if base.is_empty() && !now.is_empty() {
        return vec![format!("[test.{name}] (not at the base)")];
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_differ_are_named_per_suite() {
        let now = settings_table(
            "[test.integ]\ntags = [\"integ\"]\ninteg = true\n[test.unit]\npackages = [\"./...\"]\n",
        );
        let base = settings_table(
            "[test.integ]\ntags = [\"e2e\"]\ninteg = true\n[test.unit]\npackages = [\"./...\"]\n",
        );
        assert_eq!(settings_changes(&now, &base, "integ"), ["tags"]);
        assert!(settings_changes(&now, &base, "unit").is_empty());
        let without = settings_table("[test.unit]\npackages = [\"./...\"]\n");
        assert_eq!(
            settings_changes(&now, &without, "integ"),
            ["[test.integ] (not at the base)"]
        );
        let moved =
            settings_table("[workspace]\ndir = \"x\"\n[test.unit]\npackages = [\"./...\"]\n");
        assert_eq!(settings_changes(&moved, &without, "unit"), ["[workspace]"]);
        let broken: Result<toml::Table, String> = Err("the manifest (not at the base)".into());
        assert_eq!(
            settings_changes(&now, &broken, "unit"),
            ["the manifest (not at the base)"]
        );
    }
}
