//! The timing history: how long each suite's packages took in earlier runs, kept in a small
//! JSON file (default `<workspace>/.gob/timings.json`) so `--shard K/N` can balance shards.
//! A missing or unreadable history only means "no history": it is a cache, never an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::collect::{PackageOutcome, PackageResult};
use super::sink::{Sink, now};

/// What the file holds.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct History {
    /// Format version (1).
    pub version: u32,
    /// `"<suite> <import path>"` → last measured time.
    pub packages: BTreeMap<String, Record>,
}

/// One package's last measured run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// Seconds, as the package's test2json result said.
    pub seconds: f64,
    /// When it was measured (RFC 3339).
    pub measured: String,
}

fn key(suite: &str, package: &str) -> String {
    format!("{suite} {package}")
}

impl History {
    /// Reads the history at `path`; a problem with it is a warning and an empty history.
    pub fn load(path: &Path) -> History {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return History::default(),
            Err(e) => {
                eprintln!(
                    "gob: warning: ignoring the timing history {}: {e}",
                    path.display()
                );
                return History::default();
            }
        };
        serde_json::from_str(&text).unwrap_or_else(|e| {
            eprintln!(
                "gob: warning: ignoring the timing history {}: {e}",
                path.display()
            );
            History::default()
        })
    }

    /// The recorded time of `package` in `suite`.
    pub fn seconds(&self, suite: &str, package: &str) -> Option<f64> {
        self.packages.get(&key(suite, package)).map(|r| r.seconds)
    }

    /// Records the packages that ran (cached results, build failures and interrupted runs,
    /// whose time is 0, say nothing about run time: they keep their earlier record).
    pub fn record(&mut self, results: &[PackageResult]) {
        self.version = 1;
        let measured = now();
        for r in results {
            if r.cached || r.outcome == PackageOutcome::BuildFailed || r.elapsed <= 0.0 {
                continue;
            }
            self.packages.insert(
                key(&r.suite, &r.package),
                Record {
                    seconds: r.elapsed,
                    measured: measured.clone(),
                },
            );
        }
    }
}

/// Records the run's package times into the history file when the run ends.
pub struct TimingRecorder {
    path: PathBuf,
}

impl TimingRecorder {
    /// A recorder updating the history at `path`.
    pub fn new(path: PathBuf) -> TimingRecorder {
        TimingRecorder { path }
    }
}

impl Sink for TimingRecorder {
    fn finish(&mut self, results: &[PackageResult]) -> std::io::Result<()> {
        if results.is_empty() {
            return Ok(());
        }
        let mut history = History::load(&self.path);
        history.record(results);
        let written = serde_json::to_string_pretty(&history)
            .map_err(std::io::Error::other)
            .and_then(|text| {
                crate::base::paths::write_atomically(&self.path, format!("{text}\n").as_bytes())
            });
        // The history is a cache for sharding: losing it never fails a run.
        if let Err(error) = written {
            eprintln!(
                "gob: warning: cannot record test times in {}: {error}",
                self.path.display()
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(package: &str, elapsed: f64, cached: bool) -> PackageResult {
        PackageResult {
            suite: "integ".into(),
            package: package.into(),
            dir: None,
            outcome: PackageOutcome::Passed,
            elapsed,
            tests: Vec::new(),
            output: Vec::new(),
            cached,
            note: None,
            attempts: 1,
        }
    }

    #[test]
    fn records_round_trip_and_cached_results_keep_the_old_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t/timings.json");
        let mut recorder = TimingRecorder::new(path.clone());
        recorder.finish(&[result("m/a", 2.5, false)]).unwrap();
        recorder
            .finish(&[result("m/a", 0.0, true), result("m/b", 1.0, false)])
            .unwrap();
        let history = History::load(&path);
        assert_eq!(history.seconds("integ", "m/a"), Some(2.5));
        assert_eq!(history.seconds("integ", "m/b"), Some(1.0));
        assert_eq!(history.seconds("unit", "m/a"), None);
    }

    #[test]
    fn an_unwritable_history_is_a_warning_not_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("timings.json");
        std::fs::create_dir(&path).unwrap();
        let mut recorder = TimingRecorder::new(path);
        recorder.finish(&[result("m/a", 2.5, false)]).unwrap();
    }

    #[test]
    fn a_broken_history_is_no_history() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("timings.json");
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(History::load(&path), History::default());
    }
}
