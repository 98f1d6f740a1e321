//! Whether this run sends integration test binaries to a REAPI cluster, and how: `[exec]`
//! and the command line (`--remote-exec[=URL]`, `--no-remote-exec`, `--remote-exec-strict`)
//! resolve to a [`RemoteExecSettings`].

use std::collections::BTreeMap;

use crate::manifest::{ExecSpec, check_exec_url};
use crate::reapi::ServerOptions;

/// What the command line says about remote execution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecFlags {
    /// `--remote-exec` (`Some("")`) or `--remote-exec=URL`.
    pub on: Option<String>,
    /// `--no-remote-exec`.
    pub off: bool,
    /// `--remote-exec-strict`.
    pub strict: bool,
}

/// A resolved remote-execution setup.
#[derive(Debug, Clone)]
pub struct RemoteExecSettings {
    /// How to reach the cluster (the auth header's value already read from its env var).
    pub server: ServerOptions,
    /// Platform properties of every action.
    pub platform: BTreeMap<String, String>,
    /// Actions in flight at once.
    pub jobs: usize,
    /// A remote failure fails the run instead of running the binary locally.
    pub strict: bool,
}

/// Resolves `[exec]` and `flags`; `env` reads the auth variable. `Ok(None)`: everything runs
/// locally. Notes for the user (an auth variable that is not set) go to `notes`.
pub fn resolve(
    spec: &ExecSpec,
    flags: &ExecFlags,
    env: impl Fn(&str) -> Option<String>,
    notes: &mut Vec<String>,
) -> Result<Option<RemoteExecSettings>, String> {
    if flags.off {
        return Ok(None);
    }
    let url = match (flags.on.as_deref(), &spec.remote) {
        (Some(""), Some(url)) => url.value.clone(),
        (Some(""), None) => {
            return Err(
                "--remote-exec needs a cluster: set [exec] remote in gobuild.toml or pass --remote-exec=grpc://host:port"
                    .to_string(),
            );
        }
        (Some(url), _) => {
            if let Some(why) = check_exec_url(url) {
                return Err(format!("--remote-exec `{url}` {why}"));
            }
            url.to_string()
        }
        (None, Some(url)) if spec.enabled => url.value.clone(),
        (None, _) => return Ok(None),
    };
    let auth = match &spec.auth_env {
        None => None,
        Some(var) => match env(var) {
            Some(value) => Some((spec.auth_header.clone(), value)),
            None => {
                notes.push(format!(
                    "[exec] auth_env {var} is not set: remote execution requests go without the {} header",
                    spec.auth_header
                ));
                None
            }
        },
    };
    Ok(Some(RemoteExecSettings {
        server: ServerOptions {
            url,
            auth,
            timeout: spec.timeout,
            instance: spec.instance_name.clone(),
            ca_file: spec.ca_file.clone(),
        },
        platform: spec.platform.clone(),
        jobs: spec.jobs,
        strict: flags.strict || spec.strict,
    }))
}

/// Platform properties as people read them: `OSFamily=linux, container-image=…` (empty when
/// there are none).
pub fn platform_text(platform: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = platform.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Located;

    fn spec(url: Option<&str>, enabled: bool) -> ExecSpec {
        ExecSpec {
            remote: url.map(|u| Located {
                value: u.to_string(),
                span: 0..0,
            }),
            enabled,
            ..ExecSpec::default()
        }
    }

    fn url_of(spec: &ExecSpec, flags: &ExecFlags) -> Result<Option<String>, String> {
        resolve(spec, flags, |_| None, &mut Vec::new()).map(|s| s.map(|s| s.server.url))
    }

    #[test]
    fn the_manifest_turns_it_on_and_flags_override() {
        let configured = spec(Some("grpc://bb:8980"), true);
        let on = ExecFlags {
            on: Some(String::new()),
            ..ExecFlags::default()
        };
        let off = ExecFlags {
            off: true,
            ..ExecFlags::default()
        };
        let url = ExecFlags {
            on: Some("grpcs://other:443".into()),
            ..ExecFlags::default()
        };
        let none = ExecFlags::default();
        assert_eq!(
            url_of(&configured, &none).unwrap().as_deref(),
            Some("grpc://bb:8980")
        );
        assert_eq!(url_of(&configured, &off).unwrap(), None);
        assert_eq!(
            url_of(&configured, &url).unwrap().as_deref(),
            Some("grpcs://other:443")
        );
        let kept_for_ci = spec(Some("grpc://bb:8980"), false);
        assert_eq!(url_of(&kept_for_ci, &none).unwrap(), None);
        assert_eq!(
            url_of(&kept_for_ci, &on).unwrap().as_deref(),
            Some("grpc://bb:8980")
        );
        let unset = spec(None, true);
        assert_eq!(url_of(&unset, &none).unwrap(), None);
        let error = url_of(&unset, &on).unwrap_err();
        assert!(error.contains("set [exec] remote"), "{error}");
        let bad = ExecFlags {
            on: Some("http://bb:8980".into()),
            ..ExecFlags::default()
        };
        assert_eq!(
            url_of(&unset, &bad).unwrap_err(),
            "--remote-exec `http://bb:8980` must start with grpc:// or grpcs://"
        );
    }

    #[test]
    fn platform_text_lists_properties_by_name() {
        let platform = BTreeMap::from([
            ("container-image".to_string(), "docker://img".to_string()),
            ("OSFamily".to_string(), "linux".to_string()),
        ]);
        assert_eq!(
            platform_text(&platform),
            "OSFamily=linux, container-image=docker://img"
        );
        assert_eq!(platform_text(&BTreeMap::new()), "");
    }

    #[test]
    fn auth_comes_from_its_variable_and_a_missing_one_is_a_note() {
        let mut spec = spec(Some("grpc://bb:8980"), true);
        spec.auth_env = Some("BB_TOKEN".into());
        spec.auth_header = "x-buildbuddy-api-key".into();
        let mut notes = Vec::new();
        let flags = ExecFlags {
            strict: true,
            ..ExecFlags::default()
        };
        let set = resolve(&spec, &flags, |_| Some("k".into()), &mut notes)
            .unwrap()
            .unwrap();
        assert_eq!(
            set.server.auth,
            Some(("x-buildbuddy-api-key".into(), "k".into()))
        );
        assert!(set.strict && notes.is_empty());
        let unset = resolve(&spec, &flags, |_| None, &mut notes)
            .unwrap()
            .unwrap();
        assert_eq!(unset.server.auth, None);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("BB_TOKEN is not set"), "{}", notes[0]);
    }
}
