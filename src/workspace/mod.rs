//! The workspace stage: everything that asks go what the workspace holds, and ties the
//! manifest to it. `gotool` is the one place that runs `go env`, `go version` and `go list`
//! (its answers cached by `listcache`, and kept across a watch's cycles by `listmemo`);
//! `binaries` resolves `[[binary]]` entries to main packages, `settings` their effective
//! build settings; `suites` selects suites and expands them into packages; `compilecheck` tells `gob check`'s vet tool the names and embeds of the packages it compiles; `scan` reads a module's test files for `gob init`; `remotecache`
//! resolves `[cache]` and its environment overrides into go's GOCACHEPROG.
//!
//! Comes after `manifest/`, before `budget/` and `plan/`; imports neither.

pub mod binaries;
pub mod cleancheck;
pub mod compilecheck;
pub mod git;
pub mod gotool;
pub mod inputs;
pub mod listcache;
pub mod listmemo;
pub mod remotecache;
pub mod remoteexec;
pub mod revision;
pub mod scan;
pub mod settings;
pub mod since;
pub mod snapshot;
pub mod stamps;
pub mod suites;
pub mod taskfiles;
pub mod treedigest;
pub mod watch;

pub use binaries::{
    ResolvedBinary, Resolving, UnknownBinary, out_dir, resolve_binaries, select_binaries,
};
