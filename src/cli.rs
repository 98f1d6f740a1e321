//! The command line: global options and subcommands (clap derive).

use std::path::PathBuf;

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
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// gob's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build binaries in the fewest `go build` calls and publish them to out_dir.
    Build(BuildArgs),
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
}

/// `gob env`.
#[derive(Debug, clap::Args)]
pub struct EnvArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
