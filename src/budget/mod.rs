//! The CPU budget: how many CPUs gob's go commands may really use, and where that number
//! came from.
//!
//! budget = min(affinity CPUs, ceil(quota/period) of the most restrictive cgroup on the path
//! to the root), at least 1. Overrides, strongest first: `-j N`, `GOB_JOBS`, the user's own
//! `GOMAXPROCS`. Resolution ([`resolve`]) is pure; [`CpuFacts::detect`] does the reading.

mod affinity;
pub mod cgroup;

use std::path::Path;

use serde::Serialize;

pub use cgroup::{CgroupLimit, CgroupVersion};

/// What the machine says, before any override.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CpuFacts {
    /// CPUs in the affinity mask.
    pub affinity: Option<usize>,
    /// Every CPU quota on the cgroup paths (both versions).
    pub cgroup_limits: Vec<CgroupLimit>,
    /// Why the cgroup files could not be read, if they could not.
    pub cgroup_error: Option<String>,
}

impl CpuFacts {
    /// Reads the affinity mask and the cgroup files under `root` (`/` in production).
    pub fn detect(root: &Path) -> CpuFacts {
        let (cgroup_limits, cgroup_error) = match cgroup::detect_limits(root) {
            Ok(limits) => (limits, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        CpuFacts {
            affinity: affinity::affinity_cpus(),
            cgroup_limits,
            cgroup_error,
        }
    }

    /// The most restrictive cgroup limit, if any.
    pub fn tightest_limit(&self) -> Option<&CgroupLimit> {
        // q1/p1 < q2/p2  <=>  q1*p2 < q2*p1, exact in u128.
        self.cgroup_limits.iter().min_by(|a, b| {
            let left = u128::from(a.quota_us) * u128::from(b.period_us);
            let right = u128::from(b.quota_us) * u128::from(a.period_us);
            left.cmp(&right)
        })
    }

    /// The GOMAXPROCS a Go program picks by itself: Go 1.25+ reads the leaf cgroup only,
    /// never below 2 (runtime/cgroup_linux.go); older Go only the affinity mask.
    pub fn go_runtime_default(&self, version: &crate::go::version::GoVersion) -> usize {
        let leaf = self
            .cgroup_limits
            .iter()
            .filter(|l| l.leaf)
            .map(CgroupLimit::cpus)
            .min();
        crate::go::gomaxprocs::runtime_default(version, self.affinity.unwrap_or(1), leaf)
    }

    /// min(affinity, tightest cgroup), at least 1.
    pub fn detected_cpus(&self) -> usize {
        let affinity = self.affinity.unwrap_or(1);
        let quota = self.tightest_limit().map_or(usize::MAX, CgroupLimit::cpus);
        affinity.min(quota).max(1)
    }
}

/// Where the budget number came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetOrigin {
    /// `-j N` on the command line.
    JobsFlag,
    /// The `GOB_JOBS` environment variable.
    GobJobs,
    /// The user's own `GOMAXPROCS`, passed through unchanged.
    UserGomaxprocs,
    /// A cgroup CPU quota.
    Cgroup,
    /// The affinity mask.
    Affinity,
}

/// The resolved budget.
#[derive(Debug, Clone, Serialize)]
pub struct Budget {
    /// CPUs gob's go commands may use; gob's own `-p` and `GOMAXPROCS` follow it.
    pub cpus: usize,
    /// Where `cpus` came from.
    pub origin: BudgetOrigin,
    /// The machine facts behind the detection.
    pub facts: CpuFacts,
    /// `GOMAXPROCS` to set for go commands; `None` when the user's own is passed through.
    pub gomaxprocs_env: Option<usize>,
}

/// Overrides read from the command line and environment.
#[derive(Debug, Clone, Default)]
pub struct BudgetOverrides {
    /// `-j N`.
    pub jobs_flag: Option<usize>,
    /// `GOB_JOBS`, unparsed.
    pub gob_jobs: Option<String>,
    /// The user's `GOMAXPROCS`, unparsed.
    pub gomaxprocs: Option<String>,
}

/// A `GOB_JOBS` value that is not a positive integer.
#[derive(Debug, thiserror::Error)]
#[error("GOB_JOBS={0:?} is not a positive whole number of CPUs")]
pub struct BadJobs(pub String);

/// Combines the facts and the overrides into a budget.
pub fn resolve(facts: CpuFacts, overrides: &BudgetOverrides) -> Result<Budget, BadJobs> {
    let positive = |s: &str| s.trim().parse::<usize>().ok().filter(|n| *n > 0);
    let gob_jobs = match &overrides.gob_jobs {
        Some(raw) if !raw.trim().is_empty() => {
            Some(positive(raw).ok_or_else(|| BadJobs(raw.clone()))?)
        }
        _ => None,
    };
    let user = overrides.gomaxprocs.as_deref().and_then(positive);
    let (cpus, origin, env) = if let Some(n) = overrides.jobs_flag {
        (n.max(1), BudgetOrigin::JobsFlag, Some(n.max(1)))
    } else if let Some(n) = gob_jobs {
        (n, BudgetOrigin::GobJobs, Some(n))
    } else if let Some(n) = user {
        (n, BudgetOrigin::UserGomaxprocs, None)
    } else {
        let detected = facts.detected_cpus();
        let from_cgroup = facts
            .tightest_limit()
            .is_some_and(|l| facts.affinity.is_none_or(|a| l.cpus() < a));
        let origin = if from_cgroup {
            BudgetOrigin::Cgroup
        } else {
            BudgetOrigin::Affinity
        };
        (detected, origin, Some(detected))
    };
    Ok(Budget {
        cpus,
        origin,
        facts,
        gomaxprocs_env: env,
    })
}

#[cfg(test)]
mod tests;
