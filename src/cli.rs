//! The command line: global options and subcommands (clap derive).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Build and test Go projects from one manifest, gobuild.toml.
#[derive(Debug, Parser)]
#[command(
    name = "gob",
    disable_help_subcommand = true,
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("GOB_COMMIT"), ")"),
    after_help = "Examples:\n  gob build                 build every [[binary]] of ./gobuild.toml\n  gob build alpha --dry-run show the go commands without running them\n  gob -C examples/mesh env  show the CPU budget and where it comes from"
)]
pub struct Cli {
    /// Look for the manifest from DIR and run there; paths given on the command line stay
    /// relative to the dir gob was started in.
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
    Test(Box<TestArgs>),
    /// Run tasks ([task.NAME]) and their deps; skip those whose sources and outputs are
    /// unchanged.
    Run(RunArgs),
    /// Compile the suites' packages and tests (every suite, or those named), linking and
    /// running nothing.
    Check(CheckArgs),
    /// Show the CPU budget, where it comes from, and the Go toolchain gob will use.
    Env(EnvArgs),
    /// Print how `gob test --shard K/N` would split the suites' packages into N shards.
    Shards(ShardsArgs),
    /// Build with go's action graph and trace, and report where the time went.
    Analyze(AnalyzeArgs),
    /// Show the binaries and the suites with their packages.
    List,
    /// Write a gobuild.toml for the Go module in the current dir (never overwrites one).
    Init,
    /// Print the test packages a change can affect (what `gob test --since` would run).
    Affected(AffectedArgs),
    /// Convert a test binary's `-test.v=test2json` output on stdin to test2json events, as
    /// `go tool test2json -t -p PKG` does, without go.
    Test2json(Test2jsonArgs),
    /// Work with timing histories: `gob timings merge FILE... --output FILE`.
    Timings(TimingsArgs),
    /// Work with coverage profiles: `gob cover merge FILE... --output FILE`.
    Cover(CoverArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Print gob's man page (roff), or write one page per command into a dir.
    Man(ManArgs),
    /// Show the help of a command (`gob help test`) or a reference topic (`gob help manifest
    /// test`: the keys of [test.NAME]); `gob help topics` lists the topics.
    Help(HelpArgs),
    /// The GOCACHEPROG program gob sets for go when [cache] remote is configured: go's build
    /// cache in a local dir, shared through a Bazel HTTP remote cache.
    Cacheprog(CacheprogArgs),
}

impl Cli {
    /// Makes every relative path on the command line (and in `GOB_TIMINGS`) absolute against
    /// `start`, the dir gob was started in: `-C` moves where gob looks for the manifest and
    /// runs go, never where a path the user typed points.
    pub fn resolve_paths(&mut self, start: &Path) {
        let fix = |path: &mut Option<PathBuf>| {
            if let Some(path) = path {
                *path = start.join(&*path);
            }
        };
        fix(&mut self.chdir);
        fix(&mut self.manifest);
        match &mut self.command {
            Command::Build(args) => fix(&mut args.out_dir),
            Command::Test(args) => {
                fix(&mut args.junit);
                fix(&mut args.selection.timings);
                fix(&mut args.shard_plan);
                fix(&mut args.timings_out);
                fix(&mut args.archive);
                fix(&mut args.from_archive);
                fix(&mut args.extract_dir);
                fix(&mut args.coverprofile);
                fix(&mut args.cover_html);
                fix(&mut args.cover_xml);
            }
            Command::Shards(args) => {
                fix(&mut args.selection.timings);
                fix(&mut args.plan);
            }
            Command::Affected(args) => fix(&mut args.selection.timings),
            Command::Timings(args) => {
                let TimingsCommand::Merge { files, output } = &mut args.command;
                for file in files.iter_mut() {
                    *file = start.join(&*file);
                }
                *output = start.join(&*output);
            }
            Command::Cover(args) => {
                let CoverCommand::Merge { files, output } = &mut args.command;
                for file in files.iter_mut() {
                    *file = start.join(&*file);
                }
                *output = start.join(&*output);
            }
            Command::Analyze(args) => {
                fix(&mut args.trace);
                fix(&mut args.svg);
                fix(&mut args.html);
            }
            Command::Cacheprog(args) => {
                args.dir = start.join(&args.dir);
                fix(&mut args.ca_file);
            }
            Command::Check(_)
            | Command::Run(_)
            | Command::Test2json(_)
            | Command::Env(_)
            | Command::List
            | Command::Init
            | Command::Help(_)
            | Command::Completions(_) => {}
            Command::Man(args) => fix(&mut args.out_dir),
        }
    }
}

impl Command {
    /// Commands that start no child process once they print: they may end by SIGPIPE when
    /// their output is closed early.
    pub fn only_prints(&self) -> bool {
        match self {
            Command::Env(_)
            | Command::Shards(_)
            | Command::Affected(_)
            | Command::Test2json(_)
            | Command::List
            | Command::Completions(_)
            | Command::Help(_)
            | Command::Analyze(_) => true,
            Command::Man(args) => args.out_dir.is_none(),
            Command::Build(args) => args.dry_run,
            Command::Test(args) => args.dry_run,
            Command::Check(args) => args.dry_run,
            Command::Run(args) => args.dry_run,
            Command::Init | Command::Cacheprog(_) | Command::Timings(_) | Command::Cover(_) => {
                false
            }
        }
    }
}

/// `gob cacheprog` (go starts it; gob writes these arguments into GOCACHEPROG).
#[derive(Debug, clap::Args)]
pub struct CacheprogArgs {
    /// The local cache dir (go reads outputs from here).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Base URL of the Bazel HTTP cache (`/ac/` and `/cas/` below it), or a REAPI server
    /// (`grpc://host:port`, `grpcs://host`); none: local only.
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// The REAPI instance name (gRPC remotes).
    #[arg(long, value_name = "NAME", default_value = "")]
    pub instance_name: String,
    /// PEM CA certificates to trust besides the system's (grpcs:// remotes).
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
    /// Download from the remote, never upload.
    #[arg(long)]
    pub read_only: bool,
    /// Env var whose value is sent in --auth-header with every request.
    #[arg(long, value_name = "VAR")]
    pub auth_env: Option<String>,
    /// The header that carries --auth-env's value.
    #[arg(long, value_name = "NAME", default_value = "Authorization")]
    pub auth_header: String,
    /// Connect timeout and the longest wait for the next bytes of an answer.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// Which suites a test command selects.
#[derive(Debug, Clone, clap::Args)]
pub struct SuiteSelection {
    /// Suites, by name (default: every unit suite, or every integ suite with --integ).
    #[arg(value_name = "SUITE")]
    pub suites: Vec<String>,
    /// The integration suites (`integ = true`) instead of the unit suites.
    #[arg(long)]
    pub integ: bool,
    /// The timing history (default `<workspace>/.gob/timings.json`).
    #[arg(long, value_name = "PATH", env = "GOB_TIMINGS")]
    pub timings: Option<PathBuf>,
}

/// `gob shards`.
#[derive(Debug, clap::Args)]
pub struct ShardsArgs {
    /// Number of shards.
    #[arg(value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub count: u16,
    /// The suites.
    #[command(flatten)]
    pub selection: SuiteSelection,
    /// Also write the split as JSON to PATH (for `gob test --shard K/N --shard-plan PATH`).
    #[arg(long, value_name = "PATH")]
    pub plan: Option<PathBuf>,
}

/// `gob analyze`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AnalyzeArgs {
    /// `why PKG`.
    #[command(subcommand)]
    pub why: Option<AnalyzeCommand>,
    /// Binaries to build, by output name (default: all).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Compile this suite's test binaries instead of building the binaries.
    #[arg(long, value_name = "SUITE")]
    pub test: Option<String>,
    /// Use the real build cache instead of an empty one.
    #[arg(long)]
    pub warm: bool,
    /// How many of the slowest actions to list.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Write a Chrome/Perfetto trace (open in ui.perfetto.dev or chrome://tracing).
    #[arg(long, value_name = "PATH")]
    pub trace: Option<PathBuf>,
    /// Write an SVG timeline: a lane per worker, actions colored by module, the critical path
    /// outlined.
    #[arg(long, value_name = "PATH")]
    pub svg: Option<PathBuf>,
    /// Write an HTML page with the report and the timeline.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
    /// Print the analysis as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `gob analyze` subcommands.
#[derive(Debug, Subcommand)]
pub enum AnalyzeCommand {
    /// The import chains that pull PKG into each binary, and what it costs to compile.
    Why {
        /// The import path.
        #[arg(value_name = "PKG")]
        package: String,
    },
}

/// `gob completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `gob man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write gob.1 and a gob-COMMAND.1 per command into DIR instead of printing gob.1.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// `gob help`.
#[derive(Debug, clap::Args)]
pub struct HelpArgs {
    /// A command (`test`, `cover merge`) or a reference topic (`topics` lists them).
    #[arg(value_name = "TOPIC")]
    pub topic: Vec<String>,
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
    /// Build only for this platform (goos/goarch) of the binaries' `platforms`.
    #[arg(long, value_name = "GOOS/GOARCH")]
    pub platform: Option<crate::manifest::Platform>,
    /// Build with coverage (`go build -cover`): the binaries write what they ran to
    /// `GOCOVERDIR` (read it with `go tool covdata`).
    #[arg(long)]
    pub cover: bool,
    /// With --cover: the packages counted (comma-separated patterns, as go's -coverpkg;
    /// default: the main module's).
    #[arg(long, value_name = "PATTERNS", requires = "cover")]
    pub coverpkg: Option<String>,
    /// Print gob's events as JSON lines on stdout (human output goes to stderr).
    #[arg(long)]
    pub json: bool,
}

/// `gob run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Tasks to run, with their deps.
    #[arg(value_name = "TASK", required = true)]
    pub tasks: Vec<String>,
    /// Print the order, which tasks are up to date and why, and each command; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run every task, up to date or not.
    #[arg(long)]
    pub force: bool,
}

/// `gob timings`.
#[derive(Debug, clap::Args)]
pub struct TimingsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TimingsCommand,
}

/// `gob timings` subcommands.
#[derive(Debug, Subcommand)]
pub enum TimingsCommand {
    /// Join histories: per suite and package, the newest record wins.
    Merge {
        /// The histories (e.g. each shard's .gob/timings-shard-K-of-N.json).
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// Where to write the merged history.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: PathBuf,
    },
}

/// `gob cover`.
#[derive(Debug, clap::Args)]
pub struct CoverArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: CoverCommand,
}

/// `gob cover` subcommands.
#[derive(Debug, Subcommand)]
pub enum CoverCommand {
    /// Join coverage profiles of one mode (e.g. each shard's): every block once, counts added
    /// (count, atomic) or or'ed (set).
    Merge {
        /// The profiles (go's text format, as `gob test --coverprofile` writes them).
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// Where to write the merged profile.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: PathBuf,
    },
}

/// `gob test2json`.
#[derive(Debug, clap::Args)]
pub struct Test2jsonArgs {
    /// The package to name in the events.
    #[arg(short = 'p', value_name = "PKG", default_value = "")]
    pub package: String,
    /// Accepted for go's compatibility: events always carry their time.
    #[arg(short = 't')]
    pub timestamps: bool,
}

/// `gob affected`.
#[derive(Debug, clap::Args)]
pub struct AffectedArgs {
    /// The git revision to compare with (e.g. origin/main): its merge base with HEAD, plus
    /// uncommitted and untracked files.
    #[arg(long, value_name = "REF", required = true)]
    pub since: String,
    /// Fail (exit 2) when go cannot list the packages at the merge base, instead of
    /// selecting every package of the suite.
    #[arg(long)]
    pub since_strict: bool,
    /// The suites.
    #[command(flatten)]
    pub selection: SuiteSelection,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `gob check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// Suites to check, by name (default: every suite, unit and integration).
    #[arg(value_name = "SUITE")]
    pub suites: Vec<String>,
    /// Print the exact go commands (dir, env, argv) and run nothing.
    #[arg(long, conflicts_with = "watch")]
    pub dry_run: bool,
    /// Check once, then again after each save: only the packages the saved files can
    /// affect (dependents included). Keys: Enter rerun, a all, f failed, c clear, q quit.
    #[arg(long)]
    pub watch: bool,
    /// With --watch: print a `gob-watch-cycle` JSON event on stdout after each cycle.
    #[arg(long, requires = "watch")]
    pub json: bool,
    /// Check even when nothing changed since the last check that passed.
    #[arg(long)]
    pub force: bool,
}

/// `gob test`.
#[derive(Debug, Clone, clap::Args)]
pub struct TestArgs {
    /// Run once, then again after each save: check the packages the saved files can affect
    /// (dependents included), then run their tests. Keys: Enter rerun, a all, f failed,
    /// c clear, q quit.
    #[arg(long, conflicts_with_all = [
        "dry_run", "archive", "from_archive", "shard", "since", "failed",
    ])]
    pub watch: bool,
    /// Print the exact go commands and the test binaries' runs (dir, env, flags), in order,
    /// and run nothing.
    #[arg(long, conflicts_with_all = ["json", "junit", "timings_out"])]
    pub dry_run: bool,
    /// The suites to run.
    #[command(flatten)]
    pub selection: SuiteSelection,
    /// Run only the K-th of N shards of the selected packages, balanced by recorded time.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::plan::shard::ShardSpec>,
    /// Compile the selected suites' test binaries and write them, with their testdata and the
    /// suites' `include` files, to the archive PATH (tar + zstd); run nothing.
    #[arg(long, value_name = "PATH", conflicts_with_all = [
        "from_archive", "shard", "dry_run", "json", "junit", "retries", "timings_out",
        "remote_exec", "remote_exec_strict", "coverprofile", "cover_html", "cover_xml",
    ])]
    pub archive: Option<PathBuf>,
    /// Run the test binaries of the archive PATH (no go, source tree or manifest needed).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["since", "remote_exec", "remote_exec_strict"])]
    pub from_archive: Option<PathBuf>,
    /// With --from-archive: extract into DIR (default .gob/archive in the current dir).
    #[arg(long, value_name = "DIR", requires = "from_archive")]
    pub extract_dir: Option<PathBuf>,
    /// With --shard: take the split from PATH (written by `gob shards N --plan PATH`).
    #[arg(long, value_name = "PATH", requires = "shard")]
    pub shard_plan: Option<PathBuf>,
    /// Write the measured times here (default: the timing history, or
    /// .gob/timings-shard-K-of-N.json with --shard).
    #[arg(long, value_name = "PATH")]
    pub timings_out: Option<PathBuf>,
    /// Print test2json events and gob's own events as JSON lines on stdout (human output
    /// goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Write a JUnit XML report to PATH.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Run each failed test once more, up to N times (overrides every suite's `retries`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub retries: Option<u32>,
    /// More failed tests than this in one package is not flakiness: the package is not
    /// retried.
    #[arg(long, value_name = "M", default_value_t = 10)]
    pub max_retried_failures: usize,
    /// Run only the tests that failed in the last run of the selected suites.
    #[arg(long)]
    pub failed: bool,
    /// Run only the test packages the changes since REF can affect: those whose inputs, as go
    /// sees them, differ between the merge base of REF and HEAD and the work tree (git).
    #[arg(long, value_name = "REF")]
    pub since: Option<String>,
    /// With --since: fail (exit 2) when go cannot list the packages at the merge base,
    /// instead of running every package of the suite.
    #[arg(long, requires = "since")]
    pub since_strict: bool,
    /// With --since: say why each package is selected (the first input that differs, the
    /// import chain); with --json, every package's choice and every difference as
    /// `gob-selection` events.
    #[arg(long, requires = "since")]
    pub explain: bool,
    /// Run only tests matching PATTERN (passed to the test binaries as -test.run).
    #[arg(long, value_name = "PATTERN")]
    pub run: Option<String>,
    /// Run integration suites' test binaries on the REAPI cluster of `[exec]`, or at URL
    /// (grpc:// or grpcs://), even when `[exec] enabled = false`.
    #[arg(long, value_name = "URL", num_args = 0..=1, require_equals = true,
          default_missing_value = "", conflicts_with = "no_remote_exec")]
    pub remote_exec: Option<String>,
    /// Run every test binary on this machine, even when `[exec]` names a cluster.
    #[arg(long)]
    pub no_remote_exec: bool,
    /// A remote-execution failure (unreachable, no worker, lost operation) fails the run
    /// instead of running those binaries locally.
    #[arg(long, conflicts_with = "no_remote_exec")]
    pub remote_exec_strict: bool,
    /// Write one coverage profile (go's text format) of everything the run executed: unit
    /// and integration suites, retries, remote runs, and `cover_binaries` suites' binaries.
    #[arg(long, value_name = "PATH")]
    pub coverprofile: Option<PathBuf>,
    /// The coverage counter mode: set, count or atomic (default: set; atomic when a selected
    /// suite uses -race).
    #[arg(long, value_name = "MODE")]
    pub covermode: Option<String>,
    /// Write the coverage profile as go tool cover's HTML view to PATH.
    #[arg(long, value_name = "PATH")]
    pub cover_html: Option<PathBuf>,
    /// Write the coverage profile as Cobertura XML (GitLab, Jenkins) to PATH.
    #[arg(long, value_name = "PATH")]
    pub cover_xml: Option<PathBuf>,
    /// Build the test binaries with coverage, so that a run from the archive (--archive) can
    /// write a profile.
    #[arg(long)]
    pub cover: bool,
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
    crate::go::duration::parse_go_duration(text)
        .ok_or_else(|| format!("`{text}` is not a duration like 5s, 1m30s or 500ms"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("gob").chain(args.iter().copied()))
    }

    fn ok(args: &[&str]) -> Cli {
        parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_before_or_after_the_subcommand() {
        let before = ok(&["-C", "ws", "-j", "3", "--no-wait", "build"]);
        let after = ok(&["build", "-C", "ws", "-j", "3", "--no-wait"]);
        for cli in [before, after] {
            assert_eq!(cli.chdir.as_deref(), Some(Path::new("ws")));
            assert_eq!(cli.jobs, Some(3));
            assert!(cli.no_wait);
        }
        assert!(
            parse(&["-j", "0", "build"]).is_err(),
            "-j must be at least 1"
        );
        assert!(parse(&["-j", "x", "build"]).is_err());
    }

    #[test]
    fn grace_takes_go_durations_and_refuses_the_rest() {
        assert_eq!(
            ok(&["--grace", "1m30s", "build"]).grace,
            Some(Duration::from_secs(90))
        );
        for bad in ["5", "soon", "0s", "99999999999999999999h"] {
            assert!(parse(&["--grace", bad, "build"]).is_err(), "{bad}");
        }
    }

    #[test]
    fn build_options() {
        let Command::Build(args) = ok(&[
            "build",
            "alpha",
            "beta",
            "--dry-run",
            "--out-dir",
            "d",
            "--json",
        ])
        .command
        else {
            panic!("not build");
        };
        assert_eq!(args.names, ["alpha", "beta"]);
        assert!(args.dry_run && args.json);
        assert_eq!(args.out_dir.as_deref(), Some(Path::new("d")));
    }

    #[test]
    fn test_options_and_the_arguments_after_dashes() {
        let Command::Test(args) = ok(&[
            "test",
            "integ",
            "--integ",
            "--shard",
            "2/3",
            "--run",
            "TestA",
            "--dry-run",
            "--",
            "-test.count=1",
        ])
        .command
        else {
            panic!("not test");
        };
        assert_eq!(args.selection.suites, ["integ"]);
        assert!(args.selection.integ && args.dry_run);
        assert_eq!(args.shard.map(|s| (s.index, s.count)), Some((2, 3)));
        assert_eq!(args.binary_args(), ["-test.run=TestA", "-test.count=1"]);
        for writes in ["--junit=j.xml", "--json", "--timings-out=t.json"] {
            assert!(
                parse(&["test", "--dry-run", writes]).is_err(),
                "a dry run reports nothing: {writes}"
            );
        }
        for bad in ["0/3", "4/3", "x", "1/100000"] {
            assert!(parse(&["test", "--shard", bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn remote_exec_options() {
        let test = |args: &[&str]| match ok(args).command {
            Command::Test(args) => args,
            _ => panic!("not test"),
        };
        assert_eq!(
            test(&["test", "--remote-exec"]).remote_exec.as_deref(),
            Some("")
        );
        let url = test(&[
            "test",
            "--remote-exec=grpc://bb:8980",
            "--remote-exec-strict",
        ]);
        assert_eq!(url.remote_exec.as_deref(), Some("grpc://bb:8980"));
        assert!(url.remote_exec_strict);
        assert!(test(&["test", "--no-remote-exec"]).no_remote_exec);
        assert_eq!(test(&["test"]).remote_exec, None);
        // The URL needs `=`: a suite name after the flag stays a suite name.
        assert_eq!(
            test(&["test", "--remote-exec", "integ"]).selection.suites,
            ["integ"]
        );
        assert!(parse(&["test", "--remote-exec", "--no-remote-exec"]).is_err());
        assert!(parse(&["test", "--remote-exec-strict", "--no-remote-exec"]).is_err());
    }

    #[test]
    fn shards_count_is_at_least_one() {
        assert!(matches!(
            ok(&["shards", "4"]).command,
            Command::Shards(ShardsArgs { count: 4, .. })
        ));
        assert!(parse(&["shards", "0"]).is_err());
        assert!(parse(&["shards"]).is_err());
    }

    #[test]
    fn check_analyze_and_cacheprog_options() {
        assert!(matches!(
            ok(&["check", "--dry-run"]).command,
            Command::Check(CheckArgs { dry_run: true, .. })
        ));
        let Command::Analyze(args) =
            ok(&["analyze", "--test", "integ", "--warm", "--top", "3"]).command
        else {
            panic!("not analyze");
        };
        assert_eq!(
            (args.test.as_deref(), args.warm, args.top),
            (Some("integ"), true, 3)
        );
        assert!(matches!(
            ok(&["analyze", "why", "k8s.io/client-go"]).command,
            Command::Analyze(AnalyzeArgs {
                why: Some(AnalyzeCommand::Why { .. }),
                ..
            })
        ));
        let Command::Cacheprog(args) = ok(&["cacheprog", "--dir", "d", "--timeout", "2s"]).command
        else {
            panic!("not cacheprog");
        };
        assert_eq!(args.timeout, Duration::from_secs(2));
        assert_eq!(args.auth_header, "Authorization");
        assert!(parse(&["cacheprog"]).is_err(), "--dir is required");
    }

    #[test]
    fn environment_fallbacks_and_the_command_line_wins() {
        // The only test that sets these variables; clap reads them at parse time.
        // SAFETY: std serializes its own environment reads and writes, and nothing in this
        // test binary reads the environment through libc while tests run.
        unsafe {
            std::env::set_var("GOB_GRACE", "7s");
            std::env::set_var("GOB_TIMINGS", "from-env.json");
        }
        let cli = ok(&["test"]);
        assert_eq!(cli.grace, Some(Duration::from_secs(7)));
        let Command::Test(args) = cli.command else {
            panic!()
        };
        assert_eq!(
            args.selection.timings.as_deref(),
            Some(Path::new("from-env.json"))
        );
        let cli = ok(&["--grace", "1s", "test", "--timings", "flag.json"]);
        assert_eq!(cli.grace, Some(Duration::from_secs(1)));
        let Command::Test(args) = cli.command else {
            panic!()
        };
        assert_eq!(
            args.selection.timings.as_deref(),
            Some(Path::new("flag.json"))
        );
        unsafe {
            std::env::remove_var("GOB_GRACE");
            std::env::remove_var("GOB_TIMINGS");
        }
    }

    #[test]
    fn relative_paths_are_taken_from_the_start_dir_not_from_c() {
        let mut cli = ok(&[
            "-C",
            "ws",
            "--manifest",
            "m.toml",
            "test",
            "--junit",
            "j.xml",
            "--timings",
            "/abs/t.json",
        ]);
        cli.resolve_paths(Path::new("/start"));
        assert_eq!(cli.chdir.as_deref(), Some(Path::new("/start/ws")));
        assert_eq!(cli.manifest.as_deref(), Some(Path::new("/start/m.toml")));
        let Command::Test(args) = cli.command else {
            panic!()
        };
        assert_eq!(args.junit.as_deref(), Some(Path::new("/start/j.xml")));
        assert_eq!(
            args.selection.timings.as_deref(),
            Some(Path::new("/abs/t.json"))
        );
    }

    #[test]
    fn only_printing_commands_may_end_by_sigpipe() {
        for (args, prints) in [
            (&["list"][..], true),
            (&["env"], true),
            (&["build", "--dry-run"], true),
            (&["test", "--dry-run"], true),
            (&["build"], false),
            (&["test"], false),
            (&["init"], false),
        ] {
            assert_eq!(ok(args).command.only_prints(), prints, "{args:?}");
        }
    }
}
