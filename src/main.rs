//! gob: a build orchestrator for Go projects.
//!
//! Pipeline: manifest → workspace (`go list`) → CPU budget → plan (pure data) → exec → report.

mod budget;
mod cli;
mod commands;
mod context;
mod error;
mod events;
mod exec;
mod exit;
mod gotool;
mod goversion;
mod manifest;
mod paths;
mod plan;
mod publish;
mod report;
mod runners;
mod suites;
mod toolexec;
mod workspace;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use context::Globals;
use error::GobError;
use exit::Exit;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if toolexec::is_wrapper_call(&args) {
        return toolexec::wrapper_main(&args);
    }
    let cli = Cli::parse();
    install_miette_hook();
    match run(cli) {
        Ok(()) => Exit::Success.into(),
        Err(error) => {
            error.render();
            error.exit().into()
        }
    }
}

fn run(cli: Cli) -> Result<(), GobError> {
    let cwd = std::env::current_dir().map_err(|source| GobError::Io {
        action: "cannot read the current directory",
        path: ".".into(),
        source,
    })?;
    let cwd = match &cli.chdir {
        Some(dir) => {
            let dir = cwd.join(dir);
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
    };
    match &cli.command {
        Command::Build(args) => block_on(commands::build::run(&globals, args)),
        Command::Test(args) => block_on(commands::test::run(&globals, args)),
        Command::Check => block_on(commands::check::run(&globals)),
        Command::Env(args) => commands::env::run(&globals, args),
    }
}

fn block_on<F: std::future::Future<Output = Result<(), GobError>>>(
    future: F,
) -> Result<(), GobError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| GobError::Io {
            action: "cannot start the async runtime",
            path: ".".into(),
            source,
        })?;
    runtime.block_on(future)
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
