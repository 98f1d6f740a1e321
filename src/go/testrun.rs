//! How `-test.run` selects tests (src/testing/match.go): the pattern is split at `/` into one
//! regexp per level of subtests, and a test runs when its top-level name matches the first.
//! A rerun of exactly some top-level tests is `^(A|B)$` with each name quoted as
//! regexp.QuoteMeta does (src/regexp/regexp.go `special`).

/// The top-level test of a test or subtest name (`TestA/sub/x` → `TestA`).
pub fn top_level(name: &str) -> &str {
    name.split('/').next().unwrap_or(name)
}

/// Whether test binary arguments `args` choose tests themselves (`-test.run`, `-test.skip`,
/// or go test's short `-run`/`-skip`, with one dash or two): a filter of gob's after them
/// would override theirs, since the testing package keeps a flag's last value.
pub fn chooses_tests(args: &[String]) -> bool {
    args.iter().any(|arg| {
        let flag = arg.trim_start_matches('-');
        let name = flag.split('=').next().unwrap_or(flag);
        arg.starts_with('-') && matches!(name, "test.run" | "test.skip" | "run" | "skip")
    })
}

/// The `-test.run` pattern that selects exactly the top-level tests `names`.
pub fn exactly(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| quote_meta(n)).collect();
    format!("^({})$", quoted.join("|"))
}

/// `text` with every regexp metacharacter escaped (regexp.QuoteMeta).
fn quote_meta(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_that_choose_tests_are_recognized_in_every_spelling() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for chooses in [
            &["-test.run=TestA"][..],
            &["--test.run", "TestA"],
            &["-run=X"],
            &["-test.v", "-skip", "TestB"],
        ] {
            assert!(chooses_tests(&args(chooses)), "{chooses:?}");
        }
        for not in [
            &["-test.v"][..],
            &["-test.count=2", "run"],
            &["-test.runs=3"],
        ] {
            assert!(!chooses_tests(&args(not)), "{not:?}");
        }
    }

    #[test]
    fn subtests_rerun_their_top_level_test() {
        assert_eq!(top_level("TestA/sub/x"), "TestA");
        assert_eq!(top_level("TestB"), "TestB");
    }

    #[test]
    fn names_are_quoted_as_regexp_quote_meta_does() {
        let names = vec!["TestA".to_string(), "Test_b.c(1)".to_string()];
        assert_eq!(exactly(&names), r"^(TestA|Test_b\.c\(1\))$");
    }
}
