//! `[cache]`: a remote cache (Bazel HTTP, or REAPI over gRPC) shared through `gob
//! cacheprog` (GOCACHEPROG).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Problem;
use super::reader::{Located, TableReader};

/// The default connect / stalled-read timeout for the remote.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The validated `[cache]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSpec {
    /// `remote`: base URL of a Bazel HTTP cache (http:// or https://) or a REAPI server
    /// (grpc:// or grpcs://).
    pub remote: Option<Located<String>>,
    /// `instance_name`: the REAPI instance (gRPC only).
    pub instance_name: String,
    /// `ca_file`: PEM CA certificates to trust besides the system's (grpcs:// only; absolute).
    pub ca_file: Option<PathBuf>,
    /// `read_only`: download, never upload.
    pub read_only: bool,
    /// `auth_env`: name of the env var whose value is sent in `auth_header`.
    pub auth_env: Option<String>,
    /// `auth_header`: the header that carries it (default `Authorization`).
    pub auth_header: String,
    /// `timeout`: connect timeout and longest stall of a remote answer.
    pub timeout: Duration,
    /// `dir`: the local store (absolute; default `<GOCACHE>/gob`).
    pub dir: Option<PathBuf>,
}

impl Default for CacheSpec {
    fn default() -> Self {
        CacheSpec {
            remote: None,
            instance_name: String::new(),
            ca_file: None,
            read_only: false,
            auth_env: None,
            auth_header: "Authorization".to_string(),
            timeout: DEFAULT_TIMEOUT,
            dir: None,
        }
    }
}

/// Why a URL cannot be a remote cache, if it cannot.
pub fn check_remote_url(url: &str) -> Option<&'static str> {
    let http = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    let grpc = url
        .strip_prefix("grpc://")
        .or_else(|| url.strip_prefix("grpcs://"));
    match (http, grpc) {
        (None, None) => Some("must start with http://, https://, grpc:// or grpcs://"),
        _ if url.contains(char::is_whitespace) => Some("contains whitespace"),
        (Some(rest), _) | (_, Some(rest)) if rest.split('/').next().unwrap_or("").is_empty() => {
            Some("has no host")
        }
        (_, Some(rest)) if rest.trim_end_matches('/').contains('/') => {
            Some("is a gRPC server: host:port, no path (the instance is `instance_name`)")
        }
        _ => None,
    }
}

/// Reads `[cache]` (its absence is the default: no remote).
pub fn read_cache(top: &mut TableReader, base: &Path, problems: &mut Vec<Problem>) -> CacheSpec {
    let Some((table, span)) = top.table("cache", problems) else {
        return CacheSpec::default();
    };
    let mut reader = TableReader::new(table, "[cache]", span);
    let remote = reader.string("remote", problems);
    let read_only = reader.bool("read_only", problems).unwrap_or(false);
    let auth_env = reader.string("auth_env", problems);
    let auth_header = reader.string("auth_header", problems);
    let timeout = reader.string("timeout", problems);
    let dir = reader.string("dir", problems);
    let instance_name = reader.string("instance_name", problems);
    let ca_file = reader.string("ca_file", problems);
    reader.finish(problems);
    if let Some(url) = &remote
        && let Some(why) = check_remote_url(&url.value)
    {
        problems.push(
            Problem::new(
                url.span.clone(),
                format!("[cache] remote `{}` {why}", url.value),
                "not a cache URL",
            )
            .with_help("a Bazel HTTP cache (\"http://cache.internal:9090\") or a REAPI server (\"grpcs://remote.buildbuddy.io\")"),
        );
    }
    check_auth("[cache]", auth_env.as_ref(), auth_header.as_ref(), problems);
    let timeout =
        timeout.and_then(|t| super::suite::parse_duration_key("[cache]", "timeout", &t, problems));
    CacheSpec {
        remote,
        read_only,
        auth_env: auth_env.map(|l| l.value),
        auth_header: auth_header.map_or_else(|| "Authorization".to_string(), |l| l.value),
        timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
        dir: dir.map(|d| crate::base::paths::normalize(&base.join(d.value))),
        instance_name: instance_name.map(|l| l.value).unwrap_or_default(),
        ca_file: ca_file.map(|f| crate::base::paths::normalize(&base.join(f.value))),
    }
}

/// Problems with an `auth_env` / `auth_header` pair of `table` (`[cache]`, `[exec]`).
pub(super) fn check_auth(
    table: &str,
    auth_env: Option<&Located<String>>,
    auth_header: Option<&Located<String>>,
    problems: &mut Vec<Problem>,
) {
    if let Some(name) = auth_env
        && (name.value.is_empty() || name.value.contains(['=', '\0']))
    {
        problems.push(Problem::new(
            name.span.clone(),
            format!(
                "{table} auth_env `{}` is not an environment variable name",
                name.value
            ),
            "not a variable name",
        ));
    }
    if let Some(header) = auth_header
        && reqwest::header::HeaderName::try_from(header.value.to_ascii_lowercase().as_str())
            .is_err()
    {
        problems.push(Problem::new(
            header.span.clone(),
            format!(
                "{table} auth_header `{}` is not an HTTP header name",
                header.value
            ),
            "not a header name",
        ));
    }
}
