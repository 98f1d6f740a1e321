//! Reading the CPU quota of the cgroups a process is in, v1 and v2, walking from the
//! process's own cgroup up to the root of the hierarchy.
//!
//! Why walk: a container runtime may put the quota on a parent (e.g. a pod-level cgroup) and
//! leave the leaf unlimited; Go's runtime (1.25+) and num_cpus read the leaf only.
//! Every path is resolved under `root` so tests can run the walker on recorded files.

use std::path::{Path, PathBuf};

/// Which cgroup hierarchy a limit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum CgroupVersion {
    /// cgroup v1, `cpu` controller: `cpu.cfs_quota_us` / `cpu.cfs_period_us`.
    V1,
    /// cgroup v2: `cpu.max`.
    V2,
}

/// A CPU quota found on one cgroup of the path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CgroupLimit {
    /// Hierarchy version.
    pub version: CgroupVersion,
    /// The file the quota was read from (as seen from the real root).
    pub file: PathBuf,
    /// Quota in microseconds per period.
    pub quota_us: u64,
    /// Period in microseconds.
    pub period_us: u64,
    /// True for the process's own cgroup (the only one Go's runtime reads).
    pub leaf: bool,
}

impl CgroupLimit {
    /// Whole CPUs this limit allows: ceil(quota / period), at least 1.
    pub fn cpus(&self) -> usize {
        (self.quota_us.div_ceil(self.period_us.max(1))).max(1) as usize
    }
}

/// One line of `/proc/self/cgroup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// Hierarchy id (0 for v2).
    pub id: u32,
    /// Controllers of a v1 hierarchy (empty for v2).
    pub controllers: Vec<String>,
    /// Path of the cgroup inside its hierarchy.
    pub path: String,
}

/// Parses `/proc/self/cgroup`; malformed lines are skipped.
pub fn parse_proc_cgroup(text: &str) -> Vec<Membership> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let id = parts.next()?.parse().ok()?;
            let controllers = parts.next()?;
            let path = parts.next()?.to_string();
            Some(Membership {
                id,
                controllers: controllers
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect(),
                path,
            })
        })
        .collect()
}

/// A cgroup filesystem mount from `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMount {
    /// Hierarchy version.
    pub version: CgroupVersion,
    /// The path inside the hierarchy that is mounted (field 4).
    pub root: String,
    /// Where it is mounted (field 5).
    pub mount_point: PathBuf,
    /// Super options (v1 controllers are listed here).
    pub options: Vec<String>,
}

/// Parses the cgroup mounts out of `/proc/self/mountinfo`.
pub fn parse_mountinfo(text: &str) -> Vec<CgroupMount> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let fields: Vec<&str> = left.split(' ').collect();
            let mut right = right.split(' ');
            let fstype = right.next()?;
            let _source = right.next()?;
            let options = right.next().unwrap_or("");
            let version = match fstype {
                "cgroup" => CgroupVersion::V1,
                "cgroup2" => CgroupVersion::V2,
                _ => return None,
            };
            Some(CgroupMount {
                version,
                root: unescape_octal(fields.get(3)?),
                mount_point: PathBuf::from(unescape_octal(fields.get(4)?)),
                options: options.split(',').map(String::from).collect(),
            })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'\\' && i + 4 <= bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 4]).ok())
            .flatten()
            .and_then(|digits| u8::from_str_radix(digits, 8).ok());
        if let Some(v) = escaped {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a v2 `cpu.max` ("max 100000" or "50000 100000"): `Some((quota, period))` when limited.
pub fn parse_cpu_max(text: &str) -> Option<(u64, u64)> {
    let mut parts = text.split_whitespace();
    let quota = parts.next()?;
    let period = parts.next().map_or(Some(100_000), |p| p.parse().ok())?;
    if quota == "max" {
        return None;
    }
    let quota: u64 = quota.parse().ok()?;
    (quota > 0 && period > 0).then_some((quota, period))
}

/// Parses v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us`: `Some((quota, period))` when limited
/// (a quota of -1 means unlimited).
pub fn parse_cfs(quota: &str, period: &str) -> Option<(u64, u64)> {
    let quota: i64 = quota.trim().parse().ok()?;
    let period: u64 = period.trim().parse().ok()?;
    (quota > 0 && period > 0).then_some((quota as u64, period))
}

/// Every CPU limit on the path from the process's cgroups to their roots, both versions.
/// Files that are absent are skipped (roots have no `cpu.max`); unreadable ones are errors.
pub fn detect_limits(root: &Path) -> std::io::Result<Vec<CgroupLimit>> {
    let under_root = |p: &Path| root.join(p.strip_prefix("/").unwrap_or(p));
    let memberships = parse_proc_cgroup(&std::fs::read_to_string(root.join("proc/self/cgroup"))?);
    let mounts = parse_mountinfo(&std::fs::read_to_string(root.join("proc/self/mountinfo"))?);
    let mut limits = Vec::new();
    for member in &memberships {
        let version = if member.id == 0 && member.controllers.is_empty() {
            CgroupVersion::V2
        } else if member.controllers.iter().any(|c| c == "cpu") {
            CgroupVersion::V1
        } else {
            continue;
        };
        let Some(mount) = mounts.iter().find(|m| {
            m.version == version
                && (version == CgroupVersion::V2 || m.options.iter().any(|o| o == "cpu"))
                && is_within(&member.path, &m.root)
        }) else {
            continue;
        };
        let relative = member
            .path
            .strip_prefix(mount.root.trim_end_matches('/'))
            .unwrap_or("")
            .trim_start_matches('/');
        let leaf = mount.mount_point.join(relative);
        let mut dir = leaf.clone();
        loop {
            if let Some(limit) = read_limit(version, &dir, dir == leaf, &under_root)? {
                limits.push(limit);
            }
            if dir == mount.mount_point || !dir.pop() {
                break;
            }
        }
    }
    Ok(limits)
}

fn is_within(path: &str, mount_root: &str) -> bool {
    let root = mount_root.trim_end_matches('/');
    root.is_empty() || path == root || path.starts_with(&format!("{root}/"))
}

fn read_limit(
    version: CgroupVersion,
    dir: &Path,
    leaf: bool,
    under_root: &dyn Fn(&Path) -> PathBuf,
) -> std::io::Result<Option<CgroupLimit>> {
    let read = |name: &str| -> std::io::Result<Option<String>> {
        match std::fs::read_to_string(under_root(&dir.join(name))) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", dir.join(name).display()),
            )),
        }
    };
    let (file, parsed) = match version {
        CgroupVersion::V2 => {
            let Some(text) = read("cpu.max")? else {
                return Ok(None);
            };
            ("cpu.max", parse_cpu_max(&text))
        }
        CgroupVersion::V1 => {
            let (Some(quota), Some(period)) =
                (read("cpu.cfs_quota_us")?, read("cpu.cfs_period_us")?)
            else {
                return Ok(None);
            };
            ("cpu.cfs_quota_us", parse_cfs(&quota, &period))
        }
    };
    Ok(parsed.map(|(quota_us, period_us)| CgroupLimit {
        version,
        file: dir.join(file),
        quota_us,
        period_us,
        leaf,
    }))
}

#[cfg(test)]
mod tests;
