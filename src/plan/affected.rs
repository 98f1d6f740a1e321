//! Which test packages a change can affect (`--since REF`), decided by what go sees at both
//! revisions: a test package is left out only when every input of its test binary and its
//! run ([`crate::workspace::snapshot`]: every file of its test closure as go lists it at
//! each revision, module files, its dir's other files and `testdata/`, `go.work`) is the same
//! at the merge base and now, its suite's settings and `inputs` are the same, and go loads
//! it without a problem at both. Pure: both snapshots come in.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use crate::go::packages::base_import_path;
use crate::workspace::snapshot::{Inputs, Snapshot};
use crate::workspace::suites::TestPackage;

/// How an input differs between the base and now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum How {
    /// Different content (or, for a module, version).
    Changed,
    /// There now, not at the base.
    Added,
    /// At the base, not now.
    Deleted,
}

/// One input that differs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Difference {
    /// The input: a path relative to the repository root, or `module PATH`.
    pub input: String,
    /// How it differs.
    pub how: How,
    /// For a module: its versions at the base and now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<(String, String)>,
}

/// Why a test package is selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The suite's settings in the manifest differ (the keys that do).
    Settings(Vec<String>),
    /// A file the suite's `inputs` or `include` globs match differs.
    Input(Difference),
    /// go could not list the packages at the base (why): nothing can be compared.
    BaseUnlisted(String),
    /// go reports a problem with the package or its dependencies now.
    Problem(String),
    /// At the base the package had no tests (`None`), or go could not load it.
    NotAtBase(Option<String>),
    /// A watch was asked to run it (every package, or the last set again).
    Asked(String),
    /// An input of its test closure differs.
    Differs {
        /// The first difference, nearest the test package.
        first: Difference,
        /// Import paths from the test package to the package holding it.
        chain: Vec<String>,
        /// Every difference in its closures, sorted.
        all: Vec<Difference>,
    },
}

/// The test packages of a suite a change selects, and those it leaves out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Selected packages (import path) with why, in the suite's order.
    pub selected: Vec<(String, Reason)>,
    /// Packages whose inputs are all the same at the base.
    pub not_affected: Vec<String>,
}

/// What `--since` compares for one suite.
#[derive(Debug, Clone)]
pub struct Sides<'a> {
    /// The suite's closures now.
    pub now: &'a Snapshot,
    /// At the base, or why go could not list them there.
    pub base: Result<&'a Snapshot, &'a str>,
    /// The suite's settings that differ.
    pub settings: &'a [String],
    /// The files of its `inputs` and `include` globs now (key → digest).
    pub inputs_now: &'a BTreeMap<String, String>,
    /// The same at the base.
    pub inputs_base: &'a BTreeMap<String, String>,
}

/// Leaves every package of a suite out: git says nothing differs from the base.
pub fn unchanged(packages: &[TestPackage]) -> Selection {
    Selection {
        selected: Vec::new(),
        not_affected: packages.iter().map(|p| p.import_path.clone()).collect(),
    }
}

/// Selects the `packages` of a suite whose inputs differ between the two sides.
pub fn select(packages: &[TestPackage], sides: &Sides) -> Selection {
    let inputs = differences_in(sides.inputs_now, sides.inputs_base);
    let whole_suite = match (&sides.base, sides.settings, inputs.as_slice()) {
        (_, [_, ..], _) => Some(Reason::Settings(sides.settings.to_vec())),
        (_, _, [first, ..]) => Some(Reason::Input(first.clone())),
        (Err(why), _, _) => Some(Reason::BaseUnlisted(why.to_string())),
        _ => None,
    };
    let mut selection = Selection::default();
    let mut same = HashMap::new();
    for package in packages {
        let reason = match (&whole_suite, &sides.base) {
            (Some(reason), _) => Some(reason.clone()),
            (None, Ok(base)) => {
                let main = format!("{}.test", package.import_path);
                compare(&package.import_path, &main, sides.now, base, &mut same)
            }
            (None, Err(_)) => unreachable!("a base that was not listed selects the suite"),
        };
        match reason {
            Some(reason) => selection
                .selected
                .push((package.import_path.clone(), reason)),
            None => selection.not_affected.push(package.import_path.clone()),
        }
    }
    selection
}

/// Selects, among a suite's `packages` (import paths, with tests or not), those whose inputs
/// differ between the two sides, by the rules of [`select`]: a package with tests by its
/// test binary's closure, one without by its own (what `gob check` compiles of it).
pub fn select_packages(packages: &[String], sides: &Sides) -> Selection {
    let tests: Vec<TestPackage> = packages
        .iter()
        .filter(|p| has_tests(p, sides))
        .map(|p| TestPackage {
            import_path: p.clone(),
            dir: Default::default(),
        })
        .collect();
    let tested = select(&tests, sides);
    let mut selection = Selection::default();
    let mut same = HashMap::new();
    for package in packages {
        let reason = match tested.selected.iter().find(|(p, _)| p == package) {
            Some((_, reason)) => Some(reason.clone()),
            None if tested.not_affected.contains(package) => None,
            None => match &sides.base {
                Ok(base) => compare(package, package, sides.now, base, &mut same),
                Err(why) => Some(Reason::BaseUnlisted(why.to_string())),
            },
        };
        match reason {
            Some(reason) => selection.selected.push((package.clone(), reason)),
            None => selection.not_affected.push(package.clone()),
        }
    }
    selection
}

/// Whether either side lists a test binary for `package`.
fn has_tests(package: &str, sides: &Sides) -> bool {
    let main = format!("{package}.test");
    sides.now.packages.contains_key(&main)
        || sides
            .base
            .is_ok_and(|base| base.packages.contains_key(&main))
}

/// Why `package` must run, if it must: the first difference found breadth first from its
/// test main now (so the chain is a shortest one), then what only the base's closure held.
fn compare<'s>(
    package: &str,
    main: &str,
    now: &'s Snapshot,
    base: &'s Snapshot,
    same: &mut HashMap<&'s str, bool>,
) -> Option<Reason> {
    if !now.packages.contains_key(main) {
        return Some(Reason::Problem("go lists no test binary for it".into()));
    }
    let now_closure = Closure::of(main, now);
    if let Some(problem) = now_closure.problem(now) {
        return Some(Reason::Problem(problem));
    }
    if !base.packages.contains_key(main) {
        let error = base.packages.get(package).and_then(|p| p.error.clone());
        return Some(Reason::NotAtBase(error));
    }
    let base_closure = Closure::of(main, base);
    let changed = now_closure.order.iter().copied().find(|name| {
        !*same
            .entry(name)
            .or_insert_with(|| Some(&now.packages[*name]) == base.packages.get(*name))
    });
    let gone = base_closure
        .order
        .iter()
        .copied()
        .find(|name| !now_closure.parent.contains_key(name));
    let (closure, name) = match (changed, gone) {
        (Some(name), _) => (&now_closure, name),
        (None, Some(name)) => (&base_closure, name),
        (None, None) => {
            return base_closure
                .problem(base)
                .map(|problem| Reason::NotAtBase(Some(problem)));
        }
    };
    let all = differences(&now_closure, &base_closure, now, base);
    let first = differences_of(now.packages.get(name), base.packages.get(name))
        .into_iter()
        .next()
        .or_else(|| all.first().cloned())
        .unwrap_or_else(|| Difference {
            input: format!("package {}", base_import_path(name)),
            how: How::Changed,
            versions: None,
        });
    Some(Reason::Differs {
        first,
        chain: chain(name, &closure.parent),
        all,
    })
}

/// The packages reachable from a test main, breadth first.
struct Closure<'s> {
    /// In breadth-first order.
    order: Vec<&'s str>,
    /// Each package with the one it was first reached from.
    parent: HashMap<&'s str, Option<&'s str>>,
}

impl<'s> Closure<'s> {
    fn of(root: &str, snapshot: &'s Snapshot) -> Closure<'s> {
        let mut closure = Closure {
            order: Vec::new(),
            parent: HashMap::new(),
        };
        let Some((key, _)) = snapshot.packages.get_key_value(root) else {
            return closure;
        };
        closure.parent.insert(key.as_str(), None);
        let mut queue = VecDeque::from([key.as_str()]);
        while let Some(name) = queue.pop_front() {
            closure.order.push(name);
            for import in &snapshot.packages[name].imports {
                if let Some((key, _)) = snapshot.packages.get_key_value(import)
                    && !closure.parent.contains_key(key.as_str())
                {
                    closure.parent.insert(key.as_str(), Some(name));
                    queue.push_back(key.as_str());
                }
            }
        }
        closure
    }

    /// The first problem go reported for a package of the closure.
    fn problem(&self, snapshot: &Snapshot) -> Option<String> {
        self.order
            .iter()
            .find_map(|name| snapshot.packages[*name].error.clone())
    }
}

/// The differences between two packages' inputs (either may be missing).
fn differences_of(now: Option<&Inputs>, base: Option<&Inputs>) -> Vec<Difference> {
    let empty = BTreeMap::new();
    differences_in(
        now.map_or(&empty, |p| &p.files),
        base.map_or(&empty, |p| &p.files),
    )
}

/// The differences between two maps of inputs (key → digest), sorted by key.
fn differences_in(
    now: &BTreeMap<String, String>,
    base: &BTreeMap<String, String>,
) -> Vec<Difference> {
    let mut out = Vec::new();
    for (input, digest) in now {
        match base.get(input) {
            Some(old) if old == digest => {}
            Some(old) => out.push(difference(input, How::Changed, old, digest)),
            None => out.push(difference(input, How::Added, "", digest)),
        }
    }
    for (input, old) in base {
        if !now.contains_key(input) {
            out.push(difference(input, How::Deleted, old, ""));
        }
    }
    out.sort();
    out
}

fn difference(input: &str, how: How, old: &str, new: &str) -> Difference {
    Difference {
        input: input.to_string(),
        how,
        versions: input
            .starts_with("module ")
            .then(|| (old.to_string(), new.to_string())),
    }
}

/// Every difference between the packages of both closures, each input once.
fn differences(
    now_closure: &Closure,
    base_closure: &Closure,
    now: &Snapshot,
    base: &Snapshot,
) -> Vec<Difference> {
    let names: BTreeSet<&str> = now_closure
        .order
        .iter()
        .chain(&base_closure.order)
        .copied()
        .collect();
    let mut all: BTreeMap<String, Difference> = BTreeMap::new();
    for name in names {
        for d in differences_of(now.packages.get(name), base.packages.get(name)) {
            all.entry(d.input.clone()).or_insert(d);
        }
    }
    all.into_values().collect()
}

/// Import paths from the test package to `last`, variants named by their package once.
fn chain(last: &str, parent: &HashMap<&str, Option<&str>>) -> Vec<String> {
    let mut names = vec![last];
    while let Some(Some(up)) = parent.get(names[names.len() - 1]) {
        names.push(up);
    }
    let mut chain: Vec<String> = Vec::new();
    for name in names.iter().rev() {
        let base = base_import_path(name);
        let base = base.strip_suffix(".test").unwrap_or(base);
        let base = base.strip_suffix("_test").unwrap_or(base);
        if chain.last().map(String::as_str) != Some(base) {
            chain.push(base.to_string());
        }
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn inputs(imports: &[&str], files: &[(&str, &str)]) -> Inputs {
        Inputs {
            imports: imports.iter().map(|i| i.to_string()).collect(),
            files: files
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            error: None,
        }
    }

    /// t's tests import mid, which imports leaf (and a module from the cache); u's import
    /// nothing of the repository.
    fn snapshot(leaf: &str, dep_version: &str) -> Snapshot {
        let mut packages = BTreeMap::new();
        packages.insert(
            "m/leaf".into(),
            inputs(&["ext.com/dep"], &[("leaf/leaf.go", leaf)]),
        );
        packages.insert(
            "ext.com/dep".into(),
            inputs(&[], &[("module ext.com/dep", dep_version)]),
        );
        packages.insert("m/mid".into(), inputs(&["m/leaf"], &[("mid/mid.go", "1")]));
        packages.insert(
            "m/t [m/t.test]".into(),
            inputs(&["m/mid"], &[("t/t_test.go", "1")]),
        );
        packages.insert(
            "m/t.test".into(),
            inputs(&["m/t [m/t.test]"], &[("t/testdata/in.txt", "1")]),
        );
        packages.insert(
            "m/u [m/u.test]".into(),
            inputs(&[], &[("u/u_test.go", "1")]),
        );
        packages.insert("m/u.test".into(), inputs(&["m/u [m/u.test]"], &[]));
        Snapshot { packages }
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

    fn pick(now: &Snapshot, base: &Snapshot) -> Selection {
        let empty = BTreeMap::new();
        let sides = Sides {
            now,
            base: Ok(base),
            settings: &[],
            inputs_now: &empty,
            inputs_base: &empty,
        };
        select(&packages(), &sides)
    }

    #[test]
    fn a_changed_leaf_selects_the_tests_whose_closure_holds_it_with_the_chain() {
        let s = pick(&snapshot("2", "v1"), &snapshot("1", "v1"));
        assert_eq!(s.not_affected, ["m/u"]);
        let Reason::Differs { first, chain, all } = &s.selected[0].1 else {
            panic!("{s:?}");
        };
        assert_eq!(first.input, "leaf/leaf.go");
        assert_eq!(first.how, How::Changed);
        assert_eq!(chain, &["m/t", "m/mid", "m/leaf"]);
        assert_eq!(all.len(), 1);
        assert!(
            pick(&snapshot("1", "v1"), &snapshot("1", "v1"))
                .selected
                .is_empty()
        );
    }

    #[test]
    fn a_watch_selects_packages_without_tests_by_their_own_closure() {
        let (now, base) = (snapshot("2", "v1"), snapshot("1", "v1"));
        let empty = BTreeMap::new();
        let sides = Sides {
            now: &now,
            base: Ok(&base),
            settings: &[],
            inputs_now: &empty,
            inputs_base: &empty,
        };
        let all: Vec<String> = ["m/leaf", "m/mid", "m/t", "m/u"].map(String::from).to_vec();
        let s = select_packages(&all, &sides);
        let selected: Vec<&str> = s.selected.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(selected, ["m/leaf", "m/mid", "m/t"]);
        assert_eq!(s.not_affected, ["m/u"]);
        let Reason::Differs { chain, .. } = &s.selected[1].1 else {
            panic!("{s:?}");
        };
        assert_eq!(chain, &["m/mid", "m/leaf"]);
        let same = snapshot("1", "v1");
        let sides = Sides {
            now: &same,
            ..sides
        };
        assert!(select_packages(&all, &sides).selected.is_empty());
    }

    #[test]
    fn a_module_version_and_a_deleted_file_are_differences() {
        let s = pick(&snapshot("1", "v2"), &snapshot("1", "v1"));
        let Reason::Differs { first, .. } = &s.selected[0].1 else {
            panic!("{s:?}");
        };
        assert_eq!(first.versions, Some(("v1".into(), "v2".into())));
        let mut fewer = snapshot("1", "v1");
        fewer.packages.get_mut("m/t.test").unwrap().files.clear();
        let s = pick(&fewer, &snapshot("1", "v1"));
        let Reason::Differs { first, chain, .. } = &s.selected[0].1 else {
            panic!("{s:?}");
        };
        assert_eq!(
            (first.input.as_str(), first.how),
            ("t/testdata/in.txt", How::Deleted)
        );
        assert_eq!(chain, &["m/t"]);
    }

    #[test]
    fn new_packages_problems_settings_inputs_and_an_unlisted_base_select() {
        let base = snapshot("1", "v1");
        let mut without_u = base.clone();
        without_u.packages.remove("m/u.test");
        let s = pick(&base, &without_u);
        assert_eq!(s.selected, [("m/u".to_string(), Reason::NotAtBase(None))]);
        let mut broken = base.clone();
        broken.packages.get_mut("m/mid").unwrap().error = Some("no Go files".into());
        assert!(matches!(
            pick(&broken, &base).selected[0].1,
            Reason::Problem(_)
        ));
        let empty = BTreeMap::new();
        let changed = BTreeMap::from([("config/a.yaml".to_string(), "2".to_string())]);
        let keys = ["tags".to_string()];
        for (settings, inputs_now, base_side) in [
            (&keys[..], &empty, Ok(&base)),
            (&[][..], &changed, Ok(&base)),
            (&[][..], &empty, Err("broken go.work")),
        ] {
            let sides = Sides {
                now: &base,
                base: base_side,
                settings,
                inputs_now,
                inputs_base: &empty,
            };
            assert_eq!(
                select(&packages(), &sides).selected.len(),
                2,
                "the whole suite"
            );
        }
        assert_eq!(unchanged(&packages()).not_affected, ["m/t", "m/u"]);
    }
}
