//! Expanding test suites into packages: `go list` with the suite's tags over its patterns,
//! minus the packages whose dir (relative to the workspace dir) matches an exclude glob.

use crate::gotool::{GoTool, GoToolError, ListedPackage};
use crate::manifest::{Manifest, SuiteSpec};
use crate::plan::test::TestPackage;

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
            let rel = crate::paths::relative_to(dir, &manifest.workspace_dir);
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
    specs
        .iter()
        .map(|spec| {
            let patterns: Vec<&str> = spec.packages.iter().map(|p| p.value.as_str()).collect();
            let listed = go.list(&patterns, &spec.tags)?;
            Ok(apply_excludes(manifest, spec, listed))
        })
        .collect()
}
