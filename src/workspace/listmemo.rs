//! `go list` answers a watch keeps between its cycles: the suites' packages and their test
//! closures, asked again after every save, are the same while the files go list reads are
//! (what [`crate::go::listed`] says it reads of a Go file, and every other file as a
//! [`super::treedigest`] walk counts it). Off unless a watch turns it on ([`Guard`]), which
//! then forgets the answers whenever a walk finds anything go list reads changed, or cannot
//! tell.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::workspace::treedigest::{Apart, TreeDigest, digest};

/// Keeps the answers valid across a watch's cycles: a walk before each cycle, compared with
/// the walk before the cycle that took the answers, and a walk after it, whose stamps must
/// equal those before (go may have read files as they were while it ran, or after).
pub struct Guard {
    roots: Vec<PathBuf>,
    skip: Vec<PathBuf>,
    names_only: Vec<PathBuf>,
    /// The digest of the files when the answers kept were taken; `None`: none are valid.
    valid: Option<String>,
}

impl Guard {
    /// Starts keeping answers for the trees at `roots` (see [`digest`] for the dirs apart).
    pub fn start(roots: Vec<PathBuf>, skip: Vec<PathBuf>, names_only: Vec<PathBuf>) -> Guard {
        keep();
        Guard {
            roots,
            skip,
            names_only,
            valid: None,
        }
    }

    fn walk(&self) -> Option<TreeDigest> {
        let apart = Apart {
            skip: &self.skip,
            names_only: &self.names_only,
            go_as_listed: true,
        };
        digest(&self.roots, apart).ok()
    }

    /// Before a cycle: forgets the answers unless go list would read what it read when they
    /// were taken (always, for a `fresh` look). The walk is for [`Guard::after`].
    pub fn before(&mut self, fresh: bool) -> Option<TreeDigest> {
        let walk = self.walk();
        if fresh || walk.as_ref().map(|w| &w.digest) != self.valid.as_ref() {
            forget();
            self.valid = None;
        }
        walk
    }

    /// After a cycle: its answers stay valid for the next when nothing was written between
    /// `before` and now.
    pub fn after(&mut self, before: Option<TreeDigest>) {
        let unchanged = |before: &TreeDigest| {
            self.walk()
                .is_some_and(|after| after.stamps == before.stamps)
        };
        self.valid = before.filter(unchanged).map(|before| before.digest);
        if self.valid.is_none() {
            forget();
        }
    }
}

/// Answers by command, or `None` while not keeping any.
struct Memo(Mutex<Option<HashMap<String, Vec<u8>>>>);

/// The process's answers.
static ANSWERS: Memo = Memo(Mutex::new(None));

/// Starts keeping answers (for the rest of the process).
pub fn keep() {
    ANSWERS.keep();
}

/// Forgets every answer kept so far.
pub fn forget() {
    ANSWERS.forget();
}

/// The output of the command `key` names: the one kept, else `run`'s (kept when answers are
/// being kept and it succeeded).
pub fn answer<E>(key: &str, run: impl FnOnce() -> Result<Vec<u8>, E>) -> Result<Vec<u8>, E> {
    ANSWERS.answer(key, run)
}

impl Memo {
    fn answers(&self) -> std::sync::MutexGuard<'_, Option<HashMap<String, Vec<u8>>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn keep(&self) {
        self.answers().get_or_insert_with(HashMap::new);
    }

    fn forget(&self) {
        if let Some(answers) = self.answers().as_mut() {
            answers.clear();
        }
    }

    fn answer<E>(&self, key: &str, run: impl FnOnce() -> Result<Vec<u8>, E>) -> Result<Vec<u8>, E> {
        // Not locked while go runs: suites are listed on threads of their own.
        let Some(found) = self.answers().as_ref().map(|a| a.get(key).cloned()) else {
            return run();
        };
        if let Some(output) = found {
            return Ok(output);
        }
        let output = run()?;
        if let Some(answers) = self.answers().as_mut() {
            answers.insert(key.to_string(), output.clone());
        }
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_only_once_asked_to_and_until_forgotten() {
        let memo = Memo(Mutex::new(None));
        let runs = std::cell::Cell::new(0);
        let run = || -> Result<Vec<u8>, ()> {
            runs.set(runs.get() + 1);
            Ok(vec![runs.get()])
        };
        assert_eq!(memo.answer("k", run), Ok(vec![1]));
        assert_eq!(memo.answer("k", run), Ok(vec![2]), "not kept before keep()");
        memo.keep();
        assert_eq!(memo.answer("k", run), Ok(vec![3]));
        assert_eq!(memo.answer("k", run), Ok(vec![3]), "kept");
        assert_eq!(memo.answer("other", run), Ok(vec![4]));
        assert_eq!(memo.answer("k", || Err::<Vec<u8>, ()>(())), Ok(vec![3]));
        memo.forget();
        assert_eq!(memo.answer("k", run), Ok(vec![5]), "forgotten");
        assert_eq!(memo.answer("failing", || Err::<Vec<u8>, u8>(7)), Err(7));
        assert_eq!(
            memo.answer("failing", run),
            Ok(vec![6]),
            "a failure is not kept"
        );
    }
}
