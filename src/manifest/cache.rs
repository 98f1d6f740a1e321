//! `[cache]`: a Bazel HTTP remote cache shared through `gob cacheprog` (GOCACHEPROG).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Problem;
use super::reader::{Located, TableReader};

/// The default connect / stalled-read timeout for the remote.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The validated `[cache]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSpec {
    /// `remote`: base URL of the Bazel HTTP cache (http:// or https://).
    pub remote: Option<Located<String>>,
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
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        None => Some("must start with http:// or https://"),
        Some(rest) if rest.split('/').next().unwrap_or("").is_empty() => Some("has no host"),
        Some(_) if url.contains(char::is_whitespace) => Some("contains whitespace"),
        Some(_) => None,
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
    reader.finish(problems);
    if let Some(url) = &remote
        && let Some(why) = check_remote_url(&url.value)
    {
        problems.push(
            Problem::new(
                url.span.clone(),
                format!("[cache] remote `{}` {why}", url.value),
                "not an HTTP URL",
            )
            .with_help("the base URL of a Bazel HTTP cache, e.g. \"http://cache.internal:9090\""),
        );
    }
    if let Some(name) = &auth_env
        && (name.value.is_empty() || name.value.contains(['=', '\0']))
    {
        problems.push(Problem::new(
            name.span.clone(),
            format!(
                "[cache] auth_env `{}` is not an environment variable name",
                name.value
            ),
            "not a variable name",
        ));
    }
    if let Some(header) = &auth_header
        && reqwest::header::HeaderName::try_from(header.value.as_str()).is_err()
    {
        problems.push(Problem::new(
            header.span.clone(),
            format!(
                "[cache] auth_header `{}` is not an HTTP header name",
                header.value
            ),
            "not a header name",
        ));
    }
    let timeout =
        timeout.and_then(|t| super::suite::parse_duration_key("[cache]", "timeout", &t, problems));
    CacheSpec {
        remote,
        read_only,
        auth_env: auth_env.map(|l| l.value),
        auth_header: auth_header.map_or_else(|| "Authorization".to_string(), |l| l.value),
        timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
        dir: dir.map(|d| crate::base::paths::normalize(&base.join(d.value))),
    }
}
