//! test2json events: the seam between running tests and reporting them.
//!
//! Fields gob knows are typed; every other field (Go 1.24's `ImportPath` on `build-output`,
//! 1.25's `Key`/`Value`, 1.27's `OutputType`, …) is kept in `extra` and written back unchanged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One event as `go test -json` / `go tool test2json` print it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct TestEvent {
    /// RFC 3339 time.
    #[serde(rename = "Time", default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// start, run, pause, cont, pass, bench, fail, output, skip, attr, build-output, …
    #[serde(rename = "Action")]
    pub action: String,
    /// Import path of the package.
    #[serde(rename = "Package", default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Test name, for test-level events.
    #[serde(rename = "Test", default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    /// Seconds, on pass/fail/skip.
    #[serde(rename = "Elapsed", default, skip_serializing_if = "Option::is_none")]
    pub elapsed: Option<f64>,
    /// Output text, on output events.
    #[serde(rename = "Output", default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Every field gob does not know, kept as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Parses one line of JSON output; `None` for a line that is not an event.
pub fn parse_line(line: &str) -> Option<TestEvent> {
    let line = line.trim();
    if !line.starts_with('{') {
        return None;
    }
    serde_json::from_str(line).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_fields_and_keeps_the_rest() {
        let line = r#"{"Time":"2026-11-25T12:00:00Z","Action":"output","Package":"m/a","Test":"TestX","Output":"hi\n","OutputType":"frame","Future":{"x":1}}"#;
        let ev = parse_line(line).unwrap();
        assert_eq!(ev.action, "output");
        assert_eq!(ev.test.as_deref(), Some("TestX"));
        assert_eq!(ev.extra["OutputType"], "frame");
        let back: Value = serde_json::from_str(&serde_json::to_string(&ev).unwrap()).unwrap();
        let orig: Value = serde_json::from_str(line).unwrap();
        assert_eq!(back, orig, "round trip keeps every field");
    }

    #[test]
    fn non_json_lines_are_not_events() {
        assert!(parse_line("ok  \tm/a\t0.01s").is_none());
        assert!(parse_line("{not json").is_none());
    }
}
