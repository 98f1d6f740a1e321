//! gob: a build orchestrator for Go projects.
//!
//! Pipeline, one folder per stage: manifest → workspace (everything that asks go) → budget
//! → plan (pure data) → exec → runners → report → commands, over a bottom layer (`base`,
//! `go`). `layers.rs` holds the order and checks that imports follow it.

mod analyze;
mod base;
mod budget;
mod cacheprog;
mod cli;
mod commands;
mod error;
mod exec;
mod go;
#[cfg(test)]
mod layers;
mod manifest;
mod plan;
mod reapi;
mod report;
mod runners;
mod testexec;
mod vettool;
mod workspace;

use std::process::ExitCode;

use clap::Parser;

use base::exit::Exit;
use cli::{Cli, Command};
use commands::context::Globals;
use error::GobError;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if testexec::is_exec_call(&args) {
        return testexec::exec_main(&args);
    }
    if vettool::is_vettool_call() {
        return vettool::vettool_main(&args);
    }
    let cli = Cli::parse();
    install_miette_hook();
    let result = run(cli);
    if let Err(error) = &result {
        error.render();
    }
    // A run stopped by a signal exits 130 (SIGINT) or 143 (SIGTERM), whatever else happened.
    let exit = match (exec::shutdown::requested(), result) {
        (Some(sig), _) => Exit::for_signal(sig),
        (None, Ok(())) => Exit::Success,
        (None, Err(error)) => error.exit(),
    };
    exit.into()
}

fn run(mut cli: Cli) -> Result<(), GobError> {
    let cwd = std::env::current_dir().map_err(|source| GobError::Io {
        action: "cannot read the current directory",
        path: ".".into(),
        source,
    })?;
    cli.resolve_paths(&cwd);
    let cwd = match &cli.chdir {
        Some(dir) => {
            let dir = dir.clone();
            if !dir.is_dir() {
                return Err(GobError::Io {
                    action: "-C: not a directory:",
                    path: dir,
                    source: std::io::ErrorKind::NotFound.into(),
                });
            }
            dir
        }
        None => cwd,
    };
    let globals = Globals {
        cwd,
        manifest: cli.manifest.clone(),
        jobs: cli.jobs.map(usize::from),
        no_wait: cli.no_wait,
    };
    let grace = cli.grace.unwrap_or(exec::shutdown::DEFAULT_GRACE);
    if cli.command.only_prints() {
        // Rust ignores SIGPIPE, so printing to a closed pipe (`gob list | head -1`) would
        // panic; a command that only prints ends quietly instead, as Unix tools do (exit
        // 141 in a shell). Commands that run children keep handling it themselves.
        // SAFETY: called before any thread is started; SIG_DFL is a valid disposition.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match &cli.command {
        Command::Build(args) => block_on(grace, commands::build::run(&globals, args)),
        Command::Test(args) if args.watch => block_on(grace, commands::watch::test(&globals, args)),
        Command::Test(args) => block_on(grace, commands::test::run(&globals, args)),
        Command::Run(args) => block_on(grace, commands::run::run(&globals, args)),
        Command::Check(args) if args.watch => {
            block_on(grace, commands::watch::check(&globals, args))
        }
        Command::Check(args) => block_on(grace, commands::check::run(&globals, args)),
        Command::Env(args) => commands::env::run(&globals, args),
        Command::Shards(args) => commands::shards::run(&globals, args),
        Command::Analyze(args) => block_on(grace, commands::analyze::run(&globals, args)),
        Command::List => commands::list::run(&globals),
        Command::Affected(args) => commands::affected::run(&globals, args),
        Command::Test2json(args) => commands::test2json::run(args),
        Command::Timings(args) => commands::timings::run(args),
        Command::Cover(args) => commands::cover::run(args),
        Command::Init => commands::init::run(&globals),
        Command::Cacheprog(args) => commands::cacheprog::run(args),
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(args.shell, &mut command, "gob", &mut std::io::stdout());
            Ok(())
        }
        Command::Man(args) => commands::help::man(args),
        Command::Help(args) => commands::help::run(args),
    }
}

/// Runs a command on a current-thread runtime that owns SIGINT/SIGTERM from the start.
fn block_on<F: std::future::Future<Output = Result<(), GobError>>>(
    grace: std::time::Duration,
    future: F,
) -> Result<(), GobError> {
    exec::runtime()
        .map_err(|source| GobError::Io {
            action: "cannot start the async runtime",
            path: ".".into(),
            source,
        })?
        .block_on(async {
            exec::shutdown::install(grace).map_err(|source| GobError::Io {
                action: "cannot handle signals",
                path: ".".into(),
                source,
            })?;
            future.await
        })
}

/// Graphical miette output; colors only on a terminal and without NO_COLOR.
fn install_miette_hook() {
    use std::io::IsTerminal;
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(color)
                .unicode(color)
                .terminal_links(false)
                .context_lines(1)
                .build(),
        )
    }));
}
