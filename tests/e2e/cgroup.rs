//! CPU-budget detection for real: the test makes cgroups with a CPU quota (it must run as
//! root) and runs gob inside them. Where the kernel refuses, the test says so and skips.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{Workspace, run};

/// A cgroup this test created; removed on drop.
struct TestCgroup {
    dirs: Vec<PathBuf>,
    version: &'static str,
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for dir in self.dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// Where a cpu-controller hierarchy is mounted, and its version.
fn cpu_hierarchy() -> Option<(PathBuf, &'static str)> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    for line in mountinfo.lines() {
        let (left, right) = line.split_once(" - ")?;
        let point = PathBuf::from(left.split(' ').nth(4)?);
        let mut right = right.split(' ');
        match (right.next()?, right.nth(1).unwrap_or("")) {
            ("cgroup2", _) => {
                let controllers = fs::read_to_string(point.join("cgroup.controllers")).ok()?;
                if controllers.split_whitespace().any(|c| c == "cpu") {
                    return Some((point, "v2"));
                }
            }
            ("cgroup", options) if options.split(',').any(|o| o == "cpu") => {
                return Some((point, "v1"));
            }
            _ => {}
        }
    }
    None
}

/// Makes `<mount>/gob-e2e-…/leaf` with `quota_us` per 100ms on the parent (`on_parent`) or
/// on the leaf. `None` (with the reason printed) where the kernel or permissions refuse.
fn make_cgroup(tag: &str, quota_us: u64, on_parent: bool) -> Option<(TestCgroup, PathBuf)> {
    let Some((mount, version)) = cpu_hierarchy() else {
        eprintln!("skipped: no cgroup hierarchy with the cpu controller is mounted");
        return None;
    };
    let parent = mount.join(format!("gob-e2e-{tag}-{}", std::process::id()));
    let leaf = parent.join("leaf");
    let mut cg = TestCgroup {
        dirs: Vec::new(),
        version,
    };
    let set_quota = |dir: &Path| -> std::io::Result<()> {
        if version == "v2" {
            fs::write(dir.join("cpu.max"), format!("{quota_us} 100000"))
        } else {
            fs::write(dir.join("cpu.cfs_period_us"), "100000")?;
            fs::write(dir.join("cpu.cfs_quota_us"), quota_us.to_string())
        }
    };
    let attempt = (|| -> std::io::Result<()> {
        if version == "v2" {
            fs::write(mount.join("cgroup.subtree_control"), "+cpu")?;
        }
        fs::create_dir(&parent)?;
        cg.dirs.push(parent.clone());
        if version == "v2" {
            fs::write(parent.join("cgroup.subtree_control"), "+cpu")?;
        }
        fs::create_dir(&leaf)?;
        cg.dirs.push(leaf.clone());
        set_quota(if on_parent { &parent } else { &leaf })
    })();
    match attempt {
        Ok(()) => Some((cg, leaf)),
        Err(e) => {
            eprintln!(
                "skipped: cannot create a cgroup with a CPU quota under {}: {e}",
                mount.display()
            );
            None
        }
    }
}

/// Runs `gob env --json` as a process placed in `cgroup` before gob starts.
fn gob_env_in(cgroup: &Path) -> serde_json::Value {
    let ws = Workspace::example("");
    let procs = cgroup.join("cgroup.procs");
    let gob = env!("CARGO_BIN_EXE_gob");
    let script = format!("echo $$ > '{}' && exec '{gob}' env --json", procs.display());
    let mut sh = ws.gob(&[]);
    let mut sh = rebase(&mut sh, "sh", &["-c", &script]);
    let (code, stdout, stderr) = run(&mut sh);
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// A command like `template` (same env and dir) running `program args…` instead.
fn rebase(
    template: &mut std::process::Command,
    program: &str,
    args: &[&str],
) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    cmd.args(args);
    if let Some(dir) = template.get_current_dir() {
        cmd.current_dir(dir);
    }
    for (key, value) in template.get_envs() {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    cmd
}

#[test]
fn a_quota_on_the_own_cgroup_sets_the_budget() {
    let Some((cg, leaf)) = make_cgroup("leaf", 50_000, false) else {
        return;
    };
    let json = gob_env_in(&leaf);
    assert_eq!(json["budget"]["cpus"], 1, "{json:#}");
    assert_eq!(json["budget"]["origin"], "cgroup");
    assert_eq!(json["budget"]["gomaxprocs_env"], 1);
    let limits = json["budget"]["facts"]["cgroup_limits"].as_array().unwrap();
    let ours: Vec<_> = limits.iter().filter(|l| l["leaf"] == true).collect();
    assert_eq!(ours.len(), 1, "{limits:#?}");
    assert_eq!(ours[0]["quota_us"], 50_000);
    assert_eq!(
        ours[0]["version"],
        if cg.version == "v2" { "V2" } else { "V1" }
    );
}

#[test]
fn a_quota_on_a_parent_cgroup_is_found_by_walking_up() {
    let Some((_cg, leaf)) = make_cgroup("parent", 100_000, true) else {
        return;
    };
    let json = gob_env_in(&leaf);
    assert_eq!(json["budget"]["cpus"], 1, "{json:#}");
    assert_eq!(json["budget"]["origin"], "cgroup");
    let limits = json["budget"]["facts"]["cgroup_limits"].as_array().unwrap();
    assert!(
        limits
            .iter()
            .any(|l| l["leaf"] == false && l["quota_us"] == 100_000),
        "{limits:#?}"
    );
    // Go's runtime reads only its own cgroup: alone, go would use every CPU of the mask.
    let affinity = json["budget"]["facts"]["affinity"].as_u64().unwrap();
    if affinity > 1 {
        assert_eq!(json["go_default_gomaxprocs"], affinity);
    }
}
