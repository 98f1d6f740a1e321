//! Coverage: the flags that instrument tests and binaries, and the counter mode of a run.
//!
//! A run that writes one profile uses one mode everywhere, so every fragment merges: `set`
//! (go's default), or `atomic` when a selected suite uses `-race` (go refuses any other mode
//! with `-race`: cmd/go/internal/work/init.go).

use std::path::{Path, PathBuf};

use crate::base::state::COVER_DIR;
use crate::go::coverprofile::Mode;
use crate::manifest::SuiteSpec;

/// Where the `n`-th profile fragment of `package` in `suite` goes (`None`: the suite's one
/// `go test` call): below `.gob/cover/fragments/`, named so no two runs of a run clash.
pub fn fragment(workspace_dir: &Path, suite: &str, package: Option<&str>, n: usize) -> PathBuf {
    let label = match package {
        None => "go-test".to_string(),
        Some(path) => {
            let tail = path.rsplit('/').next().unwrap_or(path);
            let tail: String = tail
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let hash = crate::base::hash::fnv1a(path.as_bytes());
            format!("{tail}-{:08x}", hash as u32)
        }
    };
    fragments_dir(workspace_dir)
        .join(suite)
        .join(format!("{label}-{n}.out"))
}

/// The dir of a run's profile fragments.
pub fn fragments_dir(workspace_dir: &Path) -> PathBuf {
    workspace_dir.join(COVER_DIR).join("fragments")
}

/// The coverage flags of a suite's go test calls: `-cover -covermode=M` when the run writes a
/// profile (`mode`), else `-cover` when the suite asks for it; `-coverpkg` when it names
/// packages.
pub fn test_flags(suite: &SuiteSpec, mode: Option<Mode>) -> Vec<String> {
    match (mode, suite.cover) {
        (None, false) => Vec::new(),
        _ => flags(mode, &suite.coverpkg),
    }
}

/// The flags of a `go build -cover` of binaries: with `coverpkg` empty, go instruments the
/// main module's packages.
pub fn build_flags(mode: Mode, coverpkg: &[String]) -> Vec<String> {
    flags(Some(mode), coverpkg)
}

/// `-cover`, `-covermode` when one is given, `-coverpkg` when packages are named.
fn flags(mode: Option<Mode>, coverpkg: &[String]) -> Vec<String> {
    let mut flags = vec!["-cover".to_string()];
    flags.extend(mode.map(|m| format!("-covermode={}", m.name())));
    if !coverpkg.is_empty() {
        flags.push(format!("-coverpkg={}", coverpkg.join(",")));
    }
    flags
}

/// The mode of a run over `suites`: the one asked for, else `atomic` when a suite uses
/// `-race`, else `set`. A mode other than `atomic` with a `-race` suite is an error.
pub fn run_mode(asked: Option<Mode>, suites: &[&SuiteSpec]) -> Result<Mode, String> {
    let race = suites.iter().find(|s| s.race);
    match (asked, race) {
        (Some(Mode::Atomic) | None, Some(_)) => Ok(Mode::Atomic),
        (Some(mode), Some(suite)) => Err(format!(
            "--covermode {}: suite {} sets race = true, and go counts -race builds only in atomic mode",
            mode.name(),
            suite.name
        )),
        (Some(mode), None) => Ok(mode),
        (None, None) => Ok(Mode::Set),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(race: bool, cover: bool, coverpkg: &[&str]) -> SuiteSpec {
        SuiteSpec {
            name: "unit".into(),
            race,
            cover,
            coverpkg: coverpkg.iter().map(|p| p.to_string()).collect(),
            ..SuiteSpec::default()
        }
    }

    #[test]
    fn a_profile_run_names_its_mode_and_the_packages_counted() {
        let plain = suite(false, false, &[]);
        assert!(test_flags(&plain, None).is_empty());
        assert_eq!(test_flags(&suite(false, true, &[]), None), ["-cover"]);
        assert_eq!(
            test_flags(&suite(false, false, &["./...", "m/x"]), Some(Mode::Set)),
            ["-cover", "-covermode=set", "-coverpkg=./...,m/x"]
        );
        assert_eq!(
            build_flags(Mode::Atomic, &[]),
            ["-cover", "-covermode=atomic"]
        );
    }

    #[test]
    fn fragments_of_packages_named_alike_do_not_clash() {
        let ws = Path::new("/ws");
        let a = fragment(ws, "unit", Some("m/security/api"), 1);
        let b = fragment(ws, "unit", Some("m/telemetry/api"), 1);
        assert_ne!(a, b);
        assert!(a.starts_with("/ws/.gob/cover/fragments/unit"), "{a:?}");
        assert_ne!(a, fragment(ws, "unit", Some("m/security/api"), 2));
        assert_eq!(
            fragment(ws, "unit", None, 1),
            Path::new("/ws/.gob/cover/fragments/unit/go-test-1.out")
        );
    }

    #[test]
    fn race_suites_make_the_run_atomic_and_refuse_other_modes() {
        let (race, plain) = (suite(true, false, &[]), suite(false, false, &[]));
        assert_eq!(run_mode(None, &[&plain]), Ok(Mode::Set));
        assert_eq!(run_mode(None, &[&plain, &race]), Ok(Mode::Atomic));
        assert_eq!(run_mode(Some(Mode::Count), &[&plain]), Ok(Mode::Count));
        let error = run_mode(Some(Mode::Set), &[&race]).unwrap_err();
        assert!(error.contains("suite unit sets race = true"), "{error}");
    }
}
