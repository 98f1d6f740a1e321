//! Version stamps: `{version}` (`git describe --tags --always --dirty`), `{commit}` (the full
//! hash), `{date}` (the commit's date, RFC 3339 in UTC, so a build of one commit is the same
//! build whenever it runs; `SOURCE_DATE_EPOCH` wins) and `{env.NAME}`, in a binary's
//! `ldflags` and `flags` and a task's `run` and `env`. Outside a git repository `{version}` is
//! `dev` and `{commit}` and `{date}` are empty, with one warning. git is asked only when a
//! placeholder that needs it is used.

use std::path::Path;

use crate::workspace::git::Git;

/// The values of the placeholders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamps {
    /// `{version}`.
    pub version: String,
    /// `{commit}`.
    pub commit: String,
    /// `{date}`.
    pub date: String,
    /// Why the values are stand-ins (not a git repository), said once.
    pub warning: Option<String>,
}

/// The placeholders that need git.
const FROM_GIT: [&str; 3] = ["{version}", "{commit}", "{date}"];

/// Whether any of `texts` uses a placeholder that needs git.
pub fn needs_git<'a>(texts: impl IntoIterator<Item = &'a str>) -> bool {
    texts
        .into_iter()
        .any(|t| FROM_GIT.iter().any(|p| t.contains(p)))
}

/// Reads the stamps of the repository holding `dir`; `source_date_epoch` is
/// `SOURCE_DATE_EPOCH`, when set.
pub fn read(dir: &Path, source_date_epoch: Option<&str>) -> Stamps {
    let git = Git::at(dir);
    let run = |args: &[&str]| -> Option<String> {
        let out = git.try_run(args, None).ok()?.ok()?;
        Some(String::from_utf8_lossy(&out).trim().to_string())
    };
    let epoch_date = source_date_epoch.and_then(rfc3339);
    let Some(commit) = run(&["rev-parse", "HEAD"]) else {
        return Stamps {
            version: "dev".into(),
            commit: String::new(),
            date: epoch_date.unwrap_or_default(),
            warning: Some(format!(
                "{} is not in a git repository with a commit: {{version}} is `dev`, {{commit}} is empty",
                dir.display()
            )),
        };
    };
    let version = run(&["describe", "--tags", "--always", "--dirty"]).unwrap_or_default();
    let date = epoch_date
        .or_else(|| run(&["show", "-s", "--format=%ct", "HEAD"]).and_then(|t| rfc3339(&t)));
    Stamps {
        version,
        commit,
        date: date.unwrap_or_default(),
        warning: None,
    }
}

/// Seconds since the epoch as RFC 3339 in UTC (`2026-12-03T10:00:00Z`).
fn rfc3339(seconds: &str) -> Option<String> {
    let seconds: i64 = seconds.trim().parse().ok()?;
    let time = chrono::DateTime::from_timestamp(seconds, 0)?;
    Some(time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// `text` with every placeholder replaced: `{version}`, `{commit}`, `{date}` from `stamps`,
/// `{env.NAME}` from `env` (empty when unset). Other braces are left as they are.
pub fn expand(text: &str, stamps: &Stamps, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        let value = match name {
            "version" => Some(stamps.version.clone()),
            "commit" => Some(stamps.commit.clone()),
            "date" => Some(stamps.date.clone()),
            _ => name
                .strip_prefix("env.")
                .filter(|n| !n.is_empty())
                .map(|n| env(n).unwrap_or_default()),
        };
        match value {
            Some(value) => {
                out.push_str(&value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamps() -> Stamps {
        Stamps {
            version: "v1.2.0-3-gabc".into(),
            commit: "abc123".into(),
            date: "2026-12-03T10:00:00Z".into(),
            warning: None,
        }
    }

    #[test]
    fn placeholders_are_replaced_and_other_braces_kept() {
        let env = |name: &str| (name == "USER").then(|| "ci".to_string());
        assert_eq!(
            expand(
                "-X main.version={version} -X main.commit={commit} -X main.date={date} -X main.by={env.USER}{env.NOPE}",
                &stamps(),
                &env
            ),
            "-X main.version=v1.2.0-3-gabc -X main.commit=abc123 -X main.date=2026-12-03T10:00:00Z -X main.by=ci"
        );
        assert_eq!(
            expand("{x} {} {version", &stamps(), &env),
            "{x} {} {version"
        );
        assert!(needs_git(["-X a={commit}"]) && !needs_git(["-X a={env.X}", "plain"]));
    }

    #[test]
    fn dates_are_rfc3339_in_utc() {
        assert_eq!(rfc3339("0").unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(" 1764756000\n").unwrap(), "2025-12-03T10:00:00Z");
        assert_eq!(rfc3339("soon"), None);
    }

    #[test]
    fn outside_a_repository_the_version_is_dev() {
        let dir = tempfile::tempdir().unwrap();
        let stamps = read(dir.path(), Some("0"));
        assert_eq!(stamps.version, "dev");
        assert_eq!(stamps.commit, "");
        assert_eq!(
            stamps.date, "1970-01-01T00:00:00Z",
            "SOURCE_DATE_EPOCH wins"
        );
        assert!(stamps.warning.is_some());
    }
}
