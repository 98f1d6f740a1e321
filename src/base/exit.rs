//! gob's exit codes, in one place. docs/src/reference/exit-codes.md documents each (`gob help exit-codes`).

/// How a gob run ended, as a process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done.
    Success = 0,
    /// A build or test failed (go's errors were shown).
    Failure = 1,
    /// The command line or the manifest is wrong.
    Usage = 2,
    /// The environment stops gob: no go on PATH, go list failed, an output cannot be written.
    Environment = 3,
    /// Another gob run holds the workspace lock and `--no-wait` was given.
    Busy = 4,
    /// Stopped by SIGHUP (the terminal closed).
    HungUp = 129,
    /// Stopped by SIGINT (Ctrl-C).
    Interrupted = 130,
    /// Stopped by SIGQUIT.
    Quit = 131,
    /// Stopped by SIGTERM.
    Terminated = 143,
}

impl Exit {
    /// The exit code for a run stopped by `signal`.
    pub fn for_signal(signal: i32) -> Exit {
        match signal {
            libc::SIGTERM => Exit::Terminated,
            libc::SIGHUP => Exit::HungUp,
            libc::SIGQUIT => Exit::Quit,
            _ => Exit::Interrupted,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}
