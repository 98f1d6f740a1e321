//! Wiring the remote cache into gob's go calls: `[cache]` and the environment resolve to a
//! [`RemoteCache`], which becomes a GOCACHEPROG command line (`gob cacheprog …`) in the
//! environment of every go call of build, test and check; after the run, the counts the
//! cacheprog processes left become one summary line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cacheprog::stats::Totals;
use crate::manifest::{CacheSpec, check_remote_url};

/// The env var naming the file where cacheprog processes append their counts.
pub const STATS_ENV: &str = "GOB_CACHEPROG_STATS";
/// Go releases from which GOCACHEPROG is on by default (1.24).
pub const MIN_GO_MINOR: u32 = 24;

/// A remote cache setting in the environment that gob cannot use (a usage error).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadRemoteCache(pub String);

/// A resolved remote cache setup.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RemoteCache {
    /// Base URL of the Bazel HTTP cache, or the REAPI server.
    pub url: String,
    /// Where the URL came from (`gobuild.toml [cache]` or `GOB_REMOTE_CACHE`).
    pub source: &'static str,
    /// Never upload.
    pub read_only: bool,
    /// Env var holding the auth header's value.
    pub auth_env: Option<String>,
    /// The auth header's name.
    pub auth_header: String,
    /// Connect / stalled-read timeout.
    #[serde(with = "seconds")]
    pub timeout: Duration,
    /// The local store.
    pub dir: PathBuf,
    /// REAPI instance name (gRPC).
    pub instance_name: String,
    /// Extra CA certificates (grpcs://).
    pub ca_file: Option<PathBuf>,
}

mod seconds {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

/// Resolves `[cache]` and `GOB_REMOTE_CACHE` / `GOB_REMOTE_CACHE_READ_ONLY` (which win; the
/// URL `off` turns the remote off). `gocache` is go's GOCACHE (the default store is in it).
pub fn resolve(
    spec: &CacheSpec,
    env: impl Fn(&str) -> Option<String>,
    gocache: &str,
) -> Result<Option<RemoteCache>, BadRemoteCache> {
    let (url, source) = match env("GOB_REMOTE_CACHE").filter(|v| !v.is_empty()) {
        Some(v) if v == "off" => return Ok(None),
        Some(v) => {
            if let Some(why) = check_remote_url(&v) {
                return Err(BadRemoteCache(format!("GOB_REMOTE_CACHE `{v}` {why}")));
            }
            (v, "GOB_REMOTE_CACHE")
        }
        None => match &spec.remote {
            Some(url) => (url.value.clone(), "gobuild.toml [cache]"),
            None => return Ok(None),
        },
    };
    let read_only = match env("GOB_REMOTE_CACHE_READ_ONLY").as_deref() {
        None | Some("") => spec.read_only,
        Some("1" | "true") => true,
        Some("0" | "false") => false,
        Some(other) => {
            return Err(BadRemoteCache(format!(
                "GOB_REMOTE_CACHE_READ_ONLY `{other}` is not 1, true, 0 or false"
            )));
        }
    };
    let dir = match (&spec.dir, env("GOB_CACHE_DIR").filter(|v| !v.is_empty())) {
        (_, Some(dir)) => PathBuf::from(dir),
        (Some(dir), None) => dir.clone(),
        (None, None) if gocache.is_empty() || gocache == "off" => {
            return Err(BadRemoteCache(format!(
                "the remote cache needs a local dir: GOCACHE is {gocache:?}; set [cache] dir or GOB_CACHE_DIR"
            )));
        }
        (None, None) => Path::new(gocache).join("gob"),
    };
    Ok(Some(RemoteCache {
        url,
        source,
        read_only,
        auth_env: spec.auth_env.clone(),
        auth_header: spec.auth_header.clone(),
        timeout: spec.timeout,
        dir,
        instance_name: spec.instance_name.clone(),
        ca_file: spec.ca_file.clone(),
    }))
}

impl RemoteCache {
    /// The GOCACHEPROG value that runs `gob` (this executable) as the cache program; go
    /// splits it on spaces and honours quotes.
    pub fn gocacheprog(&self, gob: &Path) -> String {
        let mut words = vec![
            gob.display().to_string(),
            "cacheprog".into(),
            "--dir".into(),
            self.dir.display().to_string(),
            "--remote".into(),
            self.url.clone(),
            "--timeout".into(),
            format!("{}ms", self.timeout.as_millis()),
        ];
        if self.read_only {
            words.push("--read-only".into());
        }
        if !self.instance_name.is_empty() {
            words.extend(["--instance-name".into(), self.instance_name.clone()]);
        }
        if let Some(ca) = &self.ca_file {
            words.extend(["--ca-file".into(), ca.display().to_string()]);
        }
        if let Some(var) = &self.auth_env {
            words.extend(["--auth-env".into(), var.clone()]);
            words.extend(["--auth-header".into(), self.auth_header.clone()]);
        }
        crate::go::quoted::join(&words)
    }

    /// The URL with any user:password replaced, for messages.
    pub fn display_url(&self) -> String {
        crate::base::redact::credentials(&self.url)
    }
}

/// The summary line for a run's counts.
pub fn summary(cache: &RemoteCache, totals: &Totals) -> String {
    let lookups = totals.local_hits + totals.remote_hits + totals.misses;
    let mut line = format!(
        "remote cache {}: {} of {lookups} lookups hit ({} from the remote, {} local)",
        cache.display_url(),
        totals.local_hits + totals.remote_hits,
        totals.remote_hits,
        totals.local_hits,
    );
    if cache.read_only {
        line.push_str(", read-only");
    } else {
        line.push_str(&format!(
            ", {} of {} outputs uploaded",
            totals.uploads, totals.puts
        ));
    }
    if totals.corrupt > 0 {
        line.push_str(&format!(
            "; {} corrupt remote entr{} ignored (first: {})",
            totals.corrupt,
            if totals.corrupt == 1 { "y" } else { "ies" },
            crate::base::redact::credentials(totals.corrupt_example.as_deref().unwrap_or("?"))
        ));
    }
    if let Some(error) = &totals.remote_error {
        let error = crate::base::redact::credentials(error);
        line.push_str(&format!("; remote not used after: {error}"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Located;

    fn spec(url: &str) -> CacheSpec {
        CacheSpec {
            remote: Some(Located {
                value: url.into(),
                span: 0..0,
            }),
            ..CacheSpec::default()
        }
    }

    #[test]
    fn the_environment_wins_over_the_manifest() {
        let env = |name: &str| match name {
            "GOB_REMOTE_CACHE" => Some("http://ci-cache:8080".to_string()),
            "GOB_REMOTE_CACHE_READ_ONLY" => Some("1".to_string()),
            _ => None,
        };
        let cache = resolve(&spec("http://a:1"), env, "/home/u/.cache/go-build")
            .unwrap()
            .unwrap();
        assert_eq!(cache.url, "http://ci-cache:8080");
        assert_eq!(cache.source, "GOB_REMOTE_CACHE");
        assert!(cache.read_only);
        assert_eq!(cache.dir, Path::new("/home/u/.cache/go-build/gob"));
        let off = |name: &str| (name == "GOB_REMOTE_CACHE").then(|| "off".to_string());
        assert_eq!(resolve(&spec("http://a:1"), off, "/c").unwrap(), None);
        assert_eq!(
            resolve(&CacheSpec::default(), |_| None, "/c").unwrap(),
            None
        );
    }

    #[test]
    fn bad_environment_values_are_errors() {
        let bad_url = |name: &str| (name == "GOB_REMOTE_CACHE").then(|| "cache:80".to_string());
        assert!(resolve(&CacheSpec::default(), bad_url, "/c").is_err());
        let bad_flag =
            |name: &str| (name == "GOB_REMOTE_CACHE_READ_ONLY").then(|| "yes".to_string());
        assert!(resolve(&spec("http://a:1"), bad_flag, "/c").is_err());
        assert!(resolve(&spec("http://a:1"), |_| None, "off").is_err());
    }

    #[test]
    fn the_command_line_quotes_what_go_would_split() {
        let mut cache = resolve(&spec("http://a:1/p"), |_| None, "/my cache")
            .unwrap()
            .unwrap();
        cache.auth_env = Some("TOKEN".into());
        let line = cache.gocacheprog(Path::new("/usr/bin/gob"));
        assert_eq!(
            line,
            "/usr/bin/gob cacheprog --dir '/my cache/gob' --remote http://a:1/p --timeout 10000ms \
             --auth-env TOKEN --auth-header Authorization"
        );
    }

    #[test]
    fn credentials_in_the_url_are_not_shown() {
        let cache = resolve(&spec("https://me:secret@host/x@y"), |_| None, "/c")
            .unwrap()
            .unwrap();
        assert_eq!(cache.display_url(), "https://***@host/x@y");
    }
}
