//! The embed configuration go gives the compiler (`-embedcfg`): which files each
//! `//go:embed` pattern of a package names. `go list -json` prints a package's patterns, and
//! the files they name together only for its own (`EmbedFiles`; its tests' only under
//! `-test`), never which pattern names which; this resolves them with go's rules
//! (`resolveEmbed` in `cmd/go/internal/load/pkg.go`): a pattern is a `path.Match` glob
//! relative to the package dir, optionally prefixed `all:`; a file it matches is named, and a
//! dir it matches names the regular files below it, except under a name starting with `.` or
//! `_` (unless `all:`), under a name a module cannot hold (`.git`, …), and in another module
//! (a dir with a `go.mod`). A pattern go would reject (matching nothing, a file in another
//! module) is go's error before anything is compiled, so it is not reported here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The compiler's `-embedcfg` file (`cmd/compile/internal/staticdata`'s `embedCfg`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EmbedConfig {
    /// Each pattern and the files (relative to the package dir) it names.
    pub patterns: BTreeMap<String, Vec<String>>,
    /// Each file named and where it is.
    pub files: BTreeMap<String, String>,
}

impl EmbedConfig {
    /// The configuration of `patterns` in the package dir `dir`, from the files there.
    pub fn resolve(dir: &Path, patterns: &[String]) -> EmbedConfig {
        let mut files = BTreeSet::new();
        for pattern in patterns {
            // Only below the pattern's leading dirs can it name anything.
            let glob = pattern.strip_prefix("all:").unwrap_or(pattern);
            let literal: Vec<&str> = glob
                .split('/')
                .take_while(|part| !part.contains(['*', '?', '[', '\\']))
                .collect();
            collect_files(dir, &dir.join(literal.join("/")), &mut files);
        }
        let files: Vec<String> = files.into_iter().collect();
        EmbedConfig::new(dir, patterns, &files)
    }

    /// The configuration of `patterns` in `dir` among `files` (relative, with `/`: regular
    /// files, none in another module or under a name a module cannot hold).
    fn new(dir: &Path, patterns: &[String], files: &[String]) -> EmbedConfig {
        let mut config = EmbedConfig::default();
        for pattern in patterns {
            let named: Vec<String> = files
                .iter()
                .filter(|file| names(pattern, file))
                .cloned()
                .collect();
            for file in &named {
                let path = dir.join(file).display().to_string();
                config.files.insert(file.clone(), path);
            }
            config.patterns.insert(pattern.clone(), named);
        }
        config
    }
}

/// The regular files at or below `start` that a pattern of the package in `dir` may name,
/// relative to `dir`, into `files`.
fn collect_files(dir: &Path, start: &Path, files: &mut BTreeSet<String>) {
    let walk = walkdir::WalkDir::new(start)
        .follow_links(false)
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            let other_module = entry.depth() > 0
                && entry.file_type().is_dir()
                && entry.path().join("go.mod").exists();
            !(other_module || entry.depth() > 0 && bad_name(&name))
        });
    for entry in walk.flatten() {
        if entry.file_type().is_file()
            && let Ok(relative) = entry.path().strip_prefix(dir)
        {
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.insert(parts.join("/"));
        }
    }
}

/// A name go never embeds (`isBadEmbedName`: version control dirs a module zip leaves out).
fn bad_name(name: &str) -> bool {
    matches!(name, ".bzr" | ".hg" | ".git" | ".svn")
}

/// Whether `pattern` names `file` (both relative to the package dir).
fn names(pattern: &str, file: &str) -> bool {
    let (glob, all) = match pattern.strip_prefix("all:") {
        Some(glob) => (glob, true),
        None => (pattern, false),
    };
    if glob_match(glob.as_bytes(), file.as_bytes()) {
        return true;
    }
    // A dir the glob matches names what is below it, hidden names only with `all:`.
    let elements: Vec<&str> = file.split('/').collect();
    (1..elements.len()).any(|depth| {
        let dir = elements[..depth].join("/");
        glob_match(glob.as_bytes(), dir.as_bytes())
            && (all
                || elements[depth..]
                    .iter()
                    .all(|e| !e.starts_with('.') && !e.starts_with('_')))
    })
}

/// Go's `path.Match`: `*` is any run of bytes but `/`, `?` one byte but `/`, `[...]` a
/// class (`^` negates, `a-z` ranges), `\` quotes the next byte. A malformed pattern matches
/// nothing (go rejects it before it gets here).
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => {
            let rest = trim_stars(rest);
            (0..=name.len())
                .take_while(|&i| i == 0 || name[i - 1] != b'/')
                .any(|i| glob_match(rest, &name[i..]))
        }
        Some((b'?', rest)) => match name.split_first() {
            Some((&c, name)) if c != b'/' => glob_match(rest, name),
            _ => false,
        },
        Some((b'[', rest)) => match (name.split_first(), class(rest)) {
            (Some((&c, name)), Some((matches, rest))) if c != b'/' && matches(c) => {
                glob_match(rest, name)
            }
            _ => false,
        },
        Some((b'\\', rest)) => match (rest.split_first(), name.split_first()) {
            (Some((p, rest)), Some((c, name))) if p == c => glob_match(rest, name),
            _ => false,
        },
        Some((p, rest)) => match name.split_first() {
            Some((c, name)) if p == c => glob_match(rest, name),
            _ => false,
        },
    }
}

fn trim_stars(mut pattern: &[u8]) -> &[u8] {
    while let Some((b'*', rest)) = pattern.split_first() {
        pattern = rest;
    }
    pattern
}

/// The class after a `[`: a test of one byte, and the pattern after the `]`.
fn class(pattern: &[u8]) -> Option<(impl Fn(u8) -> bool, &[u8])> {
    let (negated, mut at) = match pattern.first() {
        Some(b'^') => (true, 1),
        _ => (false, 0),
    };
    let mut ranges = Vec::new();
    loop {
        if pattern.get(at) == Some(&b']') && !ranges.is_empty() {
            break;
        }
        let (low, next) = class_byte(pattern, at)?;
        at = next;
        let mut high = low;
        if pattern.get(at) == Some(&b'-') {
            (high, at) = class_byte(pattern, at + 1)?;
        }
        ranges.push((low, high));
    }
    let test = move |c: u8| ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != negated;
    Some((test, &pattern[at + 1..]))
}

/// One byte of a class at `at` (a `\` quotes it), and where the class goes on.
fn class_byte(pattern: &[u8], at: usize) -> Option<(u8, usize)> {
    match pattern.get(at)? {
        b'\\' => Some((*pattern.get(at + 1)?, at + 2)),
        b'-' | b']' => None,
        &c => Some((c, at + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_go_path_match_does() {
        let cases = [
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*/b", "abc/b", true),
            ("a*/b", "a/c/b", false),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
            ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^b-d]", "abe", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a/b", false),
            ("a*b", "a/b", false),
            ("[\\]a]", "]", true),
            ("[\\-]", "-", true),
            ("*x", "xxx", true),
            ("static/*", "static/.hidden", true),
            ("a{b,c}", "ab", false),
            ("a{b,c}", "a{b,c}", true),
            ("x**", "xyz", true),
            ("[", "a", false),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(
                glob_match(pattern.as_bytes(), name.as_bytes()),
                want,
                "path.Match({pattern:?}, {name:?})"
            );
        }
    }

    #[test]
    fn a_dir_names_what_is_below_it_and_hidden_names_only_with_all() {
        let files: Vec<String> = [
            "one.txt",
            "static/.hidden",
            "static/_skip/x.txt",
            "static/a.txt",
            "static/sub/b.txt",
        ]
        .map(String::from)
        .to_vec();
        let patterns: Vec<String> = ["static", "all:static", "one.txt", "static/*.txt"]
            .map(String::from)
            .to_vec();
        let config = EmbedConfig::new(Path::new("/p"), &patterns, &files);
        assert_eq!(
            config.patterns["static"],
            ["static/a.txt", "static/sub/b.txt"]
        );
        assert_eq!(
            config.patterns["all:static"],
            [
                "static/.hidden",
                "static/_skip/x.txt",
                "static/a.txt",
                "static/sub/b.txt"
            ]
        );
        assert_eq!(config.patterns["one.txt"], ["one.txt"]);
        assert_eq!(config.patterns["static/*.txt"], ["static/a.txt"]);
        assert_eq!(config.files["static/a.txt"], "/p/static/a.txt");
        assert_eq!(config.files.len(), files.len());
    }

    /// The `-embedcfg` go writes for the package in `dir`, from `go build -n`'s script.
    fn go_embedcfg(dir: &Path) -> serde_json::Value {
        let out = std::process::Command::new("go")
            .args(["build", "-n", "-a", "."])
            .current_dir(dir)
            .env("GOTOOLCHAIN", "local")
            .env("GOPROXY", "off")
            .env("GOFLAGS", "")
            .output()
            .unwrap();
        let script = String::from_utf8_lossy(&out.stderr);
        let start = script
            .find("embedcfg << 'EOF'")
            .unwrap_or_else(|| panic!("no embedcfg in go build -n:\n{script}"));
        let body = &script[script[start..].find('\n').unwrap() + start + 1..];
        serde_json::from_str(&body[..body.find("EOF").unwrap()]).unwrap()
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Listed {
        embed_patterns: Vec<String>,
    }

    #[test]
    fn patterns_name_the_files_go_gives_the_compiler() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let files = [
            "one.txt",
            "a{b}.txt",
            "static/.hidden",
            "static/_under.txt",
            "static/a.txt",
            "static/b.dat",
            "static/sub/c.txt",
            "static/sub/.dot/d.txt",
            "static/_u/e.txt",
            "static/inner/go.mod",
            "static/inner/f.txt",
            "static/.git/config",
            "static/sub/.svn/entries",
            "other/x.txt",
        ];
        for file in files {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file).unwrap();
        }
        std::fs::write(dir.join("go.mod"), "module m\n\ngo 1.22\n").unwrap();
        let source = "package m\n\nimport \"embed\"\n\n\
            //go:embed static\nvar a embed.FS\n\n\
            //go:embed all:static\nvar b embed.FS\n\n\
            //go:embed static/*.txt static/s?b\nvar c embed.FS\n\n\
            //go:embed one.txt\nvar d string\n\n\
            //go:embed a{b}.txt\nvar e []byte\n\n\
            //go:embed static/[^ai.]*\nvar f embed.FS\n\n\
            //go:embed \"other\" static/.hidden\nvar g embed.FS\n";
        std::fs::write(dir.join("m.go"), source).unwrap();
        let out = std::process::Command::new("go")
            .args(["list", "-json=EmbedPatterns", "."])
            .current_dir(dir)
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listed: Listed = serde_json::from_slice(&out.stdout).unwrap();
        let ours = EmbedConfig::resolve(dir, &listed.embed_patterns);
        let theirs = go_embedcfg(dir);
        let mut want: BTreeMap<String, Vec<String>> =
            serde_json::from_value(theirs["Patterns"].clone()).unwrap();
        for names in want.values_mut() {
            names.sort();
        }
        assert_eq!(ours.patterns, want);
        assert_eq!(
            serde_json::to_value(&ours.files).unwrap(),
            theirs["Files"],
            "each file where it is"
        );
        assert!(
            ours.patterns["all:static"].len() > ours.patterns["static"].len(),
            "the tree holds hidden names, so the test tells `all:` apart"
        );
    }
}
