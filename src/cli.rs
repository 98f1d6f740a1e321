//! The command line: global options and subcommands (clap derive).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// gob: build and test Go projects from one manifest, gobuild.toml.
#[derive(Debug, Parser)]
#[command(
    name = "gob",
    version,
    after_help = "Examples:\n  gob build                 build every [[binary]] of ./gobuild.toml\n  gob build alpha --dry-run show the go commands without running them\n  gob -C examples/mesh env  show the CPU budget and where it comes from"
)]
pub struct Cli {
    /// Run as if gob was started in DIR.
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub chdir: Option<PathBuf>,
    /// Use this manifest instead of the nearest gobuild.toml.
    #[arg(long, value_name = "PATH", global = true)]
    pub manifest: Option<PathBuf>,
    /// CPUs to use (sets GOMAXPROCS for go); overrides GOB_JOBS and detection.
    #[arg(short = 'j', long = "jobs", value_name = "N", global = true,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Time a stopped process gets between SIGTERM and SIGKILL (a test cleaning up), e.g. 10s.
    #[arg(long, value_name = "DURATION", global = true, env = "GOB_GRACE",
          value_parser = parse_duration)]
    pub grace: Option<Duration>,
    /// Fail at once (exit 4) when another gob run holds the workspace lock, instead of waiting.
    #[arg(long, global = true)]
    pub no_wait: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// gob's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build binaries in the fewest `go build` calls and publish them to out_dir.
    Build(BuildArgs),
    /// Run test suites: unit suites by default, integration suites with --integ.
    Test(TestArgs),
    /// Compile every suite's packages and tests, linking and running nothing.
    Check,
    /// Show the CPU budget, where it comes from, and the Go toolchain gob will use.
    Env(EnvArgs),
}

/// `gob build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Binaries to build, by output name (default: all).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Print the exact commands (dir, env, argv) and touch nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Publish into DIR instead of the manifest's out_dir (may be outside the workspace).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// `gob test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Suites to run, by name (default: every unit suite, or every integ suite with --integ).
    #[arg(value_name = "SUITE")]
    pub suites: Vec<String>,
    /// Run the integration suites (`integ = true`) instead of the unit suites.
    #[arg(long)]
    pub integ: bool,
    /// Run only tests matching PATTERN (passed to the test binaries as -test.run).
    #[arg(long, value_name = "PATTERN")]
    pub run: Option<String>,
    /// Arguments for the test binaries, after `--` (e.g. `-- -test.count=2`).
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

impl TestArgs {
    /// Everything passed to the test binaries: `--run` first, then the `--` arguments.
    pub fn binary_args(&self) -> Vec<String> {
        let mut args: Vec<String> = self.run.iter().map(|p| format!("-test.run={p}")).collect();
        args.extend(self.args.iter().cloned());
        args
    }
}

/// `gob env`.
#[derive(Debug, clap::Args)]
pub struct EnvArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A Go-style duration (`5s`, `1m30s`, `500ms`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::manifest::parse_go_duration(text)
        .ok_or_else(|| format!("`{text}` is not a duration like 5s, 1m30s or 500ms"))
}
