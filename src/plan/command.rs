//! A command gob will run, as plain data: program, argv, environment changes, working dir.
//! `Display` renders it as a shell line for `--dry-run` and for error messages.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// One child process to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoCommand {
    /// The program (`go`).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Variables set on top of the inherited environment.
    pub env: BTreeMap<String, String>,
    /// Working directory.
    pub dir: PathBuf,
}

impl fmt::Display for GoCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = self.dir.to_string_lossy();
        write!(f, "cd {} && ", shell_words::quote(&dir))?;
        // Printed for people: a remote cache URL in GOCACHEPROG may carry a password.
        let word = |w: &str| shell_words::quote(&crate::base::redact::credentials(w)).into_owned();
        for (key, value) in &self.env {
            write!(f, "{key}={} ", word(value))?;
        }
        write!(f, "{}", word(&self.program))?;
        for arg in &self.args {
            write!(f, " {}", word(arg))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_copy_pasteable_shell_line() {
        let cmd = GoCommand {
            program: "go".into(),
            args: vec!["build".into(), "-ldflags".into(), "-s -w".into()],
            env: BTreeMap::from([("GOMAXPROCS".into(), "2".into())]),
            dir: PathBuf::from("/my ws"),
        };
        assert_eq!(
            cmd.to_string(),
            "cd '/my ws' && GOMAXPROCS=2 go build -ldflags '-s -w'"
        );
    }
}
