//! Build planning without Go: grouping, collision splits, staging dirs, argv and env.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;
use crate::go::names::default_exec_name;

fn binary(
    package: &str,
    import_path: &str,
    name: Option<&str>,
    settings: BuildSettings,
) -> ResolvedBinary {
    let default = default_exec_name(import_path).to_string();
    ResolvedBinary {
        package: package.into(),
        import_path: import_path.into(),
        go_file_name: default.clone(),
        output_name: name.map_or(default, String::from),
        settings,
        platform: None,
        before: Vec::new(),
    }
}

fn ctx() -> PlanContext {
    PlanContext {
        go: "go".into(),
        workspace_dir: PathBuf::from("/ws"),
        out_dir: PathBuf::from("/ws/bin"),
        base_env: BTreeMap::from([("GOMAXPROCS".into(), "2".into())]),
    }
}

fn plain() -> BuildSettings {
    BuildSettings {
        flags: vec!["-trimpath".into()],
        ldflags: Some("-s -w".into()),
        env: BTreeMap::from([("CGO_ENABLED".into(), "0".into())]),
        ..Default::default()
    }
}

#[test]
fn equal_settings_share_one_call() {
    let bins = [
        binary("./cmd/a", "m/cmd/a", None, plain()),
        binary("./cmd/b", "m/cmd/b", None, plain()),
    ];
    let plan = plan_build(&bins, &ctx());
    assert_eq!(plan.batches.len(), 1);
    let batch = &plan.batches[0];
    let staging = format!(".gob/build/{}-1/", plain().fingerprint());
    assert_eq!(
        batch.command.args,
        [
            "build",
            "-o",
            staging.as_str(),
            "-ldflags",
            "-s -w",
            "-trimpath",
            "./cmd/a",
            "./cmd/b"
        ]
    );
    assert_eq!(batch.command.dir, PathBuf::from("/ws"));
    assert_eq!(batch.command.env["GOMAXPROCS"], "2");
    assert_eq!(batch.command.env["CGO_ENABLED"], "0");
    assert_eq!(batch.outputs[1].published, PathBuf::from("/ws/bin/b"));
    assert!(batch.outputs[1].staged.starts_with("/ws/.gob/build"));
}

#[test]
fn colliding_default_names_split_into_the_fewest_calls() {
    let bins = [
        binary("./svc/server", "m/svc/server", None, plain()),
        binary(
            "./tools/server",
            "m/tools/server",
            Some("tool-server"),
            plain(),
        ),
        binary("./cmd/a", "m/cmd/a", None, plain()),
        binary("./x/server", "m/x/server", Some("x-server"), plain()),
        binary("./cmd/gamma/v2", "m/cmd/gamma/v2", None, plain()),
    ];
    let plan = plan_build(&bins, &ctx());
    let packages: Vec<Vec<&str>> = plan
        .batches
        .iter()
        .map(|b| b.outputs.iter().map(|o| o.import_path.as_str()).collect())
        .collect();
    assert_eq!(
        packages,
        [
            vec!["m/svc/server", "m/cmd/a", "m/cmd/gamma/v2"],
            vec!["m/tools/server"],
            vec!["m/x/server"],
        ],
        "three servers need three calls; the others join the first"
    );
    let published: Vec<String> = plan.batches[1]
        .outputs
        .iter()
        .map(|o| o.published.display().to_string())
        .collect();
    assert_eq!(published, ["/ws/bin/tool-server"]);
    assert_ne!(plan.batches[0].staging_dir, plan.batches[1].staging_dir);
}

#[test]
fn different_settings_never_share_a_call() {
    let arm = BuildSettings {
        goos: Some("linux".into()),
        goarch: Some("arm64".into()),
        ..plain()
    };
    let tagged = BuildSettings {
        tags: vec!["netgo".into(), "osusergo".into()],
        ..plain()
    };
    let bins = [
        binary("./cmd/a", "m/cmd/a", None, plain()),
        binary("./cmd/a", "m/cmd/a", Some("a-arm64"), arm.clone()),
        binary("./cmd/b", "m/cmd/b", None, tagged),
    ];
    let plan = plan_build(&bins, &ctx());
    assert_eq!(plan.batches.len(), 3);
    assert_eq!(plan.batches[1].command.env["GOARCH"], "arm64");
    assert_eq!(plan.batches[1].command.env["GOOS"], "linux");
    assert!(
        plan.batches[2]
            .command
            .args
            .windows(2)
            .any(|w| w == ["-tags", "netgo,osusergo"])
    );
    assert!(!plan.batches[0].command.env.contains_key("GOARCH"));
}

#[test]
fn one_package_under_two_names_builds_once() {
    let bins = [
        binary("./cmd/a", "m/cmd/a", None, plain()),
        binary("./cmd/a", "m/cmd/a", Some("a-copy"), plain()),
    ];
    let plan = plan_build(&bins, &ctx());
    assert_eq!(plan.batches.len(), 1);
    let args = &plan.batches[0].command.args;
    assert_eq!(args.iter().filter(|a| *a == "./cmd/a").count(), 1);
    assert_eq!(plan.batches[0].outputs.len(), 2);
    assert_eq!(
        plan.batches[0].outputs[0].staged,
        plan.batches[0].outputs[1].staged
    );
}

#[test]
fn settings_env_wins_over_the_base_env() {
    let own = BuildSettings {
        env: BTreeMap::from([("GOMAXPROCS".into(), "1".into())]),
        ..Default::default()
    };
    let plan = plan_build(&[binary("./cmd/a", "m/cmd/a", None, own)], &ctx());
    assert_eq!(plan.batches[0].command.env["GOMAXPROCS"], "1");
}

#[test]
fn an_empty_selection_plans_nothing() {
    assert!(plan_build(&[], &ctx()).batches.is_empty());
}
