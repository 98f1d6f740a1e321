//! The text report of `gob analyze`: wall time, work by tool and module, the slowest actions,
//! the critical path, the lower bound and the verdict.

use super::actiongraph::Action;
use super::stats::Analysis;

/// The text report.
pub fn report(actions: &[Action], a: &Analysis) -> String {
    let mut out = String::new();
    let line = |out: &mut String, label: &str, text: String| {
        out.push_str(&format!("{label:<15}{text}\n"));
    };
    line(&mut out, "wall time", format!("{:.2}s", a.wall));
    let tools: Vec<String> = a
        .by_tool
        .iter()
        .map(|(t, s)| format!("{t} {s:.2}s"))
        .collect();
    line(
        &mut out,
        "work",
        format!("{:.2}s of CPU ({})", a.work, a.work_source),
    );
    line(
        &mut out,
        "actions",
        format!(
            "{} taking {:.2}s of wall time together ({})",
            actions.len(),
            a.total,
            tools.join(", ")
        ),
    );
    let modules: Vec<String> = a
        .by_module
        .iter()
        .take(8)
        .map(|(m, s)| format!("{m} {s:.2}s"))
        .collect();
    line(&mut out, "by module", modules.join(" · "));
    out.push_str("slowest actions:\n");
    for &i in &a.slowest {
        out.push_str(&format!(
            "  {:>7.2}s  {}\n",
            actions[i].duration(),
            describe(&actions[i])
        ));
    }
    out.push_str(&format!(
        "critical path: {:.2}s in {} actions\n",
        a.critical,
        a.critical_path.len()
    ));
    for &i in &a.critical_path {
        if actions[i].duration() >= 0.005 {
            out.push_str(&format!(
                "  {:>7.2}s  {}\n",
                actions[i].duration(),
                describe(&actions[i])
            ));
        }
    }
    let per_cpu = a.work / a.budget.max(1) as f64;
    line(
        &mut out,
        "lower bound",
        format!(
            "{:.2}s = max(critical path {:.2}s, work {:.2}s / {} CPUs = {per_cpu:.2}s)",
            a.lower_bound, a.critical, a.work, a.budget
        ),
    );
    let verdict = if a.critical >= per_cpu {
        "the critical path bounds this build: more CPUs would not make it faster".to_string()
    } else {
        format!(
            "more CPUs would help: with enough of them the bound falls to the critical path ({:.2}s)",
            a.critical
        )
    };
    line(
        &mut out,
        "verdict",
        format!(
            "took {:.2}x the lower bound; {verdict}",
            a.wall / a.lower_bound.max(1e-9)
        ),
    );
    out
}

fn describe(a: &Action) -> String {
    format!("{} {} [{}]", a.mode, a.package, a.tool.name()).replace("  ", " ")
}
