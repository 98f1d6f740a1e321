//! `gob analyze` end to end on the example workspace: a cold build with go's action graph,
//! totals that agree with the recorded actions, a trace and an SVG that parse, and `why`.

use std::fs;

use crate::support::{Workspace, run};

#[test]
fn analyze_reports_totals_that_match_the_recorded_actions() {
    let ws = Workspace::repo_example();
    let out = ws.dir().join("analysis");
    let (code, stdout, stderr) = run(&mut ws.gob(&[
        "analyze",
        "alpha",
        "beta",
        "--json",
        "--trace",
        "analysis/trace.json",
        "--svg",
        "analysis/timeline.svg",
        "--html",
        "analysis/report.html",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("gob analyze: 1 go call with cold cache"),
        "{stderr}"
    );
    let a: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    let (wall, total, critical, lower) = (
        f(&a["wall"]),
        f(&a["total"]),
        f(&a["critical"]),
        f(&a["lower_bound"]),
    );
    let by_tool: f64 = a["by_tool"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| f(&t[1]))
        .sum();
    assert!(
        (by_tool - total).abs() < 1e-6,
        "tools add up: {by_tool} vs {total}"
    );
    assert!(
        critical <= wall + 1e-6 && lower >= critical && lower <= wall * 1.01 + 0.05,
        "{a}"
    );
    // The bound counts CPU work (go and its tools, measured), which no build of the same
    // graph on these CPUs can beat: work / CPUs stays under the wall time of this build.
    let (work, cpus) = (f(&a["work"]), f(&a["budget"]));
    assert!(
        a["work_source"].as_str().unwrap().contains("getrusage"),
        "{a}"
    );
    assert!(work > 0.0 && work / cpus <= wall * 1.05 + 0.1, "{a}");
    let modules: Vec<&str> = a["by_module"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m[0].as_str().unwrap())
        .collect();
    assert!(
        modules.contains(&"std") && modules.contains(&"example.com/mesh"),
        "{modules:?}"
    );

    // The trace holds the recorded actions: their durations add up to the reported work.
    let trace: Vec<serde_json::Value> =
        serde_json::from_str(&fs::read_to_string(out.join("trace.json")).unwrap()).unwrap();
    let traced: f64 = trace
        .iter()
        .filter(|e| e["ph"] == "X")
        .map(|e| f(&e["dur"]) / 1e6)
        .sum();
    assert!(
        (traced - total).abs() < 1e-3,
        "trace {traced} vs total {total}"
    );
    let links = trace
        .iter()
        .filter(|e| e["ph"] == "X" && e["cat"] == "link")
        .count();
    assert_eq!(links, 2, "two binaries, two links");
    assert!(trace.iter().any(|e| e["args"]["critical_path"] == true));

    let svg = fs::read_to_string(out.join("timeline.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
    let bars = doc.descendants().filter(|n| n.has_tag_name("rect")).count();
    assert!(
        bars > trace.iter().filter(|e| e["ph"] == "X").count(),
        "a bar per action"
    );
    assert!(
        svg.contains("stroke=\"#d62728\""),
        "the critical path is outlined"
    );
    assert!(
        fs::read_to_string(out.join("report.html"))
            .unwrap()
            .contains("<svg")
    );
    let times = fs::read_to_string(ws.dir().join(".gob/analyze/compile-times.json")).unwrap();
    assert!(times.contains("\"fmt\""), "{times}");
    assert!(!ws.dir().join("bin").exists(), "analyze publishes nothing");
}

#[test]
fn analyze_why_names_the_import_chain_of_each_binary() {
    let ws = Workspace::repo_example();
    let (code, stdout, stderr) =
        run(&mut ws.gob(&["analyze", "why", "example.com/mesh/internal/version"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("alpha: example.com/mesh/cmd/alpha → "),
        "{stdout}"
    );
    assert!(
        stdout.contains("→ example.com/mesh/internal/version"),
        "{stdout}"
    );
    assert!(
        stdout.contains("run `gob analyze` for their compile time"),
        "{stdout}"
    );
}
