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
        for (key, value) in &self.env {
            write!(f, "{key}={} ", shell_words::quote(value))?;
        }
        write!(f, "{}", shell_words::quote(&self.program))?;
        for arg in &self.args {
            write!(f, " {}", shell_words::quote(arg))?;
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
