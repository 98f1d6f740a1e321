//! What a watch cycle runs (`gob check --watch`, `gob test --watch`): after a save, the
//! packages whose inputs differ from the last complete cycle's, by `--since`'s rules
//! ([`crate::plan::affected::select_packages`]); on a key, the last set again, everything,
//! or what failed. Pure: the sides come in.

use crate::plan::affected::{Reason, Selection, Sides, select_packages};

/// Why a cycle runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The watch started: everything runs.
    Start,
    /// Files were saved (paths relative to the workspace dir).
    Changes(Vec<String>),
    /// Enter (or `r`): the last cycle's packages again.
    Rerun,
    /// `a`: everything.
    All,
    /// `f`: what failed in the last runs.
    Failed,
}

impl Trigger {
    /// Its name in a `gob-watch-cycle` event.
    pub fn name(&self) -> &'static str {
        match self {
            Trigger::Start => "start",
            Trigger::Changes(_) => "change",
            Trigger::Rerun => "rerun",
            Trigger::All => "all",
            Trigger::Failed => "failed",
        }
    }
}

/// A request typed at a watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Run a cycle.
    Run(Asked),
    /// Clear the screen.
    Clear,
    /// End the watch (exit 0).
    Quit,
}

/// The cycles a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// The last set again.
    Rerun,
    /// Everything.
    All,
    /// What failed.
    Failed,
}

impl From<Asked> for Trigger {
    fn from(asked: Asked) -> Trigger {
        match asked {
            Asked::Rerun => Trigger::Rerun,
            Asked::All => Trigger::All,
            Asked::Failed => Trigger::Failed,
        }
    }
}

/// The request of a key in a terminal (Enter, `r`, `a`, `f`, `c`, `q`), or of a line read
/// from stdin elsewhere (an empty line is Enter; words work too: `all`, `failed`, `quit`).
pub fn request(input: &str) -> Option<Request> {
    match input.trim().to_ascii_lowercase().as_str() {
        "" | "r" | "rerun" => Some(Request::Run(Asked::Rerun)),
        "a" | "all" => Some(Request::Run(Asked::All)),
        "f" | "failed" => Some(Request::Run(Asked::Failed)),
        "c" | "clear" => Some(Request::Clear),
        "q" | "quit" => Some(Request::Quit),
        _ => None,
    }
}

/// What one suite runs in a cycle: `None` is every package (the first cycle, `a`, or a
/// suite the last cycle did not see), else the selection. `sides` compares the suite now
/// with the last complete cycle (`None`: no such cycle); `last` is what the last cycle
/// selected of it; `failed`, the suite's packages with failures on record (for `f`).
pub fn choose(
    trigger: &Trigger,
    packages: &[String],
    sides: Option<&Sides>,
    last: Option<&Selection>,
    failed: &[String],
) -> Option<Selection> {
    match trigger {
        Trigger::Start | Trigger::All => None,
        Trigger::Failed => Some(only(packages, failed)),
        Trigger::Rerun => last.map(|last| again(last, packages)),
        Trigger::Changes(_) => sides.map(|sides| select_packages(packages, sides)),
    }
}

/// The `packages` that failed, selected.
fn only(packages: &[String], failed: &[String]) -> Selection {
    let mut selection = Selection::default();
    for package in packages {
        match failed.contains(package) {
            true => selection.selected.push((
                package.clone(),
                Reason::Asked("it failed in the last run".into()),
            )),
            false => selection.not_affected.push(package.clone()),
        }
    }
    selection
}

/// The packages `last` selected that still exist, for the same reasons.
fn again(last: &Selection, packages: &[String]) -> Selection {
    let reason = |p: &String| last.selected.iter().find(|(q, _)| q == p).map(|(_, r)| r);
    let mut selection = Selection::default();
    for package in packages {
        match reason(package) {
            Some(reason) => selection.selected.push((package.clone(), reason.clone())),
            None => selection.not_affected.push(package.clone()),
        }
    }
    selection
}

/// Every package of a suite selected, as a cycle that ran everything leaves it (for a
/// later Enter).
pub fn everything(packages: &[String]) -> Selection {
    Selection {
        selected: packages
            .iter()
            .map(|p| {
                (
                    p.clone(),
                    Reason::Asked("every package was asked for".into()),
                )
            })
            .collect(),
        not_affected: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::snapshot::{Inputs, Snapshot};
    use std::collections::BTreeMap;

    fn snapshot(content: &str) -> Snapshot {
        let mut packages = BTreeMap::new();
        let file = |name: &str, digest: &str| Inputs {
            files: [(name.to_string(), digest.to_string())].into(),
            ..Default::default()
        };
        packages.insert("m/a".into(), file("a/a.go", content));
        packages.insert("m/b".into(), file("b/b.go", "1"));
        Snapshot { packages }
    }

    #[test]
    fn keys_and_lines_name_the_same_requests() {
        assert_eq!(request(""), Some(Request::Run(Asked::Rerun)));
        assert_eq!(request("\n"), Some(Request::Run(Asked::Rerun)));
        assert_eq!(request("a"), Some(Request::Run(Asked::All)));
        assert_eq!(request("failed\n"), Some(Request::Run(Asked::Failed)));
        assert_eq!(request("Q"), Some(Request::Quit));
        assert_eq!(request("c"), Some(Request::Clear));
        assert_eq!(request("x"), None);
    }

    #[test]
    fn a_change_selects_by_the_closures_and_enter_repeats_it() {
        let (now, base) = (snapshot("2"), snapshot("1"));
        let empty = BTreeMap::new();
        let sides = Sides {
            now: &now,
            base: Ok(&base),
            settings: &[],
            inputs_now: &empty,
            inputs_base: &empty,
        };
        let packages = vec!["m/a".to_string(), "m/b".to_string()];
        let changes = Trigger::Changes(vec!["a/a.go".into()]);
        let chosen = choose(&changes, &packages, Some(&sides), None, &[]).unwrap();
        assert_eq!(chosen.selected.len(), 1);
        assert_eq!(chosen.not_affected, ["m/b"]);
        let again = choose(&Trigger::Rerun, &packages[1..], None, Some(&chosen), &[]).unwrap();
        assert!(again.selected.is_empty(), "m/a is gone: {again:?}");
        assert_eq!(
            choose(&Trigger::All, &packages, Some(&sides), None, &[]),
            None
        );
        assert_eq!(
            choose(&changes, &packages, None, None, &[]),
            None,
            "no base yet"
        );
        let all = everything(&packages);
        let again = choose(&Trigger::Rerun, &packages, None, Some(&all), &[]).unwrap();
        assert_eq!(again.selected.len(), 2);
        let failed = choose(&Trigger::Failed, &packages, None, None, &packages[1..]).unwrap();
        assert_eq!(failed.not_affected, ["m/a"]);
        assert_eq!(failed.selected[0].0, "m/b");
    }
}
