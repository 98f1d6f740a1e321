//! The cgroup walker on recorded files of both versions, laid out under a temp root.

use std::fs;
use std::path::Path;

use super::*;

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A cgroup v2 host as Docker leaves it: the process in a nested cgroup.
const V2_MOUNTINFO: &str = "\
24 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
30 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
";

/// A cgroup v1 (hybrid) host like this project's CI machine.
const V1_MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
40 31 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

#[test]
fn parses_proc_self_cgroup_of_both_versions() {
    let m = parse_proc_cgroup("12:cpu,cpuacct:/docker/abc\n0::/user.slice\nbad line\n");
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].controllers, ["cpu", "cpuacct"]);
    assert_eq!(m[0].path, "/docker/abc");
    assert_eq!((m[1].id, m[1].path.as_str()), (0, "/user.slice"));
    assert!(m[1].controllers.is_empty());
}

#[test]
fn parses_mountinfo_cgroup_entries_only() {
    let mounts = parse_mountinfo(V1_MOUNTINFO);
    assert_eq!(mounts.len(), 3);
    assert_eq!(mounts[0].mount_point, Path::new("/sys/fs/cgroup/cpu"));
    assert!(mounts[0].options.contains(&"cpu".to_string()));
    assert_eq!(mounts[2].version, CgroupVersion::V2);
    let escaped = parse_mountinfo("1 2 0:1 /a\\040b /mnt/x\\040y rw - cgroup2 none rw\n");
    assert_eq!(escaped[0].root, "/a b");
    assert_eq!(escaped[0].mount_point, Path::new("/mnt/x y"));
}

#[test]
fn parses_quota_files() {
    assert_eq!(parse_cpu_max("max 100000\n"), None);
    assert_eq!(parse_cpu_max("150000 100000\n"), Some((150000, 100000)));
    assert_eq!(parse_cpu_max("garbage"), None);
    assert_eq!(parse_cfs("-1\n", "100000\n"), None);
    assert_eq!(parse_cfs("50000\n", "100000\n"), Some((50000, 100000)));
    assert_eq!(parse_cfs("x", "100000"), None);
}

#[test]
fn cpus_round_up() {
    let limit = |quota_us, period_us| CgroupLimit {
        version: CgroupVersion::V2,
        file: "/x".into(),
        quota_us,
        period_us,
        leaf: true,
    };
    assert_eq!(limit(50_000, 100_000).cpus(), 1);
    assert_eq!(limit(150_000, 100_000).cpus(), 2);
    assert_eq!(limit(400_000, 100_000).cpus(), 4);
    assert_eq!(limit(1, 100_000).cpus(), 1);
}

#[test]
fn v2_walks_from_the_leaf_to_the_root_and_finds_a_parent_quota() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    write(r, "proc/self/cgroup", "0::/kubepods/pod1/ctr\n");
    write(r, "proc/self/mountinfo", V2_MOUNTINFO);
    write(r, "sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "max 100000\n");
    write(r, "sys/fs/cgroup/kubepods/pod1/cpu.max", "250000 100000\n");
    write(r, "sys/fs/cgroup/kubepods/cpu.max", "800000 100000\n");
    let limits = detect_limits(r).unwrap();
    assert_eq!(limits.len(), 2, "{limits:#?}");
    assert_eq!(
        limits[0].file,
        Path::new("/sys/fs/cgroup/kubepods/pod1/cpu.max")
    );
    assert_eq!(limits[0].cpus(), 3);
    assert!(
        !limits[0].leaf,
        "the quota is on a parent, not the process's own cgroup"
    );
    assert_eq!(limits[1].cpus(), 8);
}

#[test]
fn v1_reads_cfs_files_and_honours_the_mount_root() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    // Inside a container the cpu hierarchy is mounted at its own cgroup: root /docker/abc.
    write(
        r,
        "proc/self/cgroup",
        "4:cpu:/docker/abc\n3:cpuacct:/docker/abc\n0::/\n",
    );
    write(
        r,
        "proc/self/mountinfo",
        "32 31 0:29 /docker/abc /sys/fs/cgroup/cpu ro - cgroup cgroup rw,cpu\n",
    );
    write(r, "sys/fs/cgroup/cpu/cpu.cfs_quota_us", "50000\n");
    write(r, "sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
    let limits = detect_limits(r).unwrap();
    assert_eq!(limits.len(), 1, "{limits:#?}");
    assert_eq!(limits[0].version, CgroupVersion::V1);
    assert_eq!(
        limits[0].file,
        Path::new("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
    );
    assert_eq!(limits[0].cpus(), 1);
    assert!(limits[0].leaf);
}

#[test]
fn hybrid_host_without_quotas_has_no_limits() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    write(r, "proc/self/cgroup", "4:cpu:/\n0::/\n");
    write(r, "proc/self/mountinfo", V1_MOUNTINFO);
    write(r, "sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n");
    write(r, "sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
    fs::create_dir_all(r.join("sys/fs/cgroup/unified")).unwrap();
    assert!(detect_limits(r).unwrap().is_empty());
}

#[test]
fn missing_proc_files_are_an_error_not_a_guess() {
    let root = tempfile::tempdir().unwrap();
    assert!(detect_limits(root.path()).is_err());
}

#[test]
fn an_unreadable_quota_file_is_an_error_naming_it() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    write(r, "proc/self/cgroup", "0::/ctr\n");
    write(r, "proc/self/mountinfo", V2_MOUNTINFO);
    // A directory where the file should be: reading it fails like an unreadable file.
    fs::create_dir_all(r.join("sys/fs/cgroup/ctr/cpu.max")).unwrap();
    let error = detect_limits(r).unwrap_err().to_string();
    assert!(error.contains("/sys/fs/cgroup/ctr/cpu.max"), "{error}");
}

#[test]
fn malformed_cgroup_files_mean_no_limit() {
    assert_eq!(parse_cpu_max(""), None);
    assert_eq!(parse_cpu_max("0 100000"), None);
    assert_eq!(parse_cpu_max("50000 0"), None);
    assert_eq!(parse_cpu_max("50000 x"), None);
    assert_eq!(parse_cpu_max("-5 100000"), None);
    assert_eq!(parse_cfs("", ""), None);
    assert_eq!(parse_cfs("99999999999999999999", "100000"), None);
    assert!(parse_proc_cgroup("x:y\n::\n:::\n0::\n").len() <= 4);
    assert!(parse_mountinfo("- cgroup2\n1 2 3 - \n").is_empty());
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fuzz_cgroup_parsers(text in "\\PC{0,120}", other in "\\PC{0,20}") {
            let _ = parse_proc_cgroup(&text);
            let _ = parse_mountinfo(&text);
            if let Some((quota, period)) = parse_cpu_max(&text) {
                prop_assert!(quota > 0 && period > 0);
            }
            if let Some((quota, period)) = parse_cfs(&text, &other) {
                prop_assert!(quota > 0 && period > 0);
            }
        }

        #[test]
        fn fuzz_cgroup_limits_always_give_a_cpu(quota in 1u64.., period in 1u64..) {
            let limit = CgroupLimit {
                version: CgroupVersion::V2,
                file: "/x".into(),
                quota_us: quota,
                period_us: period,
                leaf: true,
            };
            prop_assert!(limit.cpus() >= 1);
        }
    }
}
