//! Planning the remote run of an integration test binary: the action that runs it on a REAPI
//! worker exactly as gob runs it locally (in its package dir, with the suite's env and the
//! flags `go test -json` gives it), the binary's place in the input root, and the action's
//! timeout (the suite's plus the grace gob allows a local binary).

use std::collections::BTreeMap;
use std::time::Duration;

use super::test::{TestBinary, TestPlanContext, plan_run};
use crate::manifest::SuiteSpec;
use crate::reapi::execute::ActionSpec;

/// The PATH of an action whose suite sets none: a worker starts commands with an empty
/// environment, and tests that run tools need one.
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// When gob stops a test binary: past its `-test.timeout` by a tenth of it (2s to 30s), time
/// for the binary to panic on its own and print the stacks of the hanging test.
pub fn kill_after(timeout: Duration) -> Duration {
    timeout + (timeout / 10).clamp(Duration::from_secs(2), Duration::from_secs(30))
}

/// Where a remote test binary writes its coverage profile, relative to its working dir (an
/// output of the action).
pub const REMOTE_PROFILE: &str = "gob-coverage.out";

/// A planned remote run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRun {
    /// The action.
    pub action: ActionSpec,
    /// Where the binary goes in the input root (`/`-separated, relative).
    pub binary_path: String,
}

/// Plans the remote run of `binary` with `user_args` on a worker offering `platform`.
pub fn plan_remote_run(
    suite: &SuiteSpec,
    binary: &TestBinary,
    user_args: &[String],
    ctx: &TestPlanContext,
    platform: &BTreeMap<String, String>,
) -> RemoteRun {
    let profile = ctx.cover.map(|_| REMOTE_PROFILE);
    let local = plan_run(suite, binary, "", user_args, ctx, profile);
    let dir = crate::base::paths::relative_to(&binary.package.dir, &ctx.workspace_dir)
        .display()
        .to_string();
    let dir = if dir == "." { String::new() } else { dir };
    let name = binary
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut arguments = vec![format!("./{name}")];
    arguments.extend(local.binary.args);
    // The worker's CPUs are not this machine's: GOMAXPROCS from the local budget stays here.
    let mut env = suite.env.clone();
    env.entry("PATH".to_string())
        .or_insert_with(|| DEFAULT_PATH.to_string());
    let binary_path = match dir.is_empty() {
        true => name,
        false => format!("{dir}/{name}"),
    };
    RemoteRun {
        action: ActionSpec {
            arguments,
            env,
            working_directory: dir,
            platform: platform.clone(),
            timeout: local.timeout.map(kill_after),
            do_not_cache: !suite.cache_results,
            output_paths: profile.iter().map(|p| p.to_string()).collect(),
        },
        binary_path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::go::version::GoVersion;
    use crate::workspace::suites::TestPackage;
    use std::path::PathBuf;

    fn ctx() -> TestPlanContext {
        TestPlanContext {
            go: "go".into(),
            workspace_dir: PathBuf::from("/ws"),
            base_env: BTreeMap::from([("GOMAXPROCS".into(), "2".into())]),
            version: GoVersion::parse("go1.26.0").unwrap(),
            gob: "gob".into(),
            goflags: String::new(),
            cover: None,
        }
    }

    fn binary(dir: &str) -> TestBinary {
        TestBinary {
            package: TestPackage {
                import_path: "m/db".into(),
                dir: PathBuf::from(dir),
            },
            path: PathBuf::from("/ws/.gob/test/integ/db/@0123456789abcdef/db.test"),
        }
    }

    #[test]
    fn runs_the_binary_in_its_package_dir_as_locally() {
        let suite = SuiteSpec {
            name: "integ".into(),
            integ: true,
            timeout: Duration::from_secs(60),
            env: BTreeMap::from([("DB".into(), "mem".into())]),
            args: vec!["-test.short".into()],
            ..SuiteSpec::default()
        };
        let platform = BTreeMap::from([("OSFamily".into(), "linux".into())]);
        let run = plan_remote_run(
            &suite,
            &binary("/ws/internal/db"),
            &["-test.run=X".into()],
            &ctx(),
            &platform,
        );
        assert_eq!(run.binary_path, "internal/db/db.test");
        assert_eq!(run.action.working_directory, "internal/db");
        assert_eq!(
            run.action.arguments,
            [
                "./db.test",
                "-test.paniconexit0",
                "-test.v=test2json",
                "-test.timeout=1m0s",
                "-test.short",
                "-test.run=X"
            ]
        );
        assert_eq!(
            run.action.env,
            BTreeMap::from([
                ("DB".into(), "mem".into()),
                ("PATH".into(), DEFAULT_PATH.into())
            ]),
            "the suite's env and a PATH; not this machine's GOMAXPROCS"
        );
        assert_eq!(run.action.timeout, Some(Duration::from_secs(66)));
        assert!(
            run.action.do_not_cache,
            "integration results are not reused by default"
        );
        assert_eq!(run.action.platform, platform);
        let cached = SuiteSpec {
            cache_results: true,
            ..suite
        };
        let at_root = plan_remote_run(&cached, &binary("/ws"), &[], &ctx(), &platform);
        assert_eq!(
            (
                at_root.binary_path.as_str(),
                at_root.action.working_directory.as_str()
            ),
            ("db.test", "")
        );
        assert!(!at_root.action.do_not_cache);
    }

    #[test]
    fn the_grace_is_a_tenth_between_2_and_30_seconds() {
        assert_eq!(kill_after(Duration::from_secs(10)), Duration::from_secs(12));
        assert_eq!(
            kill_after(Duration::from_secs(100)),
            Duration::from_secs(110)
        );
        assert_eq!(
            kill_after(Duration::from_secs(1000)),
            Duration::from_secs(1030)
        );
    }
}
