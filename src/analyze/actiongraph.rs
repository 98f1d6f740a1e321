//! Reading `go build -debug-actiongraph=FILE`: a JSON array of go's actions (work/action.go
//! `actionJSON`). Only the fields gob uses are typed; every one may be missing or null,
//! since the set differs across Go versions (1.26 adds "build check cache" actions, older
//! releases have no `CmdReal`, an action that did not run has no times).

use serde::Deserialize;

/// One action as go wrote it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct RawAction {
    /// Index in the array.
    #[serde(rename = "ID")]
    pub id: usize,
    /// `build`, `link`, `link-install`, `build check cache`, `nop`, `go build`, …
    #[serde(default)]
    pub mode: String,
    /// Import path ("" for actions without a package).
    #[serde(default)]
    pub package: String,
    /// IDs of the actions this one waited for.
    #[serde(default)]
    pub deps: Vec<usize>,
    /// When it could start (RFC 3339).
    #[serde(default)]
    pub time_ready: Option<String>,
    /// When it started.
    #[serde(default)]
    pub time_start: Option<String>,
    /// When it ended.
    #[serde(default)]
    pub time_done: Option<String>,
    /// The commands it ran (compile, asm, link, cgo …), if any.
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    /// It failed.
    #[serde(default)]
    pub failed: Option<bool>,
    /// User CPU time of its commands, nanoseconds (go's `CmdUser`, the tools' rusage).
    #[serde(default)]
    pub cmd_user: Option<i64>,
    /// System CPU time of its commands, nanoseconds (`CmdSys`).
    #[serde(default)]
    pub cmd_sys: Option<i64>,
}

/// An action with its times as seconds since the first action started.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// Index in the graph.
    pub id: usize,
    /// go's mode.
    pub mode: String,
    /// Import path, or "".
    pub package: String,
    /// Actions it waited for.
    pub deps: Vec<usize>,
    /// Start, in seconds from the graph's first start.
    pub start: f64,
    /// End, in seconds from the graph's first start.
    pub end: f64,
    /// What kind of work it did.
    pub tool: Tool,
    /// CPU seconds its commands used (user + system), when go recorded them.
    pub cpu: Option<f64>,
}

impl Action {
    /// Seconds it took.
    pub fn duration(&self) -> f64 {
        (self.end - self.start).max(0.0)
    }
}

/// The kind of work an action did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Tool {
    /// The Go compiler.
    Compile,
    /// The assembler (with a compile in the same action: counted here only without one).
    Asm,
    /// cgo and the C compiler.
    Cgo,
    /// The linker.
    Link,
    /// Build-cache lookups, installs, and bookkeeping.
    Other,
}

impl Tool {
    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Compile => "compile",
            Tool::Asm => "asm",
            Tool::Cgo => "cgo",
            Tool::Link => "link",
            Tool::Other => "other",
        }
    }

    fn of(raw: &RawAction) -> Tool {
        let cmds = raw.cmd.as_deref().unwrap_or_default();
        let runs = |tool: &str| {
            cmds.iter().any(|c| {
                c.split_whitespace()
                    .next()
                    .is_some_and(|p| p.rsplit('/').next() == Some(tool))
            })
        };
        if raw.mode == "link" || runs("link") {
            Tool::Link
        } else if runs("cgo") || runs("gcc") || runs("clang") || runs("cc") {
            Tool::Cgo
        } else if runs("compile") {
            Tool::Compile
        } else if runs("asm") {
            Tool::Asm
        } else {
            Tool::Other
        }
    }
}

/// A problem with an actiongraph file.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the actiongraph: {0}")]
pub struct ActionGraphError(String);

/// Parses an actiongraph; actions without both a start and an end time are dropped (they did
/// not run), their edges kept for the others.
pub fn parse(text: &str) -> Result<Vec<Action>, ActionGraphError> {
    let raw: Vec<RawAction> =
        serde_json::from_str(text).map_err(|e| ActionGraphError(e.to_string()))?;
    let time = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_nanos_opt().unwrap_or(0))
    };
    let timed: Vec<(&RawAction, i64, i64)> = raw
        .iter()
        .filter_map(|a| Some((a, time(&a.time_start)?, time(&a.time_done)?)))
        .collect();
    let origin = timed.iter().map(|(_, s, _)| *s).min().unwrap_or(0);
    let seconds = |ns: i64| (ns - origin) as f64 / 1e9;
    Ok(timed
        .into_iter()
        .map(|(a, start, end)| Action {
            id: a.id,
            mode: a.mode.clone(),
            package: a.package.clone(),
            deps: a.deps.clone(),
            start: seconds(start),
            end: seconds(end.max(start)),
            tool: Tool::of(a),
            cpu: match (a.cmd_user, a.cmd_sys) {
                (None, None) => None,
                (user, sys) => Some((user.unwrap_or(0) + sys.unwrap_or(0)) as f64 / 1e9),
            },
        })
        .collect())
}

/// Joins the graphs of calls run one after another: IDs are renumbered to stay unique, each
/// graph's times are shifted to start where the previous one ended, and its first actions
/// depend on the previous graph's last one (a call starts when the one before ended).
pub fn concat(graphs: Vec<Vec<Action>>) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    let (mut id_base, mut time_base) = (0, 0.0_f64);
    for graph in graphs {
        let next_id = id_base + graph.iter().map(|a| a.id + 1).max().unwrap_or(0);
        let end = graph.iter().map(|a| a.end).fold(0.0, f64::max);
        let previous = out
            .iter()
            .max_by(|a, b| a.end.total_cmp(&b.end))
            .map(|a| a.id);
        out.extend(graph.into_iter().map(|mut a| {
            a.id += id_base;
            a.deps.iter_mut().for_each(|d| *d += id_base);
            if a.deps.is_empty() {
                a.deps.extend(previous);
            }
            a.start += time_base;
            a.end += time_base;
            a
        }));
        id_base = next_id;
        time_base += end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Actiongraphs recorded from real builds of examples/mesh (cmd/alpha and cmd/beta, empty
    /// GOCACHE) with the installed Go and with Debian's Go 1.19.
    const GO126: &str = include_str!("../../tests/fixtures/actiongraph/go1.26.json");
    const GO119: &str = include_str!("../../tests/fixtures/actiongraph/go1.19.json");

    #[test]
    fn recorded_graphs_of_both_go_versions_parse() {
        for (name, text) in [("go1.26", GO126), ("go1.19", GO119)] {
            let actions = parse(text).unwrap();
            assert!(actions.len() > 10, "{name}: {}", actions.len());
            let links = actions.iter().filter(|a| a.tool == Tool::Link).count();
            assert_eq!(links, 2, "{name}: two binaries, two links");
            assert!(actions.iter().any(|a| a.tool == Tool::Compile), "{name}");
            assert!(
                actions.iter().all(|a| a.end >= a.start && a.start >= 0.0),
                "{name}"
            );
            let alpha = actions
                .iter()
                .find(|a| a.tool == Tool::Link && a.package.ends_with("cmd/alpha"))
                .unwrap_or_else(|| panic!("{name}: no link of alpha"));
            assert!(!alpha.deps.is_empty(), "{name}");
        }
    }

    #[test]
    fn malformed_actiongraphs() {
        assert!(parse("not json").is_err());
        assert!(parse(r#"{"ID":0}"#).is_err(), "an object, not an array");
        assert!(
            parse(r#"[{"Mode":"build"}]"#).is_err(),
            "an action needs its ID"
        );
        let actions = parse(
            r#"[{"ID":0,"Mode":"build","Package":"a","TimeStart":"2026-01-01T00:00:00Z","TimeDone":"2026-01-01T00:00:01.5Z","Cmd":null},
                {"ID":1,"Mode":"nop","TimeStart":"garbage","TimeDone":"2026-01-01T00:00:01Z"},
                {"ID":2,"Mode":"build","Package":"b","TimeStart":"2026-01-01T00:00:02Z","TimeDone":"2026-01-01T00:00:01Z","Future":[1,2]}]"#,
        )
        .unwrap();
        assert_eq!(
            actions.len(),
            2,
            "an action with an unreadable time did not run"
        );
        assert_eq!(actions[0].duration(), 1.5);
        assert_eq!(
            actions[1].duration(),
            0.0,
            "an end before the start is no time"
        );
        assert_eq!(actions[0].tool, Tool::Other);
    }

    #[test]
    fn concatenated_graphs_stay_apart() {
        let one = parse(GO119).unwrap();
        let joined = concat(vec![one.clone(), one.clone()]);
        assert_eq!(joined.len(), one.len() * 2);
        let ids: std::collections::BTreeSet<usize> = joined.iter().map(|a| a.id).collect();
        assert_eq!(ids.len(), joined.len(), "unique IDs");
        let end = one.iter().map(|a| a.end).fold(0.0, f64::max);
        assert!(
            joined[one.len()].start >= end,
            "the second call starts after the first"
        );
        let path = crate::analyze::stats::critical_path(&joined);
        assert!(
            path.first().is_some_and(|&i| i < one.len())
                && path.last().is_some_and(|&i| i >= one.len()),
            "the critical path runs through both calls"
        );
    }
}
