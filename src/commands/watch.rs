//! `gob check --watch` and `gob test --watch`: run once, then after each save run only what
//! the saved files can affect ([`crate::plan::watch`], by `--since`'s rules against the last
//! complete cycle), `gob test` checking those packages first and testing them only when the
//! check passes. A save during a cycle cancels it (its children stopped as Ctrl-C stops
//! them) and the next cycle takes both saves. Keys in a terminal, lines on stdin elsewhere;
//! a status line after each cycle, or a `gob-watch-cycle` JSON event with `--json`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::base::state::{FAILED_FILE, STATE_DIR};
use crate::cli::{CheckArgs, TestArgs};
use crate::commands::context::{Context, Globals, load_manifest};
use crate::commands::selection::Narrow;
use crate::error::GobError;
use crate::exec::shutdown;
use crate::manifest::Manifest;
use crate::plan::affected::{Selection, Sides};
use crate::plan::watch::{Asked, Request, Trigger, choose, everything, request};
use crate::report::watch::{CycleEvent, CycleResult, status_line};
use crate::workspace::listmemo::Guard;
use crate::workspace::since::{Current, current, settings_differ};
use crate::workspace::suites::ExpandedSuite;
use crate::workspace::treedigest::workspace_roots;
use crate::workspace::watch::Watch;

/// `gob check --watch`.
pub async fn check(globals: &Globals, args: &CheckArgs) -> Result<(), GobError> {
    watch(globals, Job::Check(args), args.json).await
}

/// `gob test --watch`.
pub async fn test(globals: &Globals, args: &TestArgs) -> Result<(), GobError> {
    watch(globals, Job::Test(args), args.json).await
}

/// What each cycle runs.
#[derive(Clone, Copy)]
enum Job<'a> {
    Check(&'a CheckArgs),
    Test(&'a TestArgs),
}

/// What the watch remembers between cycles.
#[derive(Default)]
struct Memory {
    /// Each suite as the last complete cycle saw it.
    base: BTreeMap<String, Current>,
    /// The manifest's text then.
    manifest: String,
    /// What the last cycle selected, per suite.
    last: BTreeMap<String, Selection>,
    /// Packages watched (in the suites), as the last cycle counted them.
    watched: usize,
}

/// What a cycle decided once the suites were expanded.
#[derive(Default)]
struct Decision {
    sides: BTreeMap<String, Current>,
    manifest: String,
    selections: BTreeMap<String, Selection>,
    /// The packages selected, per suite (all of them when the cycle runs everything).
    affected: BTreeMap<String, Vec<String>>,
    watched: usize,
}

impl Memory {
    /// Decides what each suite runs for `trigger`, reading every suite as it is now.
    fn decide(
        &self,
        trigger: &Trigger,
        ctx: &Context,
        manifest: &Manifest,
        expanded: &[ExpandedSuite],
    ) -> Result<(Decision, Vec<Selection>), GobError> {
        let mut decision = Decision {
            manifest: manifest.text.to_string(),
            ..Default::default()
        };
        let mut narrowed = Vec::new();
        let mut watched = BTreeSet::new();
        let record = super::retries::load_failed(&manifest.workspace_dir.join(FAILED_FILE));
        // Each suite's closures at once (a go list per tag set, answered from go's cache).
        let go = &ctx.go;
        let currents: Vec<_> = std::thread::scope(|scope| {
            let reads: Vec<_> = expanded
                .iter()
                .map(|suite| scope.spawn(move || current(go, &manifest.workspace_dir, suite)))
                .collect();
            reads.into_iter().map(|read| read.join()).collect()
        });
        for (suite, now) in expanded.iter().zip(currents) {
            let name = &suite.spec.name;
            let packages: Vec<String> = suite
                .packages
                .iter()
                .map(|p| p.import_path.clone())
                .collect();
            watched.extend(packages.iter().cloned());
            let now = now
                .map_err(|_| GobError::Failed("reading a suite's closures failed".into()))?
                .map_err(|e| GobError::Failed(e.to_string()))?;
            let settings = settings_differ(&manifest.text, &self.manifest, name);
            let sides = self.base.get(name).map(|base| Sides {
                now: &now.snapshot,
                base: Ok(&base.snapshot),
                settings: &settings,
                inputs_now: &now.inputs,
                inputs_base: &base.inputs,
            });
            let failed: Vec<String> = record
                .get(name)
                .map(|packages| packages.keys().cloned().collect())
                .unwrap_or_default();
            let last = self.last.get(name);
            let selection = choose(trigger, &packages, sides.as_ref(), last, &failed)
                .unwrap_or_else(|| everything(&packages));
            let affected = selection.selected.iter().map(|(p, _)| p.clone()).collect();
            decision.affected.insert(name.clone(), affected);
            decision.selections.insert(name.clone(), selection.clone());
            decision.sides.insert(name.clone(), now);
            narrowed.push(selection);
        }
        decision.watched = watched.len();
        Ok((decision, narrowed))
    }

    /// Takes what a complete cycle saw as the base of the next.
    fn advance(&mut self, decision: Decision) {
        self.base = decision.sides;
        self.manifest = decision.manifest;
        self.last = decision.selections;
        self.watched = decision.watched;
    }
}

/// How a cycle ended.
struct CycleEnd {
    result: CycleResult,
    /// What it decided, when it got that far.
    decision: Option<Decision>,
    /// Whether the next cycle compares with what this one saw.
    complete: bool,
}

/// Runs one cycle of `job` for `trigger`.
async fn cycle(
    globals: &Globals,
    job: Job<'_>,
    memory: &Memory,
    trigger: &Trigger,
) -> Result<CycleEnd, GobError> {
    let mut decided: Option<Decision> = None;
    let mut narrow = |ctx: &Context, manifest: &Manifest, expanded: &[ExpandedSuite]| {
        let (decision, narrowed) = memory.decide(trigger, ctx, manifest, expanded)?;
        decided = Some(decision);
        Ok(Some(narrowed))
    };
    let checked = match job {
        Job::Check(args) => super::check::check(globals, args, Some(&mut narrow)).await,
        Job::Test(args) => match suite_names(globals, args) {
            Ok(suites) => {
                let check = CheckArgs {
                    suites,
                    dry_run: false,
                    watch: false,
                    json: false,
                    force: false,
                };
                super::check::check(globals, &check, Some(&mut narrow)).await
            }
            Err(error) => Err(error),
        },
    };
    let result = match (checked, job) {
        (Ok(0), _) => CycleResult::Nothing,
        (Ok(_), Job::Check(_)) => CycleResult::Passed,
        (Ok(_), Job::Test(args)) => {
            let by_name = decided.as_ref().map(|d| d.selections.clone());
            let mut again = |_: &Context, _: &Manifest, expanded: &[ExpandedSuite]| {
                let chosen = expanded
                    .iter()
                    .map(|s| {
                        by_name
                            .as_ref()
                            .and_then(|b| b.get(&s.spec.name).cloned())
                            .unwrap_or_default()
                    })
                    .collect();
                Ok(Some(chosen))
            };
            let mut args = args.clone();
            args.watch = false;
            args.failed = *trigger == Trigger::Failed;
            let narrow: Option<Narrow> = match trigger {
                Trigger::Failed => None,
                _ => Some(&mut again),
            };
            outcome(super::test::test(globals, &args, narrow).await)?
        }
        (Err(GobError::Failed(_)), Job::Test(_)) => CycleResult::CheckFailed,
        (checked, _) => outcome(checked.map(|_| ()))?,
    };
    // A cycle whose check held the tests back, or that was cancelled, leaves the base.
    let complete = matches!(
        result,
        CycleResult::Passed | CycleResult::Failed | CycleResult::Nothing
    );
    Ok(CycleEnd {
        result,
        decision: decided,
        complete,
    })
}

/// The suites `gob test` selects, by name (what its check checks).
fn suite_names(globals: &Globals, args: &TestArgs) -> Result<Vec<String>, GobError> {
    let manifest = load_manifest(globals)?;
    let specs =
        crate::workspace::suites::select(&manifest, &args.selection.suites, args.selection.integ)?;
    Ok(specs.iter().map(|s| s.name.clone()).collect())
}

/// A command's end as a cycle's result; a real signal ends the watch.
fn outcome(ended: Result<(), GobError>) -> Result<CycleResult, GobError> {
    match ended {
        Ok(()) => Ok(CycleResult::Passed),
        Err(GobError::Failed(_)) => Ok(CycleResult::Failed),
        Err(GobError::Interrupted(shutdown::CANCEL)) => Ok(CycleResult::Cancelled),
        Err(GobError::Interrupted(sig)) => Err(GobError::Interrupted(sig)),
        Err(error) => {
            error.render();
            Ok(CycleResult::Error(error.to_string()))
        }
    }
}

/// The watch: a cycle, then waits for a save or a key, and again.
async fn watch(globals: &Globals, job: Job<'_>, json: bool) -> Result<(), GobError> {
    let manifest = load_manifest(globals)?;
    let dir = std::fs::canonicalize(&manifest.workspace_dir)
        .unwrap_or_else(|_| manifest.workspace_dir.clone());
    let out_dir = crate::workspace::out_dir(&manifest);
    let skip = vec![dir.join(STATE_DIR), real(&out_dir)];
    let mut files = Watch::start(&dir, skip).map_err(|e| GobError::Failed(e.to_string()))?;
    let mut listings = listing_guard(globals, &manifest);
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let _restore = terminal.then(TerminalMode::save);
    let mut requests = read_requests(terminal);
    let mut memory = Memory::default();
    let mut trigger = Trigger::Start;
    let mut changed: BTreeSet<PathBuf> = BTreeSet::new();
    for number in 1.. {
        let started = Instant::now();
        let mut saved = BTreeSet::new();
        let mut quit = false;
        let mut next: Option<Asked> = None;
        // A key asks for a fresh look: go is asked again (only saves reuse its answers).
        let fresh = !matches!(trigger, Trigger::Changes(_));
        let walked = listings.as_mut().map(|l| l.before(fresh));
        let end = {
            let run = cycle(globals, job, &memory, &trigger);
            tokio::pin!(run);
            loop {
                tokio::select! {
                    end = &mut run => break end?,
                    batch = files.next_batch() => {
                        saved.extend(batch);
                        shutdown::cancel();
                    }
                    asked = requests.recv() => match asked {
                        Some(Request::Quit) => {
                            quit = true;
                            shutdown::cancel();
                        }
                        Some(Request::Run(asked)) => {
                            next = Some(asked);
                            shutdown::cancel();
                        }
                        Some(Request::Clear) => clear(),
                        None => {}
                    },
                }
            }
        };
        if !shutdown::resume() {
            let sig = shutdown::requested().unwrap_or(libc::SIGTERM);
            return Err(GobError::Interrupted(sig));
        }
        let failed = match job {
            Job::Test(_) => Some(failed_count(&manifest.workspace_dir)),
            Job::Check(_) => None,
        };
        let event = CycleEvent {
            cycle: number,
            trigger: trigger.name(),
            changed: relative(&changed, &dir),
            affected: end
                .decision
                .as_ref()
                .map(|d| d.affected.clone())
                .unwrap_or_default(),
            result: end.result.clone(),
            failed,
            elapsed: started.elapsed().as_secs_f64(),
        };
        let watched = end.decision.as_ref().map_or(memory.watched, |d| d.watched);
        if end.complete
            && let Some(decision) = end.decision
        {
            memory.advance(decision);
        }
        report(&event, watched, json);
        // After the report: the walk takes no time from the cycle's result.
        if let (Some(listings), Some(walked)) = (listings.as_mut(), walked) {
            listings.after(walked);
        }
        if quit {
            return Ok(());
        }
        // What runs next: a save during the cycle (with what it was running for), a key
        // typed during it, or what comes while waiting.
        if !saved.is_empty() {
            if event.result != CycleResult::Cancelled {
                changed.clear();
            }
            changed.extend(saved);
            trigger = Trigger::Changes(relative(&changed, &dir));
            continue;
        }
        if let Some(asked) = next {
            changed.clear();
            trigger = asked.into();
            continue;
        }
        changed.clear();
        loop {
            tokio::select! {
                batch = files.next_batch() => {
                    changed = batch;
                    trigger = Trigger::Changes(relative(&changed, &dir));
                    break;
                }
                asked = requests.recv() => match asked {
                    Some(Request::Quit) => return Ok(()),
                    Some(Request::Run(asked)) => {
                        trigger = asked.into();
                        break;
                    }
                    Some(Request::Clear) => clear(),
                    None => {}
                },
                sig = shutdown::stopped() => return Err(GobError::Interrupted(sig)),
            }
        }
    }
    Ok(())
}

/// What keeps go list's answers from one cycle to the next while go would answer the same
/// ([`crate::workspace::listmemo`]): the walk's roots are the workspace dir and the dirs of
/// its go.mod and go.work. `None` (every cycle asks go) outside module mode or when go
/// cannot say where they are.
fn listing_guard(globals: &Globals, manifest: &Manifest) -> Option<Guard> {
    let ctx = Context::load(globals, &manifest.workspace_dir).ok()?;
    let files = ctx.go.env_values(&["GOMOD", "GOWORK"]).ok()?;
    let roots = workspace_roots(&manifest.workspace_dir, [&files[0], &files[1]])?;
    let (skip, names_only) = super::remembered::walked_apart(manifest);
    Some(Guard::start(roots, skip, names_only))
}

/// A dir as a real path when it exists (events name real paths).
fn real(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Paths relative to `dir`, as strings.
fn relative(paths: &BTreeSet<PathBuf>, dir: &Path) -> Vec<String> {
    paths
        .iter()
        .map(|p| {
            crate::base::paths::relative_to(p, dir)
                .display()
                .to_string()
        })
        .collect()
}

/// Test packages the record of failures holds (what `f` would run).
fn failed_count(workspace_dir: &Path) -> usize {
    let record = super::retries::load_failed(&workspace_dir.join(FAILED_FILE));
    record.values().map(|suite| suite.len()).sum()
}

/// Says how a cycle ended: the status line on stderr, the event on stdout with `--json`.
fn report(event: &CycleEvent, watched: usize, json: bool) {
    let now = chrono::Local::now().format("%H:%M:%S").to_string();
    eprintln!("{}", status_line(event, watched, &now));
    if json {
        println!("{}", event.to_json());
    }
}

/// Clears the terminal.
fn clear() {
    eprint!("\x1b[2J\x1b[H");
}

/// Requests typed at the watch: keys in a terminal, lines on stdin elsewhere (at the end of
/// stdin, none come).
fn read_requests(terminal: bool) -> UnboundedReceiver<Request> {
    let (tx, rx) = unbounded_channel();
    std::thread::spawn(move || {
        if terminal {
            let term = console::Term::stderr();
            while let Ok(key) = term.read_key() {
                let text = match key {
                    console::Key::Enter => String::new(),
                    console::Key::Char(c) => c.to_string(),
                    _ => continue,
                };
                if let Some(request) = request(&text)
                    && tx.send(request).is_err()
                {
                    return;
                }
            }
        } else {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { return };
                if let Some(request) = request(&line)
                    && tx.send(request).is_err()
                {
                    return;
                }
            }
        }
    });
    rx
}

/// The terminal's settings when the watch started, put back when it ends (reading a key
/// puts the terminal in raw mode, and the watch may end while a read waits).
struct TerminalMode(Option<libc::termios>);

impl TerminalMode {
    fn save() -> TerminalMode {
        let mut termios = std::mem::MaybeUninit::uninit();
        // SAFETY: tcgetattr writes a termios for fd 0 when it returns 0.
        let saved = unsafe { libc::tcgetattr(0, termios.as_mut_ptr()) == 0 }
            .then(|| unsafe { termios.assume_init() });
        TerminalMode(saved)
    }
}

impl Drop for TerminalMode {
    fn drop(&mut self) {
        if let Some(termios) = &self.0 {
            // SAFETY: puts back settings tcgetattr read from the same fd.
            unsafe {
                libc::tcsetattr(0, libc::TCSADRAIN, termios);
            }
        }
    }
}
