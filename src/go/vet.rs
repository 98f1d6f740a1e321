//! Which vet checks `go test` runs, and how its flag is spelled (cmd/go/internal/test
//! testflag.go: `-vet=off`, `-vet=LIST`; no flag keeps go's default subset).

/// The `vet` setting of a suite.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Vet {
    /// go's default subset.
    #[default]
    Default,
    /// `-vet=off`.
    Off,
    /// `-vet=LIST`, e.g. "atomic,bool".
    Checks(String),
}

impl Vet {
    /// The go test flag for this setting, if any.
    pub fn flag(&self) -> Option<String> {
        match self {
            Vet::Default => None,
            Vet::Off => Some("-vet=off".to_string()),
            Vet::Checks(list) => Some(format!("-vet={list}")),
        }
    }
}

/// The flags `go test` passes to the vet tool, from `go test -n` output (cmd/go prints the
/// vet tool's command, `…/vet FLAGS $WORK/bNNN/vet.cfg`, for each package it vets; the last
/// is the test package's own): `None` when it runs no vet (`-vet=off`). Asking go keeps
/// gob right for every Go version, whose default set changes (1.21 added `directive` and
/// `slog`, later releases `tests`).
pub fn flags_from_plan(plan: &str) -> Option<Vec<String>> {
    plan.lines().rev().find_map(|line| {
        let words = crate::go::quoted::split(line)?;
        let tool = words
            .iter()
            .position(|w| w.ends_with("/vet") || w == "vet")?;
        let config = words.last()?;
        (config.ends_with("vet.cfg") && words.len() > tool + 1)
            .then(|| words[tool + 1..words.len() - 1].to_vec())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vet_flags_are_read_from_go_test_n() {
        let plan = "cat >$WORK/b126/vet.cfg << 'EOF' # internal\n{}\nEOF\nTERM='dumb' /usr/local/go/pkg/tool/linux_amd64/vet -atomic -bool $WORK/b126/vet.cfg\nTERM='dumb' /usr/local/go/pkg/tool/linux_amd64/vet -atomic -printf -tests $WORK/b125/vet.cfg\n/usr/local/go/pkg/tool/linux_amd64/link -o x\n";
        assert_eq!(
            flags_from_plan(plan).unwrap(),
            ["-atomic", "-printf", "-tests"]
        );
        let all = "/go/pkg/tool/linux_amd64/vet $WORK/b001/vet.cfg\n";
        assert_eq!(flags_from_plan(all).unwrap(), Vec::<String>::new());
        assert_eq!(
            flags_from_plan("cd /x\n/go/pkg/tool/linux_amd64/compile -o a.a\n"),
            None
        );
    }

    #[test]
    fn vet_flags_as_go_test_spells_them() {
        assert_eq!(Vet::Default.flag(), None);
        assert_eq!(Vet::Off.flag().as_deref(), Some("-vet=off"));
        assert_eq!(
            Vet::Checks("atomic,bool".into()).flag().as_deref(),
            Some("-vet=atomic,bool")
        );
    }
}
