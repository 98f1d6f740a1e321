//! `gob check [SUITE...]`: compile and type-check the suites' packages and tests (every
//! suite, or those named) without linking or running (the rounds of [`crate::plan::check`]).

use std::path::Path;
use std::time::Instant;

use crate::base::state::CHECK_DIR;
use crate::cli::CheckArgs;
use crate::commands::context::{Context, Globals, load_manifest, write_file as write};
use crate::commands::selection::Narrow;
use crate::error::GobError;
use crate::exec::{Outcome, run_lines};
use crate::plan::check::{CheckRound, CheckSuite, plain_packages, plan_check, typecheck_command};
use crate::plan::command::GoCommand;
use crate::plan::goflags::{JSON, drop_goflags};

/// Runs `gob check`.
pub async fn run(globals: &Globals, args: &CheckArgs) -> Result<(), GobError> {
    check(globals, args, None).await.map(|_| ())
}

/// Checks the suites' packages, those `narrow` keeps of them when given; returns how many
/// packages were checked (none: nothing to check, and nothing ran).
pub async fn check(
    globals: &Globals,
    args: &CheckArgs,
    narrow: Option<Narrow<'_>>,
) -> Result<usize, GobError> {
    let started = Instant::now();
    let manifest = load_manifest(globals)?;
    let ctx =
        Context::load(globals, &manifest.workspace_dir)?.with_remote_cache(&manifest.cache)?;
    ctx.print_warnings();
    if !args.dry_run {
        // What runs: go lists, compiles and vets with this toolchain, and the type checker
        // is built with it and reads its export data.
        eprintln!(
            "gob: checking with {} ({})",
            ctx.go_env.goversion, ctx.go_env.goroot
        );
    }
    // The suites named, else every suite (unit and integration alike).
    let specs: Vec<_> = if args.suites.is_empty() {
        manifest.suites.iter().collect()
    } else {
        crate::workspace::suites::select(&manifest, &args.suites, false)?
    };
    // Generated code the packages need comes first: `[build] before` and the suites'.
    let tasks = crate::commands::tasks::Tasks::new(&manifest, &ctx);
    let before = manifest
        .build
        .before
        .iter()
        .chain(specs.iter().flat_map(|s| &s.before));
    tasks.run_before(before, args.dry_run, false).await?;
    let expanded = crate::workspace::suites::expand(&manifest, &specs, &ctx.go)?;
    let narrowed = match narrow {
        Some(narrow) => narrow(&ctx, &manifest, &expanded)?,
        None => None,
    };
    let keeps = |suite: usize, package: &str| {
        narrowed
            .as_ref()
            .is_none_or(|s| !s[suite].not_affected.iter().any(|p| p == package))
    };
    let suites: Vec<CheckSuite> = expanded
        .iter()
        .enumerate()
        .map(|(i, s)| CheckSuite {
            tags: s.spec.tags.clone(),
            packages: s
                .packages
                .iter()
                .map(|p| p.import_path.clone())
                .filter(|p| keeps(i, p))
                .collect(),
            vet: s.spec.vet.clone(),
            tested: s
                .test_packages()
                .into_iter()
                .map(|p| p.import_path)
                .filter(|p| keeps(i, p))
                .collect(),
        })
        .filter(|s| narrowed.is_none() || !s.packages.is_empty())
        .collect();
    let packages: usize = suites.iter().map(|s| s.packages.len()).sum();
    if narrowed.is_some() && packages == 0 {
        return Ok(0);
    }
    // A -json in the user's GOFLAGS would turn go list's errors into JSON events.
    let mut env = ctx.command_env();
    drop_goflags(&mut env, &ctx.go_env.goflags, &JSON);
    let rounds = plan_check(&suites);
    let dir = &manifest.workspace_dir;
    let vet_flags = vet_flags(&ctx, &rounds)?;
    if args.dry_run {
        print!(
            "{}",
            crate::plan::dryrun::check(&rounds, &vet_flags, &ctx.go.program, dir, &env)
        );
        return Ok(packages);
    }

    let tools = crate::runners::typecheck::tools_dir(&ctx.go_env.gocache, dir);
    let checker = crate::runners::typecheck::ensure_checker(
        &ctx.go.program,
        &ctx.go_env.goversion,
        &tools,
        &env,
    )
    .await
    .map_err(GobError::Failed)?;
    let mut failed = false;
    for (index, (round, vet)) in rounds.iter().zip(&vet_flags).enumerate() {
        let run = RoundRun {
            round,
            go: &ctx.go.program,
            dir,
            env: &env,
            files: dir.join(CHECK_DIR).join(format!("round-{}", index + 1)),
        };
        failed |= !run.check(&checker, &ctx.go_env.goarch, vet).await?;
    }
    if let Some(crate::report::GobEvent::RemoteCache { summary, .. }) = ctx.remote_cache_event() {
        eprintln!("gob: {summary}");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let names: Vec<String> = specs
        .iter()
        .map(|s| {
            let kind = if s.integ { " (integration)" } else { "" };
            format!("{}{kind}", s.name)
        })
        .collect();
    if failed {
        return Err(GobError::Failed(format!(
            "check failed ({} suite{}: {}) in {elapsed:.1}s",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        )));
    }
    let excluded: usize = expanded.iter().map(|s| s.excluded.len()).sum();
    eprintln!(
        "gob: checked {packages} packages ({excluded} excluded) of {} suite{} [{}] in {} round{} in {elapsed:.1}s, nothing linked",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        names.join(", "),
        rounds.len(),
        if rounds.len() == 1 { "" } else { "s" },
    );
    Ok(packages)
}

/// One round being run: its listings go to files under `files`.
struct RoundRun<'a> {
    round: &'a CheckRound,
    go: &'a str,
    dir: &'a Path,
    env: &'a std::collections::BTreeMap<String, String>,
    files: std::path::PathBuf,
}

impl RoundRun<'_> {
    /// Lists, compiles the plain packages, type-checks the rest, then vets what `go test`
    /// vets (with `vet`, the flags of each of the round's vet groups); false when errors
    /// were reported.
    async fn check(
        &self,
        checker: &Path,
        goarch: &str,
        vet: &[Option<Vec<String>>],
    ) -> Result<bool, GobError> {
        let list = self.files.with_extension("list.json");
        let export = self.files.with_extension("export.json");
        let listing = capture(&self.round.list_command(self.go, self.dir, self.env)).await?;
        write(&list, &listing)?;
        let plain = plain_packages(&listing)
            .map_err(|e| GobError::Failed(format!("go list printed what gob cannot read ({e})")))?;
        let exported = self
            .round
            .export_command(&plain, self.go, self.dir, self.env);
        write(&export, &capture(&exported).await?)?;
        let results = self.round.results_file(&self.dir.join(CHECK_DIR));
        let files = [list.as_path(), export.as_path(), results.as_path()];
        let typecheck = typecheck_command(checker, goarch, files, self.dir, self.env);
        if !succeeded(&typecheck).await? {
            // go test reports a package that does not build, and vets nothing of it.
            return Ok(false);
        }
        let mut clean = true;
        for (group, flags) in self.round.vet.iter().zip(vet) {
            if let Some(flags) = flags {
                let vet = self
                    .round
                    .vet_command(group, flags, self.go, self.dir, self.env);
                clean &= succeeded(&vet).await?;
            }
        }
        Ok(clean)
    }
}

/// Runs `command`, its output to stderr; false when it failed.
async fn succeeded(command: &GoCommand) -> Result<bool, GobError> {
    match run_lines(command, |line| eprintln!("{line}"), None).await? {
        Outcome::Succeeded => Ok(true),
        Outcome::Interrupted(sig) => Err(GobError::Interrupted(sig)),
        Outcome::Failed(_) | Outcome::Signaled(_) | Outcome::TimedOut => Ok(false),
    }
}

/// The vet flags of each round's vet groups, asked of go once per setting (`go test -n`).
fn vet_flags(
    ctx: &Context,
    rounds: &[CheckRound],
) -> Result<Vec<Vec<Option<Vec<String>>>>, GobError> {
    let mut known: Vec<(crate::go::vet::Vet, Option<Vec<String>>)> = Vec::new();
    let mut out = Vec::new();
    for round in rounds {
        let mut flags = Vec::new();
        for group in &round.vet {
            let found = match known.iter().find(|(setting, _)| *setting == group.setting) {
                Some((_, flags)) => flags.clone(),
                None => {
                    let flag = group.setting.flag();
                    let asked =
                        ctx.go
                            .vet_flags(flag.as_deref(), &round.tags, &group.packages[0])?;
                    known.push((group.setting.clone(), asked.clone()));
                    asked
                }
            };
            flags.push(found);
        }
        out.push(flags);
    }
    Ok(out)
}

/// The stdout of `command` (a `go list -e`, which reports package errors in its output and
/// fails only when it cannot run at all; go's own message is on stderr).
async fn capture(command: &GoCommand) -> Result<Vec<u8>, GobError> {
    let mut out = Vec::new();
    let outcome = run_lines(
        command,
        |line| {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        },
        None,
    )
    .await?;
    match outcome {
        Outcome::Succeeded => Ok(out),
        Outcome::Interrupted(sig) => Err(GobError::Interrupted(sig)),
        _ => Err(GobError::Failed(format!("{command} failed"))),
    }
}
