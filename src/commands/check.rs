//! `gob check [SUITE...]`: compile and type-check the suites' packages and tests (every
//! suite, or those named) without linking or running (the rounds of [`crate::plan::check`]).

use std::path::Path;
use std::time::Instant;

use crate::base::state::CHECK_DIR;
use crate::cli::CheckArgs;
use crate::commands::context::{Context, Globals, load_manifest, write_file as write};
use crate::commands::remembered;
use crate::commands::selection::Narrow;
use crate::error::GobError;
use crate::exec::{Outcome, run_lines};
use crate::plan::check::{CheckRound, CheckSuite, plain_packages, plan_check, typecheck_command};
use crate::plan::command::GoCommand;
use crate::plan::goflags::{JSON, drop_goflags};
use crate::workspace::cleancheck;

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
        announce(&ctx.go_env.goversion, &ctx.go_env.goroot);
    }
    // The suites named, else every suite (unit and integration alike).
    let specs: Vec<_> = if args.suites.is_empty() {
        manifest.suites.iter().collect()
    } else {
        crate::workspace::suites::select(&manifest, &args.suites, false)?
    };
    // What go test gives vet is known (go's source) or asked of go while the suites are listed.
    let priming = {
        let go = ctx.go.clone();
        let go_env = ctx.go_env.clone();
        // Per setting, the tag sets of its suites (one probe answers for all of them).
        let mut asks: Vec<(Option<String>, Vec<Vec<String>>)> = Vec::new();
        for spec in specs.iter().filter(|s| s.vet != crate::go::vet::Vet::Off) {
            let (flag, tags) = (spec.vet.flag(), crate::plan::check::round_tags(&spec.tags));
            match asks.iter_mut().find(|(f, _)| *f == flag) {
                Some((_, sets)) => sets.push(tags),
                None => asks.push((flag, vec![tags])),
            }
        }
        std::thread::spawn(move || {
            for (flag, tag_sets) in asks {
                go.prime_vet_flags(flag.as_deref(), &tag_sets, &go_env);
            }
        })
    };
    // Generated code the packages need comes first: `[build] before` and the suites'.
    let tasks = crate::commands::tasks::Tasks::new(&manifest, &ctx);
    let before = manifest
        .build
        .before
        .iter()
        .chain(specs.iter().flat_map(|s| &s.before));
    tasks.run_before(before, args.dry_run, false).await?;
    // A check of everything, as the last one that passed, with nothing changed: its verdict
    // (known before the suites are listed; in a watch cycle, once it is known that the cycle
    // checks everything).
    let mut remembered = None;
    let look_up = |remembered: &mut Option<cleancheck::CheckInputs>| {
        *remembered = (!args.dry_run)
            .then(|| remembered::inputs(&ctx, &manifest, &args.suites))
            .flatten();
        remembered::passed_before(args, &manifest, remembered.as_ref())
    };
    let expand = || crate::workspace::suites::expand(&manifest, &specs, &ctx.go);
    let reusable = !args.force && cleancheck::has_record(&manifest.workspace_dir);
    let expanded = if narrow.is_none() && !reusable {
        // No pass to reuse (a fresh clone, `--force`): the key, for remembering this one,
        // is taken while the suites are listed (go env's first call on a cold cache, ~0.1 s).
        std::thread::scope(|scope| {
            let key = scope.spawn(|| {
                let mut inputs = None;
                look_up(&mut inputs);
                inputs
            });
            let expanded = expand();
            remembered = key.join().unwrap_or(None);
            expanded
        })?
    } else {
        if narrow.is_none()
            && let Some(packages) = look_up(&mut remembered)
        {
            return Ok(packages);
        }
        expand()?
    };
    let narrowed = match narrow {
        Some(narrow) => narrow(&ctx, &manifest, &expanded)?,
        None => None,
    };
    let whole = narrowed
        .as_ref()
        .is_none_or(|s| s.iter().all(|s| s.not_affected.is_empty()));
    if narrowed.is_some()
        && whole
        && let Some(packages) = look_up(&mut remembered)
    {
        return Ok(packages);
    }
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
    // The probe's answers, when it had them, are what vet_flags finds.
    let _ = priming.join();
    let vet_flags = vet_flags(&ctx.go, &rounds)?;
    // gob itself is vet's tool in step 5 (crate::vettool).
    let gob = crate::commands::context::own_executable()?;
    if args.dry_run {
        print!(
            "{}",
            crate::plan::dryrun::check(&rounds, &vet_flags, &gob, &ctx.go.program, dir, &env)
        );
        return Ok(packages);
    }
    let compiler = Path::new(&ctx.go_env.gotooldir).join("compile");
    let mut checker = Checker {
        go: &ctx.go.program,
        go_version: &ctx.go_env.goversion,
        tools: crate::runners::typecheck::tools_dir(&ctx.go_env.gocache, dir),
        env: &env,
        built: None,
    };
    let runs: Vec<RoundRun> = rounds
        .iter()
        .enumerate()
        .map(|(index, round)| {
            let listed: Vec<&crate::workspace::gotool::ListedPackage> = expanded
                .iter()
                .filter(|s| crate::plan::check::round_tags(&s.spec.tags) == round.tags)
                .flat_map(|s| &s.packages)
                .collect();
            // Step 5 compiles only what the compiler alone could reject; its tool is told
            // about every package of the round's suites, whatever this check narrows them to.
            let compiled = crate::workspace::compilecheck::compiled(&round.packages, &listed);
            let config = round.compile_config_file(&dir.join(CHECK_DIR));
            if !compiled.is_empty() {
                let told = crate::workspace::compilecheck::compile_check(
                    listed.iter().copied(),
                    &compiler,
                );
                let json = serde_json::to_vec_pretty(&told)
                    .map_err(|e| GobError::Failed(e.to_string()))?;
                write(&config, &json)?;
            }
            Ok(RoundRun {
                round,
                go: &ctx.go.program,
                dir,
                env: &env,
                files: dir.join(CHECK_DIR).join(format!("round-{}", index + 1)),
                tool: [gob.clone(), config],
                compiled,
            })
        })
        .collect::<Result<_, GobError>>()?;
    let mut shown = Shown::default();
    let shorts = short_forms(&runs, &vet_flags, &mut shown).await?;
    let mut failed = false;
    for ((run, vet), short) in runs.iter().zip(&vet_flags).zip(shorts) {
        let findings = match short {
            Some(Short::Passed) => continue,
            Some(Short::Failed(output)) => Some(output),
            None => None,
        };
        failed |= !run
            .check_in_full(&mut checker, &ctx.go_env.goarch, vet, findings, &mut shown)
            .await?;
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
    if let Some(inputs) = &remembered {
        match failed {
            false => cleancheck::remember(dir, inputs, packages),
            true => cleancheck::forget(dir),
        }
    }
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

/// Says which go checks: go lists, compiles and vets with it, and the type checker is built
/// with it and reads its export data. Once per process, and again only if it changes (a
/// watch checks every cycle).
fn announce(goversion: &str, goroot: &str) {
    static LAST: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
    let line = format!("gob: checking with {goversion} ({goroot})");
    let mut last = LAST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if last.as_deref() != Some(line.as_str()) {
        eprintln!("{line}");
        *last = Some(line);
    }
}

/// One round being run: its listings go to files under `files`.
struct RoundRun<'a> {
    round: &'a CheckRound,
    go: &'a str,
    dir: &'a Path,
    env: &'a std::collections::BTreeMap<String, String>,
    files: std::path::PathBuf,
    /// Step 5's tool (gob) and the file that tells it about the round's packages.
    tool: [std::path::PathBuf; 2],
    /// The packages step 5 compiles.
    compiled: Vec<String>,
}

/// What the check has printed of go's and the type checker's reports: an error that two
/// rounds both find (a package in two suites' tag sets) is printed once.
#[derive(Default)]
struct Shown(std::collections::HashSet<String>);

impl Shown {
    /// Prints the report blocks of `lines` not printed before.
    fn print(&mut self, lines: &[String]) {
        for line in crate::go::errblocks::unseen(lines, &mut self.0) {
            eprintln!("{line}");
        }
    }
}

/// gob's type checker, built when a round first needs it (a round that vet checks whole
/// and that passes never does).
struct Checker<'a> {
    go: &'a str,
    go_version: &'a str,
    tools: std::path::PathBuf,
    env: &'a std::collections::BTreeMap<String, String>,
    built: Option<std::path::PathBuf>,
}

impl Checker<'_> {
    /// The checker's path, building it first when this machine has none for this go.
    async fn path(&mut self) -> Result<std::path::PathBuf, GobError> {
        if let Some(path) = &self.built {
            return Ok(path.clone());
        }
        let path = crate::runners::typecheck::ensure_checker(
            self.go,
            self.go_version,
            &self.tools,
            self.env,
        )
        .await
        .map_err(GobError::Failed)?;
        self.built = Some(path.clone());
        Ok(path)
    }
}

impl RoundRun<'_> {
    /// The short form's step 4: vet the round's packages (which type-checks their tests and
    /// compiles what they need) with `vet`, the flags of each of its vet groups, its output
    /// held back; whether vet passed.
    async fn vet(&self, vet: &[Option<Vec<String>>]) -> Result<(bool, Vec<String>), GobError> {
        let mut output = Vec::new();
        let mut clean = true;
        for vet in self.round.vet_commands(vet, self.go, self.dir, self.env) {
            clean &= succeeded_into(&vet, &mut output).await?;
        }
        Ok((clean, output))
    }

    /// Step 5's command (see [`CheckRound::compile_command`]); none when no package needs
    /// the compiler.
    fn compile_command(&self) -> Option<GoCommand> {
        let [gob, config] = &self.tool;
        (!self.compiled.is_empty()).then(|| {
            self.round
                .compile_command(&self.compiled, [gob, config], self.go, self.dir, self.env)
        })
    }

    /// The short form's step 5: gob compiles the packages only the compiler may reject.
    async fn compile(&self) -> Result<Short, GobError> {
        let mut errors = Vec::new();
        let Some(compile) = self.compile_command() else {
            return Ok(Short::Passed);
        };
        Ok(match succeeded_into(&compile, &mut errors).await? {
            true => Short::Passed,
            false => Short::Failed(errors),
        })
    }

    /// The full form: lists, compiles the plain packages, type-checks the rest, then vets
    /// what `go test` vets and compiles the tests. `findings`: what the short form printed
    /// when it ran and failed (vet's findings or the compiler's errors); shown instead of
    /// vetting and compiling again when the type checker finds nothing.
    async fn check_in_full(
        &self,
        checker: &mut Checker<'_>,
        goarch: &str,
        vet: &[Option<Vec<String>>],
        findings: Option<Vec<String>>,
        shown: &mut Shown,
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
        let typecheck =
            typecheck_command(&checker.path().await?, goarch, files, self.dir, self.env);
        let mut reports = Vec::new();
        let typechecked = succeeded_into(&typecheck, &mut reports).await?;
        shown.print(&reports);
        if !typechecked {
            // go test reports a package that does not build, and vets nothing of it.
            return Ok(false);
        }
        if let Some(findings) = findings {
            shown.print(&findings);
            return Ok(false);
        }
        let mut clean = true;
        let compile = self.compile_command();
        for command in self
            .round
            .vet_commands(vet, self.go, self.dir, self.env)
            .iter()
            .chain(compile.as_ref())
        {
            let mut findings = Vec::new();
            clean &= succeeded_into(command, &mut findings).await?;
            shown.print(&findings);
        }
        Ok(clean)
    }
}

/// The short form of each round that may take it (`None` for the others: a `vet = "off"`
/// suite, or go test vets nothing): vet, then compile (see [`crate::plan::check`]). A
/// round's compile runs while the next round's vet does: the compile needs what its own vet
/// built, the next vet mostly what the rounds before built, so the two seldom do the same
/// work, and with nothing to do each is mostly go reading its cache.
async fn short_forms(
    runs: &[RoundRun<'_>],
    vet_flags: &RoundsVetFlags,
    shown: &mut Shown,
) -> Result<Vec<Option<Short>>, GobError> {
    let mut shorts: Vec<Option<Short>> = runs.iter().map(|_| None).collect();
    let mut compiling = None;
    for (index, (run, vet)) in runs.iter().zip(vet_flags).enumerate() {
        if !run.round.vet_checks_tests(vet) {
            continue;
        }
        let ((clean, output), compiled) = match compiling.take() {
            Some((earlier, compile)) => {
                let (vetted, compiled) = futures_util::future::join(run.vet(vet), compile).await;
                (vetted?, Some((earlier, compiled?)))
            }
            None => (run.vet(vet).await?, None),
        };
        if let Some((earlier, short)) = compiled {
            shorts[earlier] = Some(short);
        }
        if clean {
            shown.print(&output);
            compiling = Some((index, run.compile()));
        } else {
            shorts[index] = Some(Short::Failed(output));
        }
    }
    if let Some((earlier, compile)) = compiling {
        shorts[earlier] = Some(compile.await?);
    }
    Ok(shorts)
}

/// How a round's short form ended.
enum Short {
    /// Compiled and vetted clean.
    Passed,
    /// Something failed: what vet or go printed.
    Failed(Vec<String>),
}

/// Runs `command`, its output (stdout and stderr) kept in `output`; false when it failed.
async fn succeeded_into(command: &GoCommand, output: &mut Vec<String>) -> Result<bool, GobError> {
    let outcome = crate::exec::run_merged(command, |line| output.push(line.to_string())).await?;
    outcome_passed(outcome)
}

/// Whether a command's `outcome` is a pass; an interrupt is an error.
fn outcome_passed(outcome: Outcome) -> Result<bool, GobError> {
    match outcome {
        Outcome::Succeeded => Ok(true),
        Outcome::Interrupted(sig) => Err(GobError::Interrupted(sig)),
        Outcome::Failed(_) | Outcome::Signaled(_) | Outcome::TimedOut => Ok(false),
    }
}

/// Per round, per vet group: the flags go test gives vet, `None` when it vets nothing.
type RoundsVetFlags = Vec<Vec<Option<Vec<String>>>>;

/// The vet flags of each round's vet groups, asked of go once per setting (`go test -n`).
fn vet_flags(
    go: &crate::workspace::gotool::GoTool,
    rounds: &[CheckRound],
) -> Result<RoundsVetFlags, GobError> {
    let mut known: Vec<(crate::go::vet::Vet, Option<Vec<String>>)> = Vec::new();
    let mut out = Vec::new();
    for round in rounds {
        let mut flags = Vec::new();
        for group in &round.vet {
            let found = match known.iter().find(|(setting, _)| *setting == group.setting) {
                Some((_, flags)) => flags.clone(),
                None => {
                    let flag = group.setting.flag();
                    let asked = go.vet_flags(flag.as_deref(), &round.tags, &group.packages[0])?;
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
