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

#[cfg(test)]
mod tests {
    use super::*;

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
