//! `gob init`: a gobuild.toml for an existing Go module, from one `go list`: every main
//! package a `[[binary]]` (names made unique where two mains share one), a unit suite over
//! `./...`, and one integration suite per build tag that test files need (`//go:build integ`,
//! `e2e`, …). Never overwrites a manifest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::context::{Context, Globals};
use crate::error::GobError;
use crate::gotool::ListedPackage;
use crate::manifest::FILE_NAME;
use crate::plan::names::default_exec_name;

/// Build constraints that are platforms or toolchains, not a team's own test tags.
const NOT_TEST_TAGS: &[&str] = &[
    "ignore",
    "cgo",
    "gc",
    "gccgo",
    "unix",
    "linux",
    "darwin",
    "windows",
    "freebsd",
    "openbsd",
    "netbsd",
    "dragonfly",
    "solaris",
    "illumos",
    "aix",
    "plan9",
    "js",
    "wasip1",
    "android",
    "ios",
    "amd64",
    "arm64",
    "386",
    "arm",
    "wasm",
    "riscv64",
    "ppc64",
    "ppc64le",
    "s390x",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "loong64",
    "race",
    "purego",
    "tools",
];

/// A manifest that refuses to be overwritten.
#[derive(Debug, thiserror::Error)]
#[error("{} already exists; gob init never overwrites a manifest", path.display())]
pub struct ManifestExists {
    /// The existing file.
    pub path: std::path::PathBuf,
}

/// Runs `gob init`.
pub fn run(globals: &Globals) -> Result<(), GobError> {
    let path = globals.cwd.join(FILE_NAME);
    if path.exists() {
        return Err(ManifestExists { path }.into());
    }
    let ctx = Context::load(globals, &globals.cwd)?;
    let listed = ctx.go.list(&["./..."], &[])?;
    let text = manifest_text(&listed, &globals.cwd, &read_build_line);
    write_new(&path, &text).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => ManifestExists { path: path.clone() }.into(),
        _ => GobError::Io {
            action: "cannot write",
            path: path.clone(),
            source,
        },
    })?;
    eprintln!("gob: wrote {}", path.display());
    Ok(())
}

/// The `//go:build` expression of a file, if it has one.
fn read_build_line(file: &Path) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .take_while(|l| l.trim().is_empty() || l.starts_with("//"))
        .find_map(|l| l.strip_prefix("//go:build").map(|e| e.trim().to_string()))
}

/// The tags a build expression names that are not platforms (`integ && !race` → integ).
fn test_tags(expression: &str) -> Vec<String> {
    expression
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .filter(|w| !w.is_empty() && !w.starts_with("go1") && !NOT_TEST_TAGS.contains(w))
        .map(str::to_string)
        .collect()
}

/// The manifest for the packages of a module in `dir`; `build_line` reads a file's
/// `//go:build` expression.
fn manifest_text(
    listed: &[ListedPackage],
    dir: &Path,
    build_line: &dyn Fn(&Path) -> Option<String>,
) -> String {
    let rel = |p: &ListedPackage| {
        let d = p.dir.as_deref().unwrap_or(dir);
        let r = crate::paths::relative_to(d, dir);
        if r.as_os_str().is_empty() || r == Path::new(".") {
            ".".to_string()
        } else {
            format!("./{}", r.display())
        }
    };
    let mut text = String::from(
        "# gobuild.toml: written by `gob init`; see README.md of gob for every key.\n\n[build]\nout_dir = \"bin\"\n",
    );
    let mains: Vec<&ListedPackage> = listed.iter().filter(|p| p.name == "main").collect();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for p in &mains {
        let default = default_exec_name(&p.import_path).to_string();
        text.push_str(&format!("\n[[binary]]\npackage = \"{}\"\n", rel(p)));
        if !seen.insert(default.clone()) {
            // Two mains with one default name: the later ones get a longer name.
            let parts: Vec<&str> = p.import_path.rsplit('/').take(2).collect();
            let name = parts.into_iter().rev().collect::<Vec<_>>().join("-");
            text.push_str(&format!("name = \"{name}\"\n"));
        }
    }
    text.push_str("\n[test.unit]\npackages = [\"./...\"]\n");
    let mut by_tag: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in listed {
        let Some(pdir) = &p.dir else { continue };
        for file in p
            .ignored_go_files
            .iter()
            .filter(|f| f.ends_with("_test.go"))
        {
            for tag in build_line(&pdir.join(file))
                .as_deref()
                .map(test_tags)
                .unwrap_or_default()
            {
                by_tag.entry(tag).or_default().insert(rel(p));
            }
        }
    }
    for (tag, packages) in by_tag {
        let list: Vec<String> = packages.iter().map(|p| format!("\"{p}\"")).collect();
        text.push_str(&format!(
            "\n[test.{tag}]\npackages = [{}]\ntags = [\"{tag}\"]\ninteg = true\n",
            list.join(", ")
        ));
    }
    text
}

/// Writes `text` to a new file at `path` atomically: a temp file hard-linked into place, which
/// fails if `path` appeared meanwhile.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    let temp = path.with_file_name(format!(".{FILE_NAME}.gob-{}.tmp", std::process::id()));
    std::fs::write(&temp, text)?;
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    linked
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn pkg(path: &str, name: &str, ignored: &[&str]) -> ListedPackage {
        ListedPackage {
            import_path: format!("m/{path}"),
            name: name.into(),
            dir: Some(PathBuf::from("/ws").join(path)),
            error: None,
            test_go_files: Vec::new(),
            x_test_go_files: Vec::new(),
            ignored_go_files: ignored.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn mains_become_binaries_and_tagged_tests_integ_suites() {
        let listed = [
            pkg("cmd/a", "main", &[]),
            pkg("svc/server", "main", &[]),
            pkg("tools/server", "main", &[]),
            pkg("lib", "lib", &["lib_windows.go"]),
            pkg("tests/api", "api", &["api_test.go"]),
            pkg("tests/e2e", "e2e", &["e2e_test.go"]),
        ];
        let build_line = |f: &Path| -> Option<String> {
            match f.file_name()?.to_str()? {
                "api_test.go" => Some("integ && !race".into()),
                "e2e_test.go" => Some("e2e || integ".into()),
                _ => Some("windows".into()),
            }
        };
        let text = manifest_text(&listed, Path::new("/ws"), &build_line);
        assert!(text.contains("package = \"./cmd/a\"\n\n"), "{text}");
        assert!(
            text.contains("package = \"./tools/server\"\nname = \"tools-server\""),
            "{text}"
        );
        assert!(text.contains("[test.integ]\npackages = [\"./tests/api\", \"./tests/e2e\"]\ntags = [\"integ\"]\ninteg = true"), "{text}");
        assert!(
            text.contains("[test.e2e]\npackages = [\"./tests/e2e\"]"),
            "{text}"
        );
        assert!(!text.contains("windows"), "{text}");
        let dir = tempfile::tempdir().unwrap();
        let parsed = crate::manifest::Manifest::parse(
            &dir.path().join(FILE_NAME),
            std::sync::Arc::new(text.clone()),
        );
        assert!(parsed.is_ok(), "{text}");
    }
}
