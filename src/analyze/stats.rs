//! What an action graph says about a build: totals by tool and by module, the slowest
//! actions, the critical path, and the lower bound any scheduler could reach with the budget.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::actiongraph::{Action, Tool};

/// The analysis of one build.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Analysis {
    /// Seconds from the first action's start to the last action's end.
    pub wall: f64,
    /// CPUs the build had.
    pub budget: usize,
    /// Sum of every action's duration (wall time: overlapping, multi-threaded actions make it
    /// more than the CPU work).
    pub total: f64,
    /// The CPU work of the build, seconds: what bounds it from below on `budget` CPUs.
    pub work: f64,
    /// Where `work` comes from.
    pub work_source: String,
    /// Seconds per tool, largest first.
    pub by_tool: Vec<(String, f64)>,
    /// Seconds per module (`std`, the main module, each dependency), largest first.
    pub by_module: Vec<(String, f64)>,
    /// The slowest actions (index into the graph), slowest first.
    pub slowest: Vec<usize>,
    /// The longest chain of dependent actions, from the first to the last (indices).
    pub critical_path: Vec<usize>,
    /// Its length in seconds.
    pub critical: f64,
    /// max(critical path, work / budget): no scheduler could do better on this machine.
    pub lower_bound: f64,
}

/// The CPU work of a build: the go process tree's CPU time when it was measured (go and all
/// its tools), else the tools' own CPU time (`CmdUser` + `CmdSys`) with wall time for the
/// actions that have none, else the actions' wall time; and which of these it is.
fn work_of(actions: &[Action], measured_cpu: Option<f64>) -> (f64, String) {
    if let Some(cpu) = measured_cpu.filter(|c| *c > 0.0) {
        return (cpu, "CPU time of go and its tools (getrusage)".into());
    }
    if actions.iter().any(|a| a.cpu.is_some()) {
        let work = actions.iter().map(|a| a.cpu.unwrap_or(a.duration())).sum();
        return (work, "CPU time of the tools (CmdUser + CmdSys)".into());
    }
    let wall = actions.iter().map(Action::duration).sum();
    (
        wall,
        "wall time of the actions (no CPU times recorded)".into(),
    )
}

/// Analyzes `actions`; `module_of` names the module of an import path.
pub fn analyze(
    actions: &[Action],
    budget: usize,
    top: usize,
    module_of: &dyn Fn(&str) -> String,
    measured_cpu: Option<f64>,
) -> Analysis {
    let first = actions
        .iter()
        .map(|a| a.start)
        .fold(f64::INFINITY, f64::min);
    let last = actions.iter().map(|a| a.end).fold(0.0, f64::max);
    let wall = if actions.is_empty() {
        0.0
    } else {
        last - first
    };
    let total: f64 = actions.iter().map(Action::duration).sum();
    let mut tools: BTreeMap<Tool, f64> = BTreeMap::new();
    let mut modules: BTreeMap<String, f64> = BTreeMap::new();
    for a in actions {
        *tools.entry(a.tool).or_default() += a.duration();
        if !a.package.is_empty() {
            *modules.entry(module_of(&a.package)).or_default() += a.duration();
        }
    }
    let mut slowest: Vec<usize> = (0..actions.len()).collect();
    slowest.sort_by(|&a, &b| {
        actions[b]
            .duration()
            .total_cmp(&actions[a].duration())
            .then(a.cmp(&b))
    });
    slowest.truncate(top);
    let critical_path = critical_path(actions);
    let critical: f64 = critical_path.iter().map(|&i| actions[i].duration()).sum();
    let (work, work_source) = work_of(actions, measured_cpu);
    Analysis {
        wall,
        budget,
        total,
        work,
        work_source,
        by_tool: sorted(tools.into_iter().map(|(t, s)| (t.name().to_string(), s))),
        by_module: sorted(modules.into_iter()),
        slowest,
        critical_path,
        critical,
        lower_bound: critical.max(work / budget.max(1) as f64),
    }
}

fn sorted(items: impl Iterator<Item = (String, f64)>) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = items.collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// The chain of dependent actions with the largest summed duration, first action first
/// (indices into `actions`). Edges to actions that are not in the graph are ignored.
pub fn critical_path(actions: &[Action]) -> Vec<usize> {
    let index: HashMap<usize, usize> = actions.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
    // Longest chain ending at each action, computed in start-time order so that deps (which
    // ended before an action started) come first; ties and cycles cannot loop.
    let mut order: Vec<usize> = (0..actions.len()).collect();
    order.sort_by(|&a, &b| actions[a].end.total_cmp(&actions[b].end).then(a.cmp(&b)));
    let mut best: Vec<f64> = vec![0.0; actions.len()];
    let mut via: Vec<Option<usize>> = vec![None; actions.len()];
    let mut done = vec![false; actions.len()];
    for &i in &order {
        let mut longest = 0.0;
        for dep in actions[i].deps.iter().filter_map(|d| index.get(d)) {
            if done[*dep] && best[*dep] > longest {
                longest = best[*dep];
                via[i] = Some(*dep);
            }
        }
        best[i] = longest + actions[i].duration();
        done[i] = true;
    }
    let Some(mut last) =
        (0..actions.len()).max_by(|&a, &b| best[a].total_cmp(&best[b]).then(b.cmp(&a)))
    else {
        return Vec::new();
    };
    let mut path = vec![last];
    while let Some(prev) = via[last] {
        path.push(prev);
        last = prev;
    }
    path.reverse();
    path
}

/// The module of `package`: `std` for the standard library (no dot in its first element),
/// else the longest of `modules` it lies in, else the package's first three elements.
pub fn module_of(package: &str, modules: &[String]) -> String {
    let first = package.split('/').next().unwrap_or_default();
    if !first.contains('.') && !modules.iter().any(|m| is_within(package, m)) {
        return "std".to_string();
    }
    modules
        .iter()
        .filter(|m| is_within(package, m))
        .max_by_key(|m| m.len())
        .cloned()
        .unwrap_or_else(|| package.split('/').take(3).collect::<Vec<_>>().join("/"))
}

fn is_within(package: &str, module: &str) -> bool {
    package == module
        || package
            .strip_prefix(module)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(
        id: usize,
        deps: &[usize],
        start: f64,
        end: f64,
        tool: Tool,
        package: &str,
    ) -> Action {
        Action {
            id,
            mode: "build".into(),
            package: package.into(),
            deps: deps.to_vec(),
            start,
            end,
            tool,
            cpu: None,
        }
    }

    /// A diamond: a (2s) → b (5s), c (1s) → link d (3s); b is on the critical path.
    fn diamond() -> Vec<Action> {
        vec![
            action(10, &[], 0.0, 2.0, Tool::Compile, "m/a"),
            action(11, &[10], 2.0, 7.0, Tool::Compile, "m/b"),
            action(12, &[10], 2.0, 3.0, Tool::Compile, "fmt"),
            action(13, &[11, 12, 99], 7.0, 10.0, Tool::Link, "m/cmd"),
        ]
    }

    #[test]
    fn the_critical_path_follows_the_longest_chain() {
        let actions = diamond();
        let path: Vec<usize> = critical_path(&actions)
            .iter()
            .map(|&i| actions[i].id)
            .collect();
        assert_eq!(path, [10, 11, 13]);
    }

    #[test]
    fn totals_and_the_lower_bound() {
        let modules = vec!["m".to_string()];
        let a = analyze(&diamond(), 2, 2, &|p| module_of(p, &modules), None);
        assert_eq!(a.wall, 10.0);
        assert_eq!(a.total, 11.0);
        assert_eq!(a.critical, 10.0);
        assert_eq!(a.lower_bound, 10.0, "critical path > 11s / 2 CPUs");
        assert_eq!(
            a.by_tool,
            [("compile".to_string(), 8.0), ("link".to_string(), 3.0)]
        );
        assert_eq!(
            a.by_module,
            [("m".to_string(), 10.0), ("std".to_string(), 1.0)]
        );
        assert_eq!(a.slowest, [1, 3]);
        let one_cpu = analyze(&diamond(), 1, 2, &|p| module_of(p, &modules), None);
        assert_eq!(one_cpu.lower_bound, 11.0, "total / 1 CPU > critical path");
    }

    #[test]
    fn the_bound_counts_cpu_work_not_overlapping_wall_time() {
        // Two compiles that overlap on 2 CPUs, each running its own 2 threads (-c=2) for
        // 10s of wall but only 8s of CPU: the wall sum (20s / 2 CPUs = 10s) is no bound for a
        // build the tools' CPU time (16s / 2 = 8s) says can finish in 8s.
        let mut actions = vec![
            action(0, &[], 0.0, 10.0, Tool::Compile, "a"),
            action(1, &[], 0.0, 10.0, Tool::Compile, "b"),
        ];
        let wall = analyze(&actions, 2, 2, &|_| "m".into(), None);
        assert_eq!(wall.lower_bound, 10.0);
        assert!(wall.work_source.contains("wall time"));
        for a in &mut actions {
            a.cpu = Some(8.0);
        }
        let cpu = analyze(&actions, 2, 2, &|_| "m".into(), None);
        assert_eq!(
            (cpu.work, cpu.lower_bound),
            (16.0, 10.0),
            "the critical path still bounds"
        );
        actions[1].start = 10.0;
        actions[1].end = 12.0;
        actions[1].deps = vec![0];
        let measured = analyze(&actions, 2, 2, &|_| "m".into(), Some(14.0));
        assert_eq!(measured.work, 14.0);
        assert!(measured.work_source.contains("getrusage"));
        assert_eq!(measured.lower_bound, 12.0, "critical path 12s > 14s / 2");
    }

    #[test]
    fn independent_actions_have_a_one_action_critical_path() {
        let actions = vec![
            action(0, &[], 0.0, 1.0, Tool::Compile, "a"),
            action(1, &[], 0.0, 4.0, Tool::Compile, "b"),
        ];
        assert_eq!(critical_path(&actions), [1]);
        assert!(critical_path(&[]).is_empty());
    }

    #[test]
    fn modules_by_longest_prefix() {
        let modules = vec![
            "example.com/m".to_string(),
            "k8s.io/client-go".to_string(),
            "k8s.io/client-go/v2".to_string(),
        ];
        assert_eq!(module_of("fmt", &modules), "std");
        assert_eq!(module_of("internal/abi", &modules), "std");
        assert_eq!(module_of("example.com/m/cmd/a", &modules), "example.com/m");
        assert_eq!(
            module_of("k8s.io/client-go/v2/rest", &modules),
            "k8s.io/client-go/v2"
        );
        assert_eq!(
            module_of("k8s.io/client-gox/a", &modules),
            "k8s.io/client-gox/a"
        );
        assert_eq!(
            module_of("golang.org/x/net/http2", &modules),
            "golang.org/x/net"
        );
    }
}
