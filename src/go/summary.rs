//! `go test`'s one-line summary of a package (test.go `builderRunTest`, `printExitStatus`):
//! `ok  \tPKG\t0.01s`, `ok  \tPKG\t(cached)`, `FAIL\tPKG\t0.01s`, `FAIL\tPKG [build failed]`,
//! `FAIL\tPKG [setup failed]`.

/// The package a summary line is about, and whether it passed.
pub fn package_summary(line: &str) -> Option<(&str, bool)> {
    let (rest, passed) = match line.strip_prefix("ok  \t") {
        Some(rest) => (rest, true),
        None => (line.strip_prefix("FAIL\t")?, false),
    };
    let package = &rest[..rest.find(['\t', ' ']).unwrap_or(rest.len())];
    (!package.is_empty()).then_some((package, passed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines_name_the_package_and_the_verdict() {
        assert_eq!(
            package_summary("ok  \texample.com/a/api\t0.012s"),
            Some(("example.com/a/api", true))
        );
        assert_eq!(
            package_summary("ok  \texample.com/a\t(cached)"),
            Some(("example.com/a", true))
        );
        assert_eq!(
            package_summary("FAIL\texample.com/b [build failed]"),
            Some(("example.com/b", false))
        );
        assert_eq!(
            package_summary("FAIL\texample.com/c\t0.003s"),
            Some(("example.com/c", false))
        );
        assert_eq!(package_summary("FAIL"), None);
        assert_eq!(package_summary("# example.com/b"), None);
        assert_eq!(package_summary("ok  \t"), None);
    }
}
