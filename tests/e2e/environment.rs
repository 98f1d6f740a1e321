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

/// Runs `setup` (mount commands), then `script` with gob as `$0`, in a private mount
/// namespace in the workspace dir: (exit code, stdout, stderr), or `None` after printing why
/// the test skips where the kernel refuses (not root, no unshare).
fn in_private_mounts(ws: &Workspace, setup: &str, script: &str) -> Option<(i32, String, String)> {
    let gob = gob_command();
    let mut shell = Command::new("unshare");
    shell
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!("{setup} || exit 99; {script}"))
        .arg(gob.get_program())
        .current_dir(ws.dir());
    for (key, value) in gob.get_envs() {
        match value {
            Some(value) => shell.env(key, value),
            None => shell.env_remove(key),
        };
    }
    let (code, stdout, stderr) = run(&mut shell);
    if code == 99 || stderr.contains("unshare failed") {
        eprintln!("skipped: cannot mount in a private mount namespace here: {stderr}");
        return None;
    }
    Some((code, stdout, stderr))
}

/// `gob build --out-dir out` where out is a tmpfs mounted with `options`: (exit code, gob's
/// stderr, what out held afterwards).
fn build_into_tmpfs(options: &str) -> Option<(i32, String, String)> {
    let ws = Workspace::example(ONE_BINARY);
    fs::create_dir_all(ws.dir().join("out")).unwrap();
    let (code, listing, stderr) = in_private_mounts(
        &ws,
        &format!("mount -t tmpfs -o {options} tmpfs out"),
        "\"$0\" build --out-dir out; code=$?; ls -A out; exit $code",
    )?;
    Some((code, stderr, listing))
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

#[test]
fn an_unreadable_cgroup_file_is_a_warning_and_the_build_goes_on() {
    // Shadow the cgroup mount with a tmpfs holding a directory where the quota file belongs:
    // reading it fails, as an unreadable file would (root reads any file).
    let (mount, file) = if std::path::Path::new("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").exists() {
        ("/sys/fs/cgroup/cpu", "cpu.cfs_quota_us")
    } else if std::path::Path::new("/sys/fs/cgroup/cpu.max").exists() {
        ("/sys/fs/cgroup", "cpu.max")
    } else {
        eprintln!("skipped: no cgroup cpu controller mounted here");
        return;
    };
    let ws = Workspace::example(ONE_BINARY);
    let setup = format!("mount -t tmpfs tmpfs {mount} && mkdir {mount}/{file}");
    let Some((code, _, stderr)) = in_private_mounts(&ws, &setup, "exec \"$0\" build") else {
        return;
    };
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "gob: warning: cannot read the cgroup CPU quota ({mount}/{file}: Is a directory"
        )),
        "{stderr}"
    );
    assert!(ws.dir().join("bin/alpha").is_file());
}
