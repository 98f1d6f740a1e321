//! The timing history: how long each suite's packages took in earlier runs, kept in a small
//! JSON file (default `<workspace>/.gob/timings.json`) so `--shard K/N` can balance shards.
//! A missing or unreadable history only means "no history": it is a cache, never an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::collect::{PackageOutcome, PackageResult, TestStatus};
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
    /// Seconds of each top-level test (for splitting a package by test, `split`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tests: BTreeMap<String, f64>,
}

/// When a record was measured; one that cannot be read is older than any other.
fn measured_at(record: &Record) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(&record.measured).ok()
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

    /// Reads the history at `path` strictly: a missing or unreadable file is an error (for
    /// `gob timings merge`, which was told to read it).
    pub fn read(path: &Path) -> Result<History, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a timing history: {e}", path.display()))
    }

    /// Takes in `other`'s records: per suite and package, the newest measurement wins.
    pub fn merge(&mut self, other: History) {
        self.version = 1;
        for (key, record) in other.packages {
            let newer = self
                .packages
                .get(&key)
                .is_none_or(|mine| measured_at(&record) > measured_at(mine));
            if newer {
                self.packages.insert(key, record);
            }
        }
    }

    /// The recorded time of `package` in `suite`.
    pub fn seconds(&self, suite: &str, package: &str) -> Option<f64> {
        self.packages.get(&key(suite, package)).map(|r| r.seconds)
    }

    /// The recorded times of the top-level tests of `package` in `suite`.
    pub fn tests(&self, suite: &str, package: &str) -> Option<&BTreeMap<String, f64>> {
        self.packages.get(&key(suite, package)).map(|r| &r.tests)
    }

    /// Records the packages that ran (cached results, build failures and interrupted runs,
    /// whose time is 0, say nothing about run time: they keep their earlier record). A
    /// partial run updates only the times of the tests it ran.
    pub fn record(&mut self, results: &[PackageResult]) {
        self.version = 1;
        let measured = now();
        for r in results {
            if r.cached || r.outcome == PackageOutcome::BuildFailed || r.elapsed <= 0.0 {
                continue;
            }
            let tests = r
                .tests
                .iter()
                .filter(|t| !t.name.contains('/') && t.status != TestStatus::Unfinished)
                .map(|t| (t.name.clone(), t.elapsed));
            let key = key(&r.suite, &r.package);
            match (r.partial, self.packages.get_mut(&key)) {
                (true, Some(known)) => {
                    known.tests.extend(tests);
                    known.measured = measured.clone();
                }
                // Nothing known: a part is better than no estimate at all.
                (true, None) | (false, _) => {
                    self.packages.insert(
                        key,
                        Record {
                            seconds: r.elapsed,
                            measured: measured.clone(),
                            tests: tests.collect(),
                        },
                    );
                }
            }
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
            partial: false,
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
    fn a_partial_run_updates_the_times_of_its_tests_and_keeps_the_package_time() {
        let test = |name: &str, elapsed: f64| crate::report::TestResult {
            name: name.into(),
            status: TestStatus::Passed,
            elapsed,
            output: Vec::new(),
            earlier: Vec::new(),
        };
        let mut whole = result("m/a", 8.0, false);
        whole.tests = vec![
            test("TestA", 4.0),
            test("TestB", 3.5),
            test("TestB/sub", 1.0),
        ];
        let mut history = History::default();
        history.record(&[whole]);
        let mut part = result("m/a", 2.0, false);
        part.tests = vec![test("TestA", 1.5)];
        part.partial = true;
        history.record(&[part]);
        assert_eq!(history.seconds("integ", "m/a"), Some(8.0));
        let tests = history.tests("integ", "m/a").unwrap();
        assert_eq!(tests.len(), 2, "top-level tests only: {tests:?}");
        assert_eq!(tests["TestA"], 1.5);
        assert_eq!(tests["TestB"], 3.5);
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
    fn merging_keeps_the_newest_record_of_each_package() {
        let record = |seconds: f64, measured: &str| Record {
            seconds,
            measured: measured.into(),
            tests: BTreeMap::new(),
        };
        let mut a = History::default();
        a.packages
            .insert("integ m/a".into(), record(1.0, "2026-12-01T10:00:00+00:00"));
        a.packages
            .insert("integ m/b".into(), record(2.0, "2026-12-01T12:00:00+01:00"));
        let mut b = History::default();
        b.packages
            .insert("integ m/a".into(), record(5.0, "2026-12-01T11:00:00+00:00"));
        b.packages
            .insert("integ m/b".into(), record(9.0, "2026-12-01T11:30:00+00:00"));
        b.packages.insert("unit m/c".into(), record(3.0, "garbage"));
        a.merge(b);
        assert_eq!(a.seconds("integ", "m/a"), Some(5.0), "newer");
        assert_eq!(
            a.seconds("integ", "m/b"),
            Some(9.0),
            "11:30Z is after 12:00+01:00"
        );
        assert_eq!(a.seconds("unit", "m/c"), Some(3.0), "new to the history");
    }

    #[test]
    fn a_broken_history_is_no_history() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("timings.json");
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(History::load(&path), History::default());
    }
}
