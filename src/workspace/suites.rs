//! Expanding test suites into packages: `go list` with the suite's tags over its patterns,
//! minus the packages whose dir (relative to the workspace dir) matches an exclude glob.

use std::path::PathBuf;

use crate::manifest::{Manifest, SuiteSpec};
use crate::workspace::gotool::{GoTool, GoToolError, ListedPackage};

/// A package with test files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestPackage {
    /// Import path.
    pub import_path: String,
    /// Absolute package dir (where its test binary runs).
    pub dir: PathBuf,
}

/// A suite with its packages.
#[derive(Debug, Clone)]
pub struct ExpandedSuite<'m> {
    /// The suite from the manifest.
    pub spec: &'m SuiteSpec,
    /// Packages selected (patterns matched, not excluded), in go list order.
    pub packages: Vec<ListedPackage>,
    /// Packages dropped by an exclude glob.
    pub excluded: Vec<ListedPackage>,
}

impl ExpandedSuite<'_> {
    /// Its packages that have test files, with their dirs.
    pub fn test_packages(&self) -> Vec<TestPackage> {
        self.packages
            .iter()
            .filter(|p| has_tests(p))
            .filter_map(|p| {
                Some(TestPackage {
                    import_path: p.import_path.clone(),
                    dir: p.dir.clone()?,
                })
            })
            .collect()
    }

    /// Import paths of its packages without test files.
    pub fn without_tests(&self) -> Vec<String> {
        self.packages
            .iter()
            .filter(|p| !has_tests(p))
            .map(|p| p.import_path.clone())
            .collect()
    }
}

fn has_tests(p: &ListedPackage) -> bool {
    !p.test_go_files.is_empty() || !p.x_test_go_files.is_empty()
}

/// Keeps the packages of `listed` whose dir matches no exclude glob of `spec`.
pub fn apply_excludes<'m>(
    manifest: &Manifest,
    spec: &'m SuiteSpec,
    listed: Vec<ListedPackage>,
) -> ExpandedSuite<'m> {
    let (excluded, packages) = listed.into_iter().partition(|p| {
        p.dir.as_ref().is_some_and(|dir| {
            let rel = crate::base::paths::relative_to(dir, &manifest.workspace_dir);
            spec.exclude.is_match(&rel)
        })
    });
    ExpandedSuite {
        spec,
        packages,
        excluded,
    }
}

/// Lists and filters the packages of every suite in `specs` (one go list per suite).
pub fn expand<'m>(
    manifest: &Manifest,
    specs: &[&'m SuiteSpec],
    go: &GoTool,
) -> Result<Vec<ExpandedSuite<'m>>, GoToolError> {
    // Each suite's go list on its own thread: the calls are independent, and each waits
    // mostly on go loading the module.
    std::thread::scope(|scope| {
        let listing: Vec<_> = specs
            .iter()
            .map(|spec| {
                scope.spawn(move || {
                    let patterns: Vec<&str> =
                        spec.packages.iter().map(|p| p.value.as_str()).collect();
                    go.list(&patterns, &spec.tags)
                })
            })
            .collect();
        specs
            .iter()
            .zip(listing)
            .map(|(spec, listing)| {
                let listed = listing.join().expect("a suite's go list thread panicked")?;
                Ok(apply_excludes(manifest, spec, listed))
            })
            .collect()
    })
}

/// A name on the command line that matches no suite.
#[derive(Debug, thiserror::Error)]
#[error("no test suite named `{name}` in the manifest{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownSuite {
    /// The name asked for.
    pub name: String,
    /// The closest known name.
    pub suggestion: Option<String>,
}

/// The suites to run: the named ones, else every integ or every unit suite.
pub fn select<'m>(
    manifest: &'m Manifest,
    suites: &[String],
    integ: bool,
) -> Result<Vec<&'m SuiteSpec>, UnknownSuite> {
    if suites.is_empty() {
        return Ok(manifest
            .suites
            .iter()
            .filter(|s| s.integ == integ)
            .collect());
    }
    let known: Vec<&str> = manifest.suites.iter().map(|s| s.name.as_str()).collect();
    suites
        .iter()
        .map(|name| {
            manifest
                .suites
                .iter()
                .find(|s| &s.name == name)
                .ok_or_else(|| UnknownSuite {
                    name: name.clone(),
                    suggestion: crate::manifest::closest(name, &known).map(String::from),
                })
        })
        .collect()
}
