//! `go test`'s one-line summary of a package (test.go `builderRunTest`, `printExitStatus`):
//! `ok  \tPKG\t0.01s`, `ok  \tPKG\t(cached)`, `FAIL\tPKG\t0.01s`, `FAIL\tPKG [build failed]`,
//! `FAIL\tPKG [setup failed]`.

/// What one summary line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageSummary<'a> {
    /// The package's import path.
    pub package: &'a str,
    /// It passed.
    pub passed: bool,
    /// go replayed a cached result (`(cached)`): it built and ran nothing for it.
    pub cached: bool,
}

/// The summary a line of `go test`'s output is, if it is one.
pub fn package_summary(line: &str) -> Option<PackageSummary<'_>> {
    let (rest, passed) = match line.strip_prefix("ok  \t") {
        Some(rest) => (rest, true),
        None => (line.strip_prefix("FAIL\t")?, false),
    };
    let end = rest.find(['\t', ' ']).unwrap_or(rest.len());
    let (package, after) = rest.split_at(end);
    (!package.is_empty()).then_some(PackageSummary {
        package,
        passed,
        cached: after.trim_start().starts_with("(cached)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines_name_the_package_and_the_verdict() {
        assert_eq!(
            package_summary("ok  \texample.com/a/api\t0.012s"),
            Some(PackageSummary {
                package: "example.com/a/api",
                passed: true,
                cached: false
            })
        );
        assert_eq!(
            package_summary("ok  \texample.com/a\t(cached)"),
            Some(PackageSummary {
                package: "example.com/a",
                passed: true,
                cached: true
            })
        );
        assert_eq!(
            package_summary("FAIL\texample.com/b [build failed]").map(|s| (s.package, s.passed)),
            Some(("example.com/b", false))
        );
        assert_eq!(
            package_summary("FAIL\texample.com/c\t0.003s").map(|s| (s.package, s.passed)),
            Some(("example.com/c", false))
        );
        assert_eq!(package_summary("FAIL"), None);
        assert_eq!(package_summary("# example.com/b"), None);
        assert_eq!(package_summary("ok  \t"), None);
    }
}
