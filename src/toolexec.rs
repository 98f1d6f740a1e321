//! gob as a `-toolexec` wrapper for `gob check`: compile everything, link nothing.
//!
//! go runs `WRAPPER TOOL ARGS…` for every tool. gob passes every call through unchanged,
//! including `TOOL -V=full` (go hashes the tool ID into action IDs, so compiles are shared
//! with ordinary builds: work/buildid.go `toolID`), except a real link, which it replaces by
//! an empty output file. An empty file has no build ID, so go cannot store it in GOCACHE
//! (work/buildid.go `updateBuildID` returns before `PutExecutable`), and `-exec=true` never
//! runs it.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

/// Set in go's environment by `gob check`; tells gob it runs as the wrapper.
pub const MARKER_ENV: &str = "GOB_TOOLEXEC";

/// True when this process was started by go as a `-toolexec` wrapper.
pub fn is_wrapper_call(args: &[String]) -> bool {
    // go always passes the tool's absolute path; gob's own subcommands are plain words.
    std::env::var_os(MARKER_ENV).is_some()
        && args.len() >= 2
        && std::path::Path::new(&args[1]).is_absolute()
}

/// What the wrapper does with one tool call.
#[derive(Debug, PartialEq, Eq)]
pub enum ToolAction {
    /// Run the tool unchanged.
    PassThrough,
    /// Skip the link and write an empty file at this path.
    SkipLink(String),
}

/// Decides what to do with `tool args…`.
pub fn decide(tool: &str, args: &[String]) -> ToolAction {
    let name = std::path::Path::new(tool)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name != "link" || args.iter().any(|a| a.starts_with("-V")) {
        return ToolAction::PassThrough;
    }
    match args.iter().position(|a| a == "-o") {
        Some(i) if i + 1 < args.len() => ToolAction::SkipLink(args[i + 1].clone()),
        _ => ToolAction::PassThrough,
    }
}

/// Runs as the wrapper: `args` is gob's argv (`gob TOOL ARGS…`).
pub fn wrapper_main(args: &[String]) -> ExitCode {
    let (tool, rest) = (&args[1], &args[2..]);
    match decide(tool, rest) {
        ToolAction::SkipLink(output) => match std::fs::write(&output, b"") {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("gob check: cannot write {output}: {e}");
                ExitCode::FAILURE
            }
        },
        ToolAction::PassThrough => {
            let error = Command::new(tool).args(rest).exec();
            eprintln!("gob check: cannot run {tool}: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn only_real_links_are_skipped() {
        let link = "/go/pkg/tool/linux_amd64/link";
        assert_eq!(
            decide(link, &s(&["-o", "/tmp/b001/x.test", "-importcfg", "cfg"])),
            ToolAction::SkipLink("/tmp/b001/x.test".into())
        );
        assert_eq!(decide(link, &s(&["-V=full"])), ToolAction::PassThrough);
        let compile = "/go/pkg/tool/linux_amd64/compile";
        assert_eq!(decide(compile, &s(&["-o", "x.a"])), ToolAction::PassThrough);
        assert_eq!(
            decide("/go/pkg/tool/windows_amd64/link.exe", &s(&["-o", "a"])),
            ToolAction::SkipLink("a".into())
        );
    }
}
