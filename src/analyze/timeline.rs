//! Pictures of a build: lanes (go's workers from `-debug-trace`, or packed by time when the
//! trace does not name an action), a Chrome/Perfetto trace, and an SVG timeline with actions
//! colored by module and the critical path outlined.

use std::collections::HashMap;
use std::fmt::Write;

use serde::Deserialize;

use super::actiongraph::Action;
use super::stats::Analysis;
use crate::base::text::xml_escape;

/// One event of go's `-debug-trace` file (Chrome trace-event format).
#[derive(Debug, Deserialize)]
struct TraceEvent {
    #[serde(default)]
    name: String,
    #[serde(default)]
    ph: String,
    #[serde(default)]
    tid: u64,
}

/// The worker go ran each action on: `(mode, package)` → worker, from the trace's
/// "Executing action (MODE PKG)" events. A trace that cannot be read gives no workers.
pub fn workers(trace: &str) -> HashMap<(String, String), u64> {
    let events: Vec<TraceEvent> = serde_json::from_str(trace).unwrap_or_default();
    events
        .into_iter()
        .filter(|e| e.ph == "B")
        .filter_map(|e| {
            let inner = e
                .name
                .strip_prefix("Executing action (")?
                .strip_suffix(')')?;
            let (mode, package) = inner.rsplit_once(' ')?;
            Some(((mode.to_string(), package.to_string()), e.tid))
        })
        .collect()
}

/// A lane per action: go's worker where the trace names it (for the first graph), else the
/// first lane free at the action's start.
pub fn lanes(actions: &[Action], workers: &HashMap<(String, String), u64>) -> Vec<usize> {
    let mut order: Vec<usize> = (0..actions.len()).collect();
    order.sort_by(|&a, &b| {
        actions[a]
            .start
            .total_cmp(&actions[b].start)
            .then(a.cmp(&b))
    });
    let mut lane_end: Vec<f64> = Vec::new();
    let mut lanes = vec![0; actions.len()];
    for i in order {
        let a = &actions[i];
        let worker = workers
            .get(&(a.mode.clone(), a.package.clone()))
            .map(|&w| w.saturating_sub(1) as usize)
            .filter(|&w| lane_end.get(w).is_none_or(|&end| end <= a.start + 1e-6));
        let lane = worker.unwrap_or_else(|| {
            lane_end
                .iter()
                .position(|&end| end <= a.start + 1e-6)
                .unwrap_or(lane_end.len())
        });
        if lane >= lane_end.len() {
            lane_end.resize(lane + 1, 0.0);
        }
        lane_end[lane] = a.end;
        lanes[i] = lane;
    }
    lanes
}

/// A Chrome/Perfetto trace (JSON array of complete events), one thread per lane.
pub fn chrome_trace(
    actions: &[Action],
    lanes: &[usize],
    analysis: &Analysis,
    module_of: &dyn Fn(&str) -> String,
) -> String {
    let critical: std::collections::HashSet<usize> =
        analysis.critical_path.iter().copied().collect();
    let mut events: Vec<serde_json::Value> = actions
        .iter()
        .enumerate()
        .filter(|(_, a)| a.duration() > 0.0)
        .map(|(i, a)| {
            serde_json::json!({
                "name": format!("{} {}", a.mode, a.package).trim().to_string(),
                "cat": a.tool.name(),
                "ph": "X",
                "ts": a.start * 1e6,
                "dur": a.duration() * 1e6,
                "pid": 1,
                "tid": lanes[i] + 1,
                "args": {
                    "module": if a.package.is_empty() { String::new() } else { module_of(&a.package) },
                    "critical_path": critical.contains(&i),
                },
            })
        })
        .collect();
    let lane_count = lanes.iter().max().map_or(0, |m| m + 1);
    for lane in 0..lane_count {
        events.push(serde_json::json!({
            "name": "thread_name", "ph": "M", "pid": 1, "tid": lane + 1,
            "args": {"name": format!("worker {}", lane + 1)},
        }));
    }
    serde_json::to_string(&events).unwrap_or_else(|_| "[]".to_string())
}

/// Colors for the largest modules; the rest are grey.
const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f",
];
const OTHER: &str = "#bab0ac";

/// An SVG timeline: one row per lane, actions as bars colored by module, the critical path
/// outlined in red, a time axis and a legend.
pub fn svg(
    actions: &[Action],
    lanes: &[usize],
    analysis: &Analysis,
    module_of: &dyn Fn(&str) -> String,
) -> String {
    let (left, width, row, top) = (70.0, 1100.0, 16.0, 50.0);
    let lane_count = lanes.iter().max().map_or(1, |m| m + 1);
    let wall = analysis.wall.max(1e-3);
    let x = |t: f64| left + t / wall * width;
    let colors: HashMap<&str, &str> = analysis
        .by_module
        .iter()
        .zip(PALETTE)
        .map(|((m, _), c)| (m.as_str(), c))
        .collect();
    let critical: std::collections::HashSet<usize> =
        analysis.critical_path.iter().copied().collect();
    let height = top + lane_count as f64 * row + 60.0 + 16.0 * (colors.len() as f64 / 4.0).ceil();
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="{left}" y="18" font-size="13" font-weight="bold">build timeline: wall {wall:.2}s, {n} actions, {total:.2}s of CPU work on {budget} CPUs; critical path {critical:.2}s (red); lower bound {lower:.2}s</text>
"##,
        w = left + width + 20.0,
        n = actions.len(),
        total = analysis.work,
        budget = analysis.budget,
        critical = analysis.critical,
        lower = analysis.lower_bound,
    );
    for lane in 0..lane_count {
        let y = top + lane as f64 * row;
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" text-anchor="end">worker {}</text>"##,
            left - 6.0,
            y + row - 4.0,
            lane + 1
        );
    }
    let ticks = 10;
    for k in 0..=ticks {
        let t = wall * k as f64 / ticks as f64;
        let _ = writeln!(
            out,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{1}" y2="{2}" stroke="#ddd"/><text x="{0:.1}" y="{3}" text-anchor="middle">{4:.1}s</text>"##,
            x(t),
            top - 4.0,
            top + lane_count as f64 * row,
            top - 8.0,
            t
        );
    }
    for (i, a) in actions.iter().enumerate() {
        if a.duration() <= 0.0 {
            continue;
        }
        let module = if a.package.is_empty() {
            String::new()
        } else {
            module_of(&a.package)
        };
        let color = colors.get(module.as_str()).copied().unwrap_or(OTHER);
        let stroke = if critical.contains(&i) {
            r##" stroke="#d62728" stroke-width="2""##
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r##"<rect x="{:.2}" y="{:.1}" width="{:.2}" height="{:.1}" fill="{color}"{stroke}><title>{} {} ({}, {:.3}s)</title></rect>"##,
            x(a.start),
            top + lanes[i] as f64 * row + 2.0,
            (a.duration() / wall * width).max(0.5),
            row - 4.0,
            xml_escape(&a.mode),
            xml_escape(&a.package),
            a.tool.name(),
            a.duration()
        );
    }
    let legend_top = top + lane_count as f64 * row + 24.0;
    for (k, (module, seconds)) in analysis.by_module.iter().take(PALETTE.len()).enumerate() {
        let (lx, ly) = (
            left + (k % 4) as f64 * 275.0,
            legend_top + (k / 4) as f64 * 16.0,
        );
        let _ = writeln!(
            out,
            r##"<rect x="{lx}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{} ({seconds:.1}s)</text>"##,
            ly - 9.0,
            PALETTE[k],
            lx + 14.0,
            ly,
            xml_escape(module)
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::actiongraph::Tool;

    fn action(id: usize, start: f64, end: f64, package: &str) -> Action {
        Action {
            id,
            mode: "build".into(),
            package: package.into(),
            deps: Vec::new(),
            start,
            end,
            tool: Tool::Compile,
            cpu: None,
        }
    }

    #[test]
    fn trace_workers_and_packed_lanes() {
        let trace = r#"[{"name":"Executing action (build check cache fmt)","ph":"B","ts":1,"pid":0,"tid":2},
            {"name":"Executing action (build a)","ph":"B","ts":1,"pid":0,"tid":1},
            {"name":"Running build command","ph":"B","ts":0,"pid":0,"tid":0}]"#;
        let w = workers(trace);
        assert_eq!(w[&("build check cache".to_string(), "fmt".to_string())], 2);
        assert_eq!(w.len(), 2);
        assert!(workers("not json").is_empty());
        let actions = [
            action(0, 0.0, 2.0, "a"),
            action(1, 0.5, 1.0, "b"),
            action(2, 1.0, 3.0, "c"),
        ];
        assert_eq!(
            lanes(&actions, &w),
            [0, 1, 1],
            "b and c share the second lane"
        );
    }
}
