//! The user's `GOFLAGS` that gob's own `go test` calls must not inherit.
//!
//! gob reads the output of its integration compile call and of `gob check` as plain text,
//! and keeps test binaries through go's test-result cache; a `-json` or `-count` in the
//! user's `GOFLAGS` (go reads them before the command line, which cannot unset them) would
//! break that. Such a call gets `GOFLAGS` set to the user's without those flags.

use std::collections::BTreeMap;

/// `-count` (as `-count` or `-test.count`): go caches no test result with it.
pub const COUNT: [&str; 2] = ["count", "test.count"];
/// `-json`: go wraps every line of its output in a JSON event.
pub const JSON: [&str; 1] = ["json"];

/// Sets `GOFLAGS` in `env` to the effective GOFLAGS (`env`'s own, else `inherited`: what
/// `go env GOFLAGS` said) without the flags named in `names`, when it holds any of them.
pub fn drop_goflags(env: &mut BTreeMap<String, String>, inherited: &str, names: &[&str]) {
    let goflags = env.get("GOFLAGS").map_or(inherited, String::as_str);
    if let Some(kept) = without(goflags, names) {
        env.insert("GOFLAGS".to_string(), kept);
    }
}

/// `goflags` without the flags named in `names`, if it has any of them (split and joined as
/// go does; `None` for GOFLAGS go cannot read either).
fn without(goflags: &str, names: &[&str]) -> Option<String> {
    let words = crate::go::quoted::split(goflags)?;
    let named = |word: &String| {
        let name = word.trim_start_matches('-');
        let name = name.split_once('=').map_or(name, |(name, _)| name);
        names.contains(&name)
    };
    let kept: Vec<&String> = words.iter().filter(|w| !named(w)).collect();
    (kept.len() < words.len()).then(|| crate::go::quoted::join(&kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_flags_go_and_only_when_present() {
        let mut env = BTreeMap::new();
        drop_goflags(&mut env, "-mod=mod -v", &JSON);
        assert!(env.is_empty(), "nothing to change");
        drop_goflags(
            &mut env,
            "-mod=mod -json '-ldflags=-s -w' --json=true",
            &JSON,
        );
        assert_eq!(env["GOFLAGS"], "-mod=mod '-ldflags=-s -w'");
        let mut env = BTreeMap::from([("GOFLAGS".to_string(), "-count=3 -x".to_string())]);
        drop_goflags(&mut env, "-json", &COUNT);
        assert_eq!(
            env["GOFLAGS"], "-x",
            "the call's own GOFLAGS wins over go env's"
        );
        let mut env = BTreeMap::new();
        drop_goflags(&mut env, "-test.count=1", &COUNT);
        assert_eq!(env["GOFLAGS"], "");
        drop_goflags(&mut env, "-json 'unterminated", &JSON);
        assert_eq!(env["GOFLAGS"], "", "unreadable GOFLAGS are go's to report");
    }
}
