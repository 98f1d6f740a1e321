//! `[exec]`: a Remote Execution API cluster (Buildbarn, BuildBuddy, EngFlow, NativeLink) that
//! runs the test binaries of integration suites, one action per binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Problem;
use super::cache::{DEFAULT_TIMEOUT, check_auth};
use super::reader::{Located, TableReader};

/// Actions in flight at once when `jobs` is not set (REAPI has no way for a scheduler to
/// advertise its worker count).
pub const DEFAULT_JOBS: usize = 8;

/// The validated `[exec]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecSpec {
    /// `remote`: the REAPI server (grpc:// or grpcs://).
    pub remote: Option<Located<String>>,
    /// `enabled`: whether integration suites run remotely without `--remote-exec`
    /// (default true; false keeps the cluster for runs that ask, e.g. CI).
    pub enabled: bool,
    /// `instance_name`: the REAPI instance.
    pub instance_name: String,
    /// `ca_file`: PEM CA certificates to trust besides the system's (grpcs:// only; absolute).
    pub ca_file: Option<PathBuf>,
    /// `auth_env`: name of the env var whose value is sent in `auth_header`.
    pub auth_env: Option<String>,
    /// `auth_header`: the gRPC metadata key that carries it (default `Authorization`).
    pub auth_header: String,
    /// `timeout`: connect timeout and the longest a call other than Execute may take.
    pub timeout: Duration,
    /// `platform`: properties the action's worker must offer (`OSFamily`, `container-image`).
    pub platform: BTreeMap<String, String>,
    /// `jobs`: actions in flight at once.
    pub jobs: usize,
    /// `strict`: a remote-execution failure fails the run instead of running locally.
    pub strict: bool,
}

impl Default for ExecSpec {
    fn default() -> Self {
        ExecSpec {
            remote: None,
            enabled: true,
            instance_name: String::new(),
            ca_file: None,
            auth_env: None,
            auth_header: "Authorization".to_string(),
            timeout: DEFAULT_TIMEOUT,
            platform: BTreeMap::new(),
            jobs: DEFAULT_JOBS,
            strict: false,
        }
    }
}

/// Why a URL cannot be a remote-execution server, if it cannot.
pub fn check_exec_url(url: &str) -> Option<&'static str> {
    match url
        .strip_prefix("grpc://")
        .or_else(|| url.strip_prefix("grpcs://"))
    {
        None => Some("must start with grpc:// or grpcs://"),
        Some(_) if url.contains(char::is_whitespace) => Some("contains whitespace"),
        Some(rest) if rest.split('/').next().unwrap_or("").is_empty() => Some("has no host"),
        Some(rest) if rest.trim_end_matches('/').contains('/') => {
            Some("is a gRPC server: host:port, no path (the instance is `instance_name`)")
        }
        Some(_) => None,
    }
}

/// Reads `[exec]` (its absence is the default: everything runs locally).
pub fn read_exec(top: &mut TableReader, base: &Path, problems: &mut Vec<Problem>) -> ExecSpec {
    let Some((table, span)) = top.table("exec", problems) else {
        return ExecSpec::default();
    };
    let mut reader = TableReader::new(table, "[exec]", span);
    let remote = reader.string("remote", problems);
    let enabled = reader.bool("enabled", problems).unwrap_or(true);
    let instance_name = reader.string("instance_name", problems);
    let ca_file = reader.string("ca_file", problems);
    let auth_env = reader.string("auth_env", problems);
    let auth_header = reader.string("auth_header", problems);
    let timeout = reader.string("timeout", problems);
    let platform = reader.string_map("platform", problems).unwrap_or_default();
    let jobs = reader.count("jobs", problems);
    let strict = reader.bool("strict", problems).unwrap_or(false);
    reader.finish(problems);
    if let Some(url) = &remote
        && let Some(why) = check_exec_url(&url.value)
    {
        problems.push(
            Problem::new(
                url.span.clone(),
                format!("[exec] remote `{}` {why}", url.value),
                "not a REAPI server",
            )
            .with_help("a REAPI server, e.g. \"grpc://buildbarn-frontend:8980\" or \"grpcs://remote.buildbuddy.io\""),
        );
    }
    check_auth("[exec]", auth_env.as_ref(), auth_header.as_ref(), problems);
    let jobs = jobs.and_then(|j| match usize::try_from(j.value) {
        Ok(n) if (1..=1024).contains(&n) => Some(n),
        _ => {
            problems.push(Problem::new(
                j.span,
                format!("[exec] jobs = {} is not between 1 and 1024", j.value),
                "1 to 1024",
            ));
            None
        }
    });
    let timeout =
        timeout.and_then(|t| super::suite::parse_duration_key("[exec]", "timeout", &t, problems));
    ExecSpec {
        remote,
        enabled,
        instance_name: instance_name.map(|l| l.value).unwrap_or_default(),
        ca_file: ca_file.map(|f| crate::base::paths::normalize(&base.join(f.value))),
        auth_env: auth_env.map(|l| l.value),
        auth_header: auth_header.map_or_else(|| "Authorization".to_string(), |l| l.value),
        timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
        platform,
        jobs: jobs.unwrap_or(DEFAULT_JOBS),
        strict,
    }
}
