//! The effective build settings of one binary: `[build]` defaults with the binary's
//! overrides applied. Binaries with equal settings can share one `go build` call.

use std::collections::BTreeMap;

use crate::manifest::SettingsSpec;

/// Everything that changes how go builds a binary (and so must be equal within one call).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BuildSettings {
    /// Extra go build flags.
    pub flags: Vec<String>,
    /// Build tags.
    pub tags: Vec<String>,
    /// `-ldflags` value.
    pub ldflags: Option<String>,
    /// Environment for go.
    pub env: BTreeMap<String, String>,
    /// Target OS, when set.
    pub goos: Option<String>,
    /// Target architecture, when set.
    pub goarch: Option<String>,
}

impl BuildSettings {
    /// `defaults` with `overrides` on top: lists and strings replace, `env` merges per key.
    pub fn merge(defaults: &SettingsSpec, overrides: &SettingsSpec) -> BuildSettings {
        let pick = |o: &Option<Vec<String>>, d: &Option<Vec<String>>| {
            o.clone().or_else(|| d.clone()).unwrap_or_default()
        };
        let mut env = defaults.env.clone();
        env.extend(overrides.env.clone());
        BuildSettings {
            flags: pick(&overrides.flags, &defaults.flags),
            tags: pick(&overrides.tags, &defaults.tags),
            ldflags: overrides
                .ldflags
                .clone()
                .or_else(|| defaults.ldflags.clone()),
            env,
            goos: overrides.goos.clone().or_else(|| defaults.goos.clone()),
            goarch: overrides.goarch.clone().or_else(|| defaults.goarch.clone()),
        }
    }

    /// The target OS: the binary's `goos`, else its `env.GOOS`, else the host's.
    pub fn target_os<'a>(&'a self, host: &'a str) -> &'a str {
        self.goos
            .as_deref()
            .or(self.env.get("GOOS").map(String::as_str))
            .unwrap_or(host)
    }

    /// A short stable fingerprint (FNV-1a), used to name staging dirs.
    pub fn fingerprint(&self) -> String {
        let hash = crate::base::hash::fnv1a(format!("{self:?}").as_bytes());
        format!("{:08x}", hash >> 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_lists_and_merge_env() {
        let defaults = SettingsSpec {
            flags: Some(vec!["-trimpath".into()]),
            tags: Some(vec!["netgo".into()]),
            ldflags: Some("-s -w".into()),
            env: BTreeMap::from([("CGO_ENABLED".into(), "0".into())]),
            ..Default::default()
        };
        let overrides = SettingsSpec {
            tags: Some(vec![]),
            env: BTreeMap::from([("GOAMD64".into(), "v3".into())]),
            goarch: Some("arm64".into()),
            ..Default::default()
        };
        let s = BuildSettings::merge(&defaults, &overrides);
        assert_eq!(s.flags, vec!["-trimpath"]);
        assert!(s.tags.is_empty());
        assert_eq!(s.ldflags.as_deref(), Some("-s -w"));
        assert_eq!(s.env.len(), 2);
        assert_eq!(s.goarch.as_deref(), Some("arm64"));
    }

    #[test]
    fn fingerprint_is_stable_and_distinguishes_settings() {
        let a = BuildSettings::default();
        let b = BuildSettings {
            goos: Some("windows".into()),
            ..Default::default()
        };
        assert_eq!(a.fingerprint(), BuildSettings::default().fingerprint());
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(b.target_os("linux"), "windows");
    }
}
