//! Which dirs and files `go list ./...` considers: the walk of cmd/go/internal/modload
//! `matchPackages` (via search.go) skips dirs whose name starts with `.` or `_`, `testdata`,
//! `vendor` (module mode) and nested modules (a dir with its own go.mod), and does not follow
//! symlinked dirs; a file's `//go:build` line (go/build/constraint) must come before the
//! package clause, among comments and blank lines.

use std::path::Path;

/// Whether the `./...` walk skips a dir named `name` (nested modules aside: see
/// [`is_nested_module`]).
pub fn skips_dir(name: &str) -> bool {
    name.starts_with(['.', '_']) || name == "testdata" || name == "vendor"
}

/// Whether `dir` is the root of another module, which `./...` does not enter.
pub fn is_nested_module(dir: &Path) -> bool {
    dir.join("go.mod").exists()
}

/// File name endings go build compiles or links from a package dir (go/build `Import`:
/// Go, assembly, cgo's C/C++/Objective-C/Fortran and headers, `.syso` objects).
const SOURCE_ENDINGS: &[&str] = &[
    ".go", ".s", ".S", ".sx", ".c", ".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp", ".hxx", ".m", ".f",
    ".F", ".for", ".f90", ".syso",
];

/// Whether a file named `name` in a package dir is part of the package's build.
pub fn is_source_file(name: &str) -> bool {
    SOURCE_ENDINGS.iter().any(|e| name.ends_with(e))
}

/// The import path of a `go list -test` entry without its variant suffix (`p [q.test]` → `p`).
pub fn base_import_path(listed: &str) -> &str {
    listed.split(" [").next().unwrap_or(listed)
}

/// The `//go:build` expression of Go source `text`, if it has one.
pub fn build_constraint(text: &str) -> Option<String> {
    text.lines()
        .take_while(|l| l.trim().is_empty() || l.starts_with("//"))
        .find_map(|l| l.strip_prefix("//go:build").map(|e| e.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_skips_what_go_skips() {
        for name in [".git", "_old", "testdata", "vendor"] {
            assert!(skips_dir(name), "{name}");
        }
        assert!(!skips_dir("internal") && !skips_dir("integration"));
    }

    #[test]
    fn source_files_and_variant_names() {
        assert!(is_source_file("a.go") && is_source_file("x.syso") && is_source_file("c.h"));
        assert!(!is_source_file("README.md") && !is_source_file("data.json"));
        assert_eq!(base_import_path("m/lib [m/p.test]"), "m/lib");
        assert_eq!(base_import_path("m/p.test"), "m/p.test");
    }

    #[test]
    fn build_constraints_come_before_the_package_clause() {
        let text = "// Copyright\n\n//go:build integ && !race\n\npackage a\n";
        assert_eq!(build_constraint(text).as_deref(), Some("integ && !race"));
        assert_eq!(build_constraint("package a\n//go:build late\n"), None);
    }
}
