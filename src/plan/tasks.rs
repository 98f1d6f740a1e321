//! Planning tasks (`gob run`, and the tasks a build or a suite runs `before` it): which tasks
//! run, in an order where every dep comes before what needs it, the command of each, and
//! whether one is up to date (go-task's checksum method: a task with `sources` and `outputs`
//! is skipped while the digests of both equal those recorded after its last success). Pure:
//! the digests and records come in.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::command::GoCommand;
use crate::manifest::{TaskRun, TaskSpec};

/// The tasks `requested` needs, each once, deps first (in the order the manifest lists
/// them, so the plan is the same every time).
pub fn closure<'t>(tasks: &'t [TaskSpec], requested: &[&str]) -> Vec<&'t TaskSpec> {
    let by_name: BTreeMap<&str, &TaskSpec> = tasks.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut order: Vec<&TaskSpec> = Vec::new();
    fn visit<'t>(
        name: &str,
        by_name: &BTreeMap<&str, &'t TaskSpec>,
        order: &mut Vec<&'t TaskSpec>,
        seen: &mut Vec<String>,
    ) {
        if seen.iter().any(|s| s == name) {
            return;
        }
        seen.push(name.to_string());
        let Some(task) = by_name.get(name) else {
            return;
        };
        for dep in &task.deps {
            visit(&dep.value, by_name, order, seen);
        }
        order.push(task);
    }
    let mut seen = Vec::new();
    for name in requested {
        visit(name, &by_name, &mut order, &mut seen);
    }
    order
}

/// The digests of a task's sources and outputs after its last success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Of its sources.
    pub sources: String,
    /// Of its outputs.
    pub outputs: String,
}

/// What a task's sources and outputs are now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    /// Digest of its sources.
    pub sources: String,
    /// Digest of its outputs.
    pub outputs: String,
    /// How many files its outputs match.
    pub output_files: usize,
}

/// Whether a task runs, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// Skipped: its sources and outputs are those of its last success.
    UpToDate,
    /// It runs, for this reason.
    Runs(String),
}

/// Decides whether `task` runs, from its `record` and its `current` sources and outputs
/// (`None` for a task without both, which always runs).
pub fn freshness(
    task: &TaskSpec,
    record: Option<&Record>,
    current: Option<&Current>,
    force: bool,
) -> Freshness {
    let runs = |why: &str| Freshness::Runs(why.to_string());
    if force {
        return runs("--force");
    }
    if task.service {
        return runs("a service");
    }
    let Some(current) = current else {
        return runs("no sources and outputs to compare");
    };
    match record {
        _ if current.output_files == 0 => runs("its outputs do not exist"),
        None => runs("no record of a run that succeeded"),
        Some(r) if r.sources != current.sources => runs("its sources changed"),
        Some(r) if r.outputs != current.outputs => runs("its outputs changed"),
        Some(_) => Freshness::UpToDate,
    }
}

/// Whether a task has what an up-to-date check needs.
pub fn is_checked(task: &TaskSpec) -> bool {
    !task.sources.patterns.is_empty() && !task.outputs.patterns.is_empty()
}

/// The command of `task` in `workspace`: its argv (a string through `sh -c`), its dir, and
/// `base_env` with its own env on top; `expand` fills in version stamps.
pub fn command(
    task: &TaskSpec,
    workspace: &Path,
    base_env: &BTreeMap<String, String>,
    expand: &dyn Fn(&str) -> String,
) -> GoCommand {
    let (program, args) = match &task.run {
        TaskRun::Argv(argv) => (
            expand(&argv[0]),
            argv[1..].iter().map(|a| expand(a)).collect(),
        ),
        TaskRun::Shell(line) => ("sh".to_string(), vec!["-c".to_string(), expand(line)]),
    };
    let mut env = base_env.clone();
    env.extend(task.env.iter().map(|(k, v)| (k.clone(), expand(v))));
    let dir = match &task.dir {
        Some(dir) => crate::base::paths::normalize(&workspace.join(dir)),
        None => workspace.to_path_buf(),
    };
    GoCommand {
        program,
        args,
        env,
        dir,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Globs, Located};

    fn task(name: &str, deps: &[&str]) -> TaskSpec {
        TaskSpec {
            name: name.into(),
            span: 0..0,
            run: TaskRun::Argv(vec!["true".into()]),
            sources: Globs::default(),
            outputs: Globs::default(),
            deps: deps
                .iter()
                .map(|d| Located {
                    value: d.to_string(),
                    span: 0..0,
                })
                .collect(),
            dir: None,
            env: BTreeMap::new(),
            service: false,
            ready: None,
        }
    }

    #[test]
    fn deps_come_first_and_each_task_once() {
        let tasks = [
            task("tools", &[]),
            task("proto", &["tools"]),
            task("mocks", &["tools"]),
            task("generate", &["proto", "mocks"]),
            task("lint", &[]),
        ];
        let names = |order: Vec<&TaskSpec>| -> Vec<String> {
            order.iter().map(|t| t.name.clone()).collect()
        };
        assert_eq!(
            names(closure(&tasks, &["generate"])),
            ["tools", "proto", "mocks", "generate"]
        );
        assert_eq!(
            names(closure(&tasks, &["lint", "generate", "proto"])),
            ["lint", "tools", "proto", "mocks", "generate"]
        );
    }

    #[test]
    fn a_checked_task_is_up_to_date_only_while_sources_and_outputs_are_as_recorded() {
        let mut generate = task("generate", &[]);
        generate.sources.patterns = vec!["api/*.proto".into()];
        generate.outputs.patterns = vec!["api/*.pb.go".into()];
        assert!(is_checked(&generate));
        let record = Record {
            sources: "s1".into(),
            outputs: "o1".into(),
        };
        let now = |s: &str, o: &str, n: usize| Current {
            sources: s.into(),
            outputs: o.into(),
            output_files: n,
        };
        let decide =
            |r: Option<&Record>, c: &Current, force| freshness(&generate, r, Some(c), force);
        assert_eq!(
            decide(Some(&record), &now("s1", "o1", 1), false),
            Freshness::UpToDate
        );
        let why = |f: Freshness| match f {
            Freshness::Runs(why) => why,
            Freshness::UpToDate => "up to date".into(),
        };
        assert_eq!(
            why(decide(Some(&record), &now("s2", "o1", 1), false)),
            "its sources changed"
        );
        assert_eq!(
            why(decide(Some(&record), &now("s1", "o2", 1), false)),
            "its outputs changed"
        );
        assert_eq!(
            why(decide(Some(&record), &now("s1", "o1", 0), false)),
            "its outputs do not exist"
        );
        assert_eq!(
            why(decide(None, &now("s1", "o1", 1), false)),
            "no record of a run that succeeded"
        );
        assert_eq!(
            why(decide(Some(&record), &now("s1", "o1", 1), true)),
            "--force"
        );
        assert_eq!(
            why(freshness(&task("lint", &[]), None, None, false)),
            "no sources and outputs to compare"
        );
    }

    #[test]
    fn commands_take_argv_or_a_shell_line_in_their_dir_with_their_env() {
        let mut t = task("gen", &[]);
        t.run = TaskRun::Argv(vec!["go".into(), "generate".into(), "-x={version}".into()]);
        t.dir = Some("api".into());
        t.env = BTreeMap::from([("GOFLAGS".into(), "-mod=mod".into())]);
        let base = BTreeMap::from([("GOMAXPROCS".into(), "2".into())]);
        let expand = |s: &str| s.replace("{version}", "v1");
        let c = command(&t, Path::new("/ws"), &base, &expand);
        assert_eq!(
            (c.program.as_str(), c.args.as_slice()),
            ("go", &["generate".to_string(), "-x=v1".to_string()][..])
        );
        assert_eq!(c.dir, Path::new("/ws/api"));
        assert_eq!(c.env["GOFLAGS"], "-mod=mod");
        assert_eq!(c.env["GOMAXPROCS"], "2");
        t.run = TaskRun::Shell("protoc *.proto && gofmt -w .".into());
        let c = command(&t, Path::new("/ws"), &base, &expand);
        assert_eq!(c.program, "sh");
        assert_eq!(c.args, ["-c", "protoc *.proto && gofmt -w ."]);
    }
}
