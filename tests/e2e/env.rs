//! `gob env` end to end.

use crate::support::{Workspace, gob_command, run};

#[test]
fn env_reports_budget_sources_and_go() {
    let ws = Workspace::example("");
    let (code, stdout, stderr) = run(&mut ws.gob(&["env"]));
    assert_eq!(code, 0, "{stderr}");
    for needle in [
        "CPU budget",
        "affinity",
        "GOMAXPROCS",
        "go alone",
        "GOCACHE",
        "go -p",
        "compiler -c",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?}:\n{stdout}");
    }
}

#[test]
fn env_json_follows_jobs_overrides() {
    let ws = Workspace::example("");
    let (code, stdout, stderr) = run(ws.gob(&["env", "--json"]).env("GOB_JOBS", "3"));
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["budget"]["cpus"], 3);
    assert_eq!(json["budget"]["origin"], "gob_jobs");
    assert_eq!(json["go_p"], 3);
    assert!(
        json["go"]["GOVERSION"]
            .as_str()
            .unwrap()
            .starts_with("go1.")
    );
}

#[test]
fn env_warns_when_go19concurrentcompilation_forces_c_1_on_old_go() {
    let Some(old_go) = crate::support::old_go() else {
        return;
    };
    let ws = Workspace::example("");
    let (code, stdout, stderr) = run(ws
        .gob(&["env"])
        .env("GOB_GO", &old_go)
        .env("GO19CONCURRENTCOMPILATION", "0"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("go1.19"), "{stdout}");
    assert!(
        stdout.contains("warning: GO19CONCURRENTCOMPILATION=0 forces the compiler's -c to 1"),
        "{stdout}"
    );
}

#[test]
fn no_go_on_path_is_one_clear_line() {
    let ws = Workspace::example("");
    let (code, _, stderr) = run(ws.gob(&["env"]).env("PATH", "/nonexistent"));
    assert_eq!(code, 3);
    assert!(stderr.contains("gob: error: cannot run `go`"), "{stderr}");
    assert!(stderr.contains("is Go installed and on PATH?"), "{stderr}");
}

#[test]
fn env_works_without_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(gob_command()
        .current_dir(dir.path())
        .args(["env", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"manifest\": null"), "{stdout}");
}
