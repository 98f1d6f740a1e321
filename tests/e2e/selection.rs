//! The selection stage on every run path (tests/fixtures/affected: three integ packages):
//! `--failed` never passes for want of a record, a package a shard plan does not name runs
//! in exactly one shard, a dry run of an archive runs nothing, options a path cannot honour
//! are usage errors, and `--explain --json` gives every package's choice.

use crate::support::{Workspace, gob_command, run};

const MANIFEST: &str =
    "[test.integ]\npackages = [\"./pkga\", \"./pkgb\", \"./pkgc\"]\ninteg = true\n";

fn ran(stdout: &str) -> Vec<String> {
    let mut packages: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("ok   "))
        .filter_map(|l| l.split(' ').next())
        .map(|p| p.trim_start_matches("example.com/aff/").to_string())
        .collect();
    packages.sort();
    packages
}

#[test]
fn failed_with_no_record_or_an_unreadable_one_is_a_usage_error_not_a_pass() {
    let ws = Workspace::fixture("affected", MANIFEST);
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "--integ", "--failed"]));
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("--failed: there is no record of a last run")
            && stderr.contains(".gob/failed.json"),
        "{stderr}"
    );
    ws.write(".gob/failed.json", "{not json");
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--integ", "--failed"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("is not a record of failed tests"),
        "{stderr}"
    );
    // After a green run, the record says nothing failed: that is a pass.
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--integ"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "--integ", "--failed"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("nothing failed in the last run of suite integ"),
        "{stderr}"
    );
}

#[test]
fn a_package_the_shard_plan_does_not_name_runs_in_exactly_one_shard() {
    let ws = Workspace::fixture("affected", MANIFEST);
    let (code, _, stderr) = run(&mut ws.gob(&["shards", "2", "--integ", "--plan", "split.json"]));
    assert_eq!(code, 0, "{stderr}");
    // The plan was written before pkgc existed.
    let text = std::fs::read_to_string(ws.dir().join("split.json")).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    for shard in plan["shards"].as_array_mut().unwrap() {
        shard["packages"]
            .as_array_mut()
            .unwrap()
            .retain(|p| p["package"] != "example.com/aff/pkgc");
    }
    ws.write("split.json", &plan.to_string());
    let mut all = Vec::new();
    for k in 1..=2 {
        let shard = format!("{k}/2");
        let (code, stdout, stderr) = run(&mut ws.gob(&[
            "test",
            "--integ",
            "--shard",
            &shard,
            "--shard-plan",
            "split.json",
        ]));
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stderr.contains("(1 package not in the plan, assigned by hash)"),
            "{stderr}"
        );
        all.extend(ran(&stdout));
    }
    all.sort();
    assert_eq!(all, ["pkga", "pkgb", "pkgc"], "each exactly once");
}

#[test]
fn a_dry_run_of_an_archive_prints_each_run_and_runs_nothing() {
    let ws = Workspace::fixture("affected", MANIFEST);
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--integ", "--archive", "t.tar.zst"]));
    assert_eq!(code, 0, "{stderr}");
    let machine = tempfile::tempdir().unwrap();
    let archive = ws.dir().join("t.tar.zst");
    let (code, stdout, stderr) = run(gob_command()
        .current_dir(machine.path())
        .args(["test", "--from-archive"])
        .arg(&archive)
        .args(["--dry-run", "--shard", "1/1"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("# suite integ (from the archive, 3 packages)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# run 1 of 3: example.com/aff/pkga\ncd ")
            && stdout.contains(" 2>&1 | gob test2json -p example.com/aff/pkga\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("ok "), "nothing ran: {stdout}");
    assert!(
        !machine.path().join(".gob").exists(),
        "nothing was extracted"
    );
}

#[test]
fn options_a_run_path_cannot_honour_are_usage_errors_naming_the_conflict() {
    let ws = Workspace::fixture("affected", MANIFEST);
    for (args, conflict) in [
        (
            &["--from-archive", "t.tar.zst", "--since", "main"][..],
            "--since",
        ),
        (
            &["--from-archive", "t.tar.zst", "--remote-exec"],
            "--remote-exec",
        ),
        (&["--archive", "t.tar.zst", "--junit", "j.xml"], "--junit"),
        (&["--archive", "t.tar.zst", "--retries", "2"], "--retries"),
    ] {
        let (code, _, stderr) = run(ws.gob(&["test"]).args(args));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot be used with") && stderr.contains(conflict),
            "{args:?}: {stderr}"
        );
    }
}
