//! What gob says when the environment stops it: outputs outside the workspace, an out_dir
//! that is read-only or full, a go too old. One clear line and a documented exit code each.

use std::fs;
use std::process::Command;

use crate::support::{Workspace, gob_command, run};

const ONE_BINARY: &str = "[[binary]]\npackage = \"./cmd/alpha\"\n";

#[test]
fn an_out_dir_outside_the_workspace_needs_the_command_line() {
    let ws = Workspace::example(&format!("[build]\nout_dir = \"../dist\"\n{ONE_BINARY}"));
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("[build] out_dir `../dist` is outside the workspace"),
        "{stderr}"
    );
    assert!(stderr.contains("gob build --out-dir ../dist"), "{stderr}");

    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("dist");
    let ws = Workspace::example(ONE_BINARY);
    let (code, _, stderr) = run(&mut ws.gob(&["build", "--out-dir", out.to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    assert!(out.join("alpha").is_file());
    assert!(
        !ws.dir().join("bin").exists(),
        "nothing went to the manifest's out_dir"
    );
    let names: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["alpha"], "out_dir holds only the published binary");
}

/// Runs `gob build --out-dir OUT` in a private mount namespace where OUT is a tmpfs mounted
/// with `options`; returns (exit code, stderr, what OUT held afterwards) or `None` where the
/// kernel refuses (not root, no unshare).
fn build_into_tmpfs(options: &str) -> Option<(i32, String, String)> {
    let ws = Workspace::example(ONE_BINARY);
    let out = ws.dir().join("out");
    fs::create_dir_all(&out).unwrap();
    let gob = gob_command();
    let mut shell = Command::new("unshare");
    shell
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs -o {options} tmpfs out || exit 99; \"$0\" build --out-dir out 2>gob.err; code=$?; ls -A out; exit $code"
        ))
        .arg(gob.get_program())
        .current_dir(ws.dir())
        .envs(gob.get_envs().filter_map(|(k, v)| Some((k, v?))));
    for (key, value) in gob.get_envs() {
        if value.is_none() {
            shell.env_remove(key);
        }
    }
    let (code, listing, stderr) = run(&mut shell);
    if code == 99 || stderr.contains("unshare failed") || stderr.contains("Operation not permitted")
    {
        eprintln!("skipped: cannot mount a tmpfs in a private mount namespace here: {stderr}");
        return None;
    }
    let gob_err = fs::read_to_string(ws.dir().join("gob.err")).unwrap_or_default();
    Some((code, gob_err, listing))
}

#[test]
fn a_read_only_out_dir_is_one_clear_environment_error() {
    let Some((code, stderr, listing)) = build_into_tmpfs("ro") else {
        return;
    };
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("gob: error: cannot publish ") && stderr.contains("Read-only file system"),
        "{stderr}"
    );
    assert_eq!(listing.trim(), "", "nothing half-written is left");
}

#[test]
fn a_full_out_dir_is_one_clear_environment_error_and_leaves_no_temp_file() {
    let Some((code, stderr, listing)) = build_into_tmpfs("size=64k") else {
        return;
    };
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("gob: error: cannot publish ")
            && stderr.contains("No space left on device"),
        "{stderr}"
    );
    assert_eq!(listing.trim(), "", "the temp file was removed: {listing}");
}

#[test]
fn a_go_older_than_gob_supports_is_named() {
    let ws = Workspace::example(ONE_BINARY);
    let shim = ws.dir().join("old-go");
    fs::write(
        &shim,
        "#!/bin/sh\necho '{\"GOVERSION\":\"go1.16.15\",\"GOCACHE\":\"/tmp/c\",\"GOROOT\":\"/x\",\"GOOS\":\"linux\",\"GOARCH\":\"amd64\"}'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&shim, fs::Permissions::from_mode(0o755)).unwrap();
    let (code, _, stderr) = run(ws.gob(&["build"]).env("GOB_GO", &shim));
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "gob: error: gob needs Go 1.18 or newer; `{}` is go1.16.15",
            shim.display()
        )),
        "{stderr}"
    );
}
