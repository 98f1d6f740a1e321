//! `[task.NAME]` tables: commands a Makefile would hold besides build and test (code
//! generation, lint, servers an integration suite needs), and the checks that tie them
//! together: every task a `deps`, `before` or `services` list names exists, deps form no
//! cycle, a service has no `outputs`, `ready` belongs to a service.

use std::collections::BTreeMap;
use std::time::Duration;

use globset::GlobSet;
use toml::de::DeValue;

use super::problem::{Problem, Span};
use super::reader::{Located, TableReader, closest};
use super::suite::{build_globset, parse_duration_key};

/// How long a service may take to become ready when its `ready` gives no `timeout`.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// What a task runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskRun {
    /// A program and its arguments (`run = ["go", "generate", "./..."]`).
    Argv(Vec<String>),
    /// A shell command line, run with `sh -c` (`run = "protoc … && gofmt -w api"`).
    Shell(String),
}

/// How gob knows a service is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadyCheck {
    /// A TCP connection to this address succeeds.
    Tcp(String),
    /// This command exits 0.
    Run(Vec<String>),
}

/// A service's readiness check and how long it may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    /// The check.
    pub check: ReadyCheck,
    /// The longest it may take to pass.
    pub timeout: Duration,
}

/// Globs relative to the workspace, as written and compiled.
#[derive(Debug, Clone, Default)]
pub struct Globs {
    /// As written.
    pub patterns: Vec<String>,
    /// Compiled.
    pub set: GlobSet,
}

impl PartialEq for Globs {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

impl Eq for Globs {}

/// One `[task.NAME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSpec {
    /// Its name.
    pub name: String,
    /// Where its table's name is written.
    pub span: Span,
    /// What it runs.
    pub run: TaskRun,
    /// Files whose content decides whether it must run again.
    pub sources: Globs,
    /// Files it writes; with `sources`, it is skipped while both are unchanged.
    pub outputs: Globs,
    /// Tasks that run first.
    pub deps: Vec<Located<String>>,
    /// Where it runs, relative to the workspace dir.
    pub dir: Option<String>,
    /// Added to its environment.
    pub env: BTreeMap<String, String>,
    /// A long-running process kept while what needs it runs.
    pub service: bool,
    /// How gob knows the service is ready.
    pub ready: Option<Ready>,
}

/// Reads every `[task.NAME]`.
pub(super) fn read_tasks(top: &mut TableReader, problems: &mut Vec<Problem>) -> Vec<TaskSpec> {
    let Some((table, _)) = top.table("task", problems) else {
        return Vec::new();
    };
    let mut tasks = Vec::new();
    for (key, value) in table.iter() {
        let name = key.get_ref().to_string();
        let table_name = format!("[task.{name}]");
        let Some(task_table) = value.get_ref().as_table() else {
            problems.push(
                Problem::new(
                    value.span(),
                    format!("`task.{name}` must be a table describing a task"),
                    "expected a table",
                )
                .with_help(format!("write it as [task.{name}] with run = [...]")),
            );
            continue;
        };
        if !super::is_plain_name(&name) {
            problems.push(Problem::new(
                key.span(),
                format!("task name `{name}` must be a plain name"),
                "not a plain name",
            ));
            continue;
        }
        let mut reader = TableReader::new(task_table, table_name.clone(), key.span());
        let run = read_run(&mut reader, task_table, &table_name, key.span(), problems);
        let sources = reader.string_list("sources", problems).unwrap_or_default();
        let outputs = reader.string_list("outputs", problems).unwrap_or_default();
        let deps = reader.string_list("deps", problems).unwrap_or_default();
        let dir = reader.string("dir", problems);
        let env = reader.string_map("env", problems).unwrap_or_default();
        let service = reader.bool("service", problems).unwrap_or(false);
        let ready = reader
            .table("ready", problems)
            .and_then(|(t, span)| read_ready(t, span, &table_name, problems));
        reader.finish(problems);
        if let Some(dir) = dir.as_ref().filter(|d| super::escapes(&d.value)) {
            problems.push(Problem::new(
                dir.span.clone(),
                format!("{table_name} dir `{}` is outside the workspace", dir.value),
                "outside the workspace",
            ));
        }
        if service && !outputs.is_empty() {
            problems.push(
                Problem::new(
                    outputs[0].span.clone(),
                    format!("{table_name} is a service and has outputs"),
                    "a service writes no outputs",
                )
                .with_help(
                    "a service runs while what needs it runs; a task that writes files is not one",
                ),
            );
        }
        if let (false, Some(_)) = (service, &ready) {
            problems.push(
                Problem::new(
                    key.span(),
                    format!("{table_name} has `ready` but is not a service"),
                    "not a service",
                )
                .with_help("add service = true, or drop ready"),
            );
        }
        let globs = |key: &str, list: &[Located<String>], problems: &mut Vec<Problem>| Globs {
            patterns: list.iter().map(|l| l.value.clone()).collect(),
            set: build_globset(&table_name, key, list, problems),
        };
        let sources = globs("sources", &sources, problems);
        let outputs = globs("outputs", &outputs, problems);
        let Some(run) = run else {
            continue;
        };
        tasks.push(TaskSpec {
            name,
            span: key.span(),
            run,
            sources,
            outputs,
            deps,
            dir: dir.map(|d| d.value),
            env,
            service,
            ready,
        });
    }
    tasks
}

/// `run`: an array of strings (argv) or a string (a shell command line); required.
fn read_run(
    reader: &mut TableReader,
    table: &toml::de::DeTable,
    table_name: &str,
    span: Span,
    problems: &mut Vec<Problem>,
) -> Option<TaskRun> {
    let Some(value) = table.get("run") else {
        // Asked for, so the key counts as known; reported as missing.
        let _ = reader.string("run", problems);
        problems.push(
            Problem::new(
                span,
                format!("{table_name} is missing the required key `run`"),
                "`run` is missing here",
            )
            .with_help("run = [\"go\", \"generate\", \"./...\"] (a program and its arguments), or a string for sh -c"),
        );
        return None;
    };
    match value.get_ref() {
        DeValue::String(_) => reader
            .string("run", problems)
            .map(|s| TaskRun::Shell(s.value)),
        _ => {
            let argv = reader.string_list("run", problems)?;
            if argv.is_empty() {
                problems.push(Problem::new(
                    value.span(),
                    format!("{table_name} run is empty"),
                    "nothing to run",
                ));
                return None;
            }
            Some(TaskRun::Argv(argv.into_iter().map(|a| a.value).collect()))
        }
    }
}

/// `ready = { tcp = "host:port" }` or `{ run = [...] }`, with an optional `timeout`.
fn read_ready(
    table: &toml::de::DeTable,
    span: Span,
    table_name: &str,
    problems: &mut Vec<Problem>,
) -> Option<Ready> {
    let name = format!("{table_name} ready");
    let mut reader = TableReader::new(table, name.clone(), span.clone());
    let tcp = reader.string("tcp", problems);
    let run = reader.string_list("run", problems);
    let timeout = reader
        .string("timeout", problems)
        .and_then(|t| parse_duration_key(&name, "timeout", &t, problems))
        .unwrap_or(DEFAULT_READY_TIMEOUT);
    reader.finish(problems);
    let check = match (tcp, run) {
        (Some(tcp), None) => ReadyCheck::Tcp(tcp.value),
        (None, Some(run)) if !run.is_empty() => {
            ReadyCheck::Run(run.into_iter().map(|a| a.value).collect())
        }
        _ => {
            problems.push(
                Problem::new(span, format!("{name} needs one of `tcp` and `run`"), "which check?")
                    .with_help("ready = { tcp = \"127.0.0.1:6390\" } or ready = { run = [\"redis-cli\", \"ping\"] }"),
            );
            return None;
        }
    };
    Some(Ready { check, timeout })
}

/// Where tasks are named besides `deps`, and what each place expects.
pub(super) struct TaskRefs<'a> {
    /// `before` lists: tasks that must not be services.
    pub before: Vec<(&'a str, &'a Located<String>)>,
    /// `services` lists: tasks that must be services.
    pub services: Vec<(&'a str, &'a Located<String>)>,
}

/// Checks that every task named exists and is of the right kind, and that deps form no
/// cycle.
pub(super) fn check_refs(tasks: &[TaskSpec], refs: &TaskRefs, problems: &mut Vec<Problem>) {
    let known: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
    let by_name: BTreeMap<&str, &TaskSpec> = tasks.iter().map(|t| (t.name.as_str(), t)).collect();
    let unknown = |place: &str, name: &Located<String>| {
        let problem = Problem::new(
            name.span.clone(),
            format!("{place} names no task `{}`", name.value),
            "unknown task",
        );
        match closest(&name.value, &known) {
            Some(best) => problem.with_help(format!("did you mean `{best}`?")),
            None if known.is_empty() => {
                problem.with_help("define it as [task.NAME] with run = [...]")
            }
            None => problem.with_help(format!("known tasks: {}", known.join(", "))),
        }
    };
    for task in tasks {
        for dep in &task.deps {
            if !by_name.contains_key(dep.value.as_str()) {
                problems.push(unknown(&format!("[task.{}] deps", task.name), dep));
            }
        }
    }
    for (place, name) in &refs.before {
        match by_name.get(name.value.as_str()) {
            None => problems.push(unknown(place, name)),
            Some(task) if task.service => problems.push(
                Problem::new(
                    name.span.clone(),
                    format!("{place} names the service `{}`", name.value),
                    "a service",
                )
                .with_help("list services a suite needs in its `services`"),
            ),
            Some(_) => {}
        }
    }
    for (place, name) in &refs.services {
        match by_name.get(name.value.as_str()) {
            None => problems.push(unknown(place, name)),
            Some(task) if !task.service => problems.push(
                Problem::new(
                    name.span.clone(),
                    format!("{place} names `{}`, which is not a service", name.value),
                    "not a service",
                )
                .with_help("add service = true to the task, or run it with `before`"),
            ),
            Some(_) => {}
        }
    }
    if let Some(cycle) = find_cycle(tasks) {
        let (task, dep) = cycle.last().copied().unwrap_or_default();
        let span = by_name
            .get(task)
            .and_then(|t| t.deps.iter().find(|d| d.value == dep))
            .map_or(0..0, |d| d.span.clone());
        let mut path: Vec<&str> = cycle.iter().map(|(t, _)| *t).collect();
        path.push(dep);
        problems.push(
            Problem::new(
                span,
                format!("task deps form a cycle: {}", path.join(" → ")),
                "closes the cycle",
            )
            .with_help("a task cannot run before itself; drop one of these deps"),
        );
    }
}

/// A cycle of deps, as (task, dep) edges from where it starts to the edge that closes it.
fn find_cycle(tasks: &[TaskSpec]) -> Option<Vec<(&str, &str)>> {
    let deps: BTreeMap<&str, Vec<&str>> = tasks
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.deps.iter().map(|d| d.value.as_str()).collect(),
            )
        })
        .collect();
    // Depth first, with the path of edges taken.
    fn visit<'t>(
        name: &'t str,
        deps: &BTreeMap<&'t str, Vec<&'t str>>,
        done: &mut Vec<&'t str>,
        path: &mut Vec<(&'t str, &'t str)>,
    ) -> Option<Vec<(&'t str, &'t str)>> {
        if done.contains(&name) {
            return None;
        }
        for dep in deps.get(name).into_iter().flatten() {
            path.push((name, dep));
            if let Some(start) = path.iter().position(|(t, _)| t == dep) {
                return Some(path[start..].to_vec());
            }
            if let Some(cycle) = visit(dep, deps, done, path) {
                return Some(cycle);
            }
            path.pop();
        }
        done.push(name);
        None
    }
    let mut done = Vec::new();
    for name in deps.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(name, &deps, &mut done, &mut path) {
            return Some(cycle);
        }
    }
    None
}
