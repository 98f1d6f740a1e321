//! Budget resolution: detection and the override order (-j, GOB_JOBS, GOMAXPROCS).

use super::*;
use crate::go::version::GoVersion;

fn facts(affinity: usize, quotas: &[(u64, bool)]) -> CpuFacts {
    CpuFacts {
        affinity: Some(affinity),
        cgroup_limits: quotas
            .iter()
            .map(|&(quota_us, leaf)| CgroupLimit {
                version: CgroupVersion::V2,
                file: "/sys/fs/cgroup/x/cpu.max".into(),
                quota_us,
                period_us: 100_000,
                leaf,
            })
            .collect(),
        cgroup_error: None,
    }
}

#[test]
fn the_tightest_cgroup_on_the_path_wins_over_affinity() {
    let b = resolve(
        facts(8, &[(400_000, true), (150_000, false)]),
        &Default::default(),
    )
    .unwrap();
    assert_eq!((b.cpus, b.origin), (2, BudgetOrigin::Cgroup));
    assert_eq!(b.gomaxprocs_env, Some(2));
}

#[test]
fn affinity_wins_when_smaller_than_the_quota() {
    let b = resolve(facts(2, &[(400_000, true)]), &Default::default()).unwrap();
    assert_eq!((b.cpus, b.origin), (2, BudgetOrigin::Affinity));
}

#[test]
fn overrides_in_order_jobs_flag_gob_jobs_user_gomaxprocs() {
    let all = BudgetOverrides {
        jobs_flag: Some(3),
        gob_jobs: Some("5".into()),
        gomaxprocs: Some("7".into()),
    };
    let b = resolve(facts(8, &[]), &all).unwrap();
    assert_eq!(
        (b.cpus, b.origin, b.gomaxprocs_env),
        (3, BudgetOrigin::JobsFlag, Some(3))
    );
    let no_flag = BudgetOverrides {
        jobs_flag: None,
        ..all.clone()
    };
    let b = resolve(facts(8, &[]), &no_flag).unwrap();
    assert_eq!((b.cpus, b.origin), (5, BudgetOrigin::GobJobs));
    let user_only = BudgetOverrides {
        gomaxprocs: Some("7".into()),
        ..Default::default()
    };
    let b = resolve(facts(8, &[(100_000, true)]), &user_only).unwrap();
    assert_eq!((b.cpus, b.origin), (7, BudgetOrigin::UserGomaxprocs));
    assert_eq!(
        b.gomaxprocs_env, None,
        "the user's own GOMAXPROCS is passed through"
    );
}

#[test]
fn bad_gob_jobs_is_an_error() {
    let o = BudgetOverrides {
        gob_jobs: Some("lots".into()),
        ..Default::default()
    };
    let err = resolve(facts(2, &[]), &o).unwrap_err();
    assert_eq!(
        err.to_string(),
        "GOB_JOBS=\"lots\" is not a positive whole number of CPUs"
    );
}

#[test]
fn go_runtime_default_reads_the_leaf_only_and_never_below_two() {
    let go126 = GoVersion::parse("go1.26.0").unwrap();
    let go124 = GoVersion::parse("go1.24.0").unwrap();
    // A parent quota of 1 CPU: gob sees it, Go's runtime does not.
    let f = facts(8, &[(100_000, false)]);
    assert_eq!(f.detected_cpus(), 1);
    assert_eq!(f.go_runtime_default(&go126), 8);
    // A leaf quota of 1 CPU: Go 1.25+ rounds up to 2; Go 1.24 ignores it.
    let f = facts(8, &[(100_000, true)]);
    assert_eq!(f.go_runtime_default(&go126), 2);
    assert_eq!(f.go_runtime_default(&go124), 8);
}
