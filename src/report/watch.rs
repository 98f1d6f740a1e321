//! How a watch cycle ended, for people (the status line after each cycle) and for tools
//! (the `gob-watch-cycle` event `--json` prints on stdout).

use std::collections::BTreeMap;

use serde::Serialize;

use super::plural;

/// How a cycle ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CycleResult {
    /// Everything it ran passed.
    Passed,
    /// A check or a test failed.
    Failed,
    /// `gob test --watch`: the check of the affected packages failed; their tests did not run.
    CheckFailed,
    /// No package is affected by the change: nothing ran.
    Nothing,
    /// A save or a key cancelled it.
    Cancelled,
    /// It could not run (the message).
    Error(String),
}

impl CycleResult {
    /// Its name in the event.
    fn name(&self) -> &'static str {
        match self {
            CycleResult::Passed => "passed",
            CycleResult::Failed => "failed",
            CycleResult::CheckFailed => "check-failed",
            CycleResult::Nothing => "nothing",
            CycleResult::Cancelled => "cancelled",
            CycleResult::Error(_) => "error",
        }
    }
}

/// One cycle, as the event and the status line tell it.
#[derive(Debug, Clone)]
pub struct CycleEvent {
    /// Its number, from 1.
    pub cycle: usize,
    /// Why it ran (`start`, `change`, `rerun`, `all`, `failed`).
    pub trigger: &'static str,
    /// The files saved (relative to the workspace dir).
    pub changed: Vec<String>,
    /// The packages it selected, per suite.
    pub affected: BTreeMap<String, Vec<String>>,
    /// How it ended.
    pub result: CycleResult,
    /// Test packages with failures on record (`gob test --watch`).
    pub failed: Option<usize>,
    /// Seconds it took.
    pub elapsed: f64,
}

/// The event's fields, as they are written.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Written<'a> {
    action: &'static str,
    cycle: usize,
    trigger: &'static str,
    changed: &'a [String],
    affected: &'a BTreeMap<String, Vec<String>>,
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failed: Option<usize>,
    elapsed: f64,
}

impl CycleEvent {
    /// The `gob-watch-cycle` event, one JSON line.
    pub fn to_json(&self) -> String {
        let written = Written {
            action: "gob-watch-cycle",
            cycle: self.cycle,
            trigger: self.trigger,
            changed: &self.changed,
            affected: &self.affected,
            result: self.result.name(),
            error: match &self.result {
                CycleResult::Error(message) => Some(message),
                _ => None,
            },
            failed: self.failed,
            elapsed: (self.elapsed * 1000.0).round() / 1000.0,
        };
        serde_json::to_string(&written).unwrap_or_default()
    }

    /// Packages selected across suites (a package in two suites counts once).
    fn affected_count(&self) -> usize {
        let mut all: Vec<&String> = self.affected.values().flatten().collect();
        all.sort();
        all.dedup();
        all.len()
    }
}

/// The line after a cycle: `gob: watching 262 packages · last run 14:02:11 · 3 affected ·
/// 1 failed` and what it ended with, then the keys.
pub fn status_line(event: &CycleEvent, watched: usize, time: &str) -> String {
    let mut parts = vec![
        format!("watching {}", plural(watched, "package")),
        format!("last run {time}"),
        format!("{} affected", event.affected_count()),
    ];
    parts.push(match (&event.result, event.failed) {
        (CycleResult::Passed | CycleResult::Failed, Some(failed)) => format!("{failed} failed"),
        (CycleResult::Passed, None) => "check passed".into(),
        (CycleResult::Failed, None) => "check failed".into(),
        (CycleResult::CheckFailed, _) => "check failed, tests not run".into(),
        (CycleResult::Nothing, _) => "nothing to run".into(),
        (CycleResult::Cancelled, _) => "cancelled".into(),
        (CycleResult::Error(_), _) => "could not run".into(),
    });
    format!(
        "gob: {} (Enter rerun · a all · f failed · c clear · q quit)",
        parts.join(" · ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(result: CycleResult, failed: Option<usize>) -> CycleEvent {
        CycleEvent {
            cycle: 2,
            trigger: "change",
            changed: vec!["leaf/leaf.go".into()],
            affected: [
                (
                    "unit".to_string(),
                    vec!["m/a".to_string(), "m/b".to_string()],
                ),
                ("race".to_string(), vec!["m/a".to_string()]),
            ]
            .into(),
            result,
            failed,
            elapsed: 0.81234,
        }
    }

    #[test]
    fn the_status_line_counts_packages_once() {
        let line = status_line(&event(CycleResult::Failed, Some(1)), 262, "14:02:11");
        assert!(
            line.starts_with(
                "gob: watching 262 packages · last run 14:02:11 · 2 affected · 1 failed ("
            ),
            "{line}"
        );
        let line = status_line(&event(CycleResult::CheckFailed, Some(0)), 1, "x");
        assert!(line.contains("1 package · "), "{line}");
        assert!(line.contains("check failed, tests not run"), "{line}");
    }

    #[test]
    fn the_event_is_one_json_line() {
        let json = event(CycleResult::Error("no manifest".into()), None).to_json();
        assert_eq!(
            json,
            r#"{"Action":"gob-watch-cycle","Cycle":2,"Trigger":"change","Changed":["leaf/leaf.go"],"Affected":{"race":["m/a"],"unit":["m/a","m/b"]},"Result":"error","Error":"no manifest","Elapsed":0.812}"#
        );
    }
}
