//! `gob init`: a gobuild.toml for an existing Go module: every main package `go list ./...`
//! reports becomes a `[[binary]]` (names made unique where two mains share one), a unit suite
//! covers `./...`, and each build tag that test files need (`//go:build integ`, `e2e`, …)
//! gets an integration suite over the dirs of those files. The tagged files are found by
//! walking the module, since `./...` without the tag skips packages that have no other files.
//! Never overwrites a manifest.

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
    let mut tagged = BTreeMap::new();
    find_tagged_tests(&globals.cwd, &globals.cwd, &mut tagged);
    let text = manifest_text(&listed, &globals.cwd, &tagged);
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

/// Records, for each test tag, the dirs under `dir` (relative to `root`, as `./a/b`) with a
/// `_test.go` file that needs it. Skips hidden dirs, `_` dirs, testdata, vendor and nested
/// modules, as go does.
fn find_tagged_tests(root: &Path, dir: &Path, tagged: &mut BTreeMap<String, BTreeSet<String>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            let skipped = name.starts_with(['.', '_']) || name == "testdata" || name == "vendor";
            if !skipped && !path.join("go.mod").exists() {
                find_tagged_tests(root, &path, tagged);
            }
        } else if name.ends_with("_test.go") {
            let expression = read_build_line(&path).unwrap_or_default();
            for tag in test_tags(&expression) {
                tagged
                    .entry(tag)
                    .or_default()
                    .insert(dot_relative(dir, root));
            }
        }
    }
}

/// `dir` relative to `root` as a go package pattern: `.` or `./a/b`.
fn dot_relative(dir: &Path, root: &Path) -> String {
    let rel = crate::paths::relative_to(dir, root);
    if rel.as_os_str().is_empty() || rel == Path::new(".") {
        ".".to_string()
    } else {
        format!("./{}", rel.display())
    }
}

/// The manifest for the packages of a module in `dir`, with the dirs of tagged tests.
fn manifest_text(
    listed: &[ListedPackage],
    dir: &Path,
    tagged: &BTreeMap<String, BTreeSet<String>>,
) -> String {
    let mut text = String::from(
        "# gobuild.toml: written by `gob init`; see README.md of gob for every key.\n\n[build]\nout_dir = \"bin\"\n",
    );
    let mains = listed
        .iter()
        .filter(|p| p.name == "main" && p.dir.is_some());
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for p in mains {
        let default = default_exec_name(&p.import_path).to_string();
        let package = dot_relative(p.dir.as_deref().unwrap_or(dir), dir);
        text.push_str(&format!("\n[[binary]]\npackage = \"{package}\"\n"));
        if !seen.insert(default.clone()) {
            // Two mains with one default name: the later ones get a longer name.
            let parts: Vec<&str> = p.import_path.rsplit('/').take(2).collect();
            let name = parts.into_iter().rev().collect::<Vec<_>>().join("-");
            text.push_str(&format!("name = \"{name}\"\n"));
        }
    }
    text.push_str("\n[test.unit]\npackages = [\"./...\"]\n");
    for (tag, dirs) in tagged {
        let list: Vec<String> = dirs.iter().map(|p| format!("\"{p}\"")).collect();
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

    fn pkg(path: &str, name: &str) -> ListedPackage {
        ListedPackage {
            import_path: format!("m/{path}"),
            name: name.into(),
            dir: Some(PathBuf::from("/ws").join(path)),
            error: None,
            test_go_files: Vec::new(),
            x_test_go_files: Vec::new(),
        }
    }

    #[test]
    fn test_tags_leave_platforms_out() {
        assert_eq!(test_tags("integ && !race"), ["integ"]);
        assert_eq!(
            test_tags("(e2e || integration) && linux"),
            ["e2e", "integration"]
        );
        assert!(test_tags("go1.21 && amd64").is_empty());
    }

    #[test]
    fn mains_become_binaries_and_tagged_tests_integ_suites() {
        let listed = [
            pkg("cmd/a", "main"),
            pkg("svc/server", "main"),
            pkg("tools/server", "main"),
            pkg("lib", "lib"),
        ];
        let mut tagged: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        tagged
            .entry("integ".into())
            .or_default()
            .extend(["./tests/api".to_string(), "./tests/e2e".to_string()]);
        tagged
            .entry("e2e".into())
            .or_default()
            .insert("./tests/e2e".into());
        let text = manifest_text(&listed, Path::new("/ws"), &tagged);
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
        let dir = tempfile::tempdir().unwrap();
        let parsed = crate::manifest::Manifest::parse(
            &dir.path().join(FILE_NAME),
            std::sync::Arc::new(text.clone()),
        );
        assert!(parsed.is_ok(), "{text}");
    }
}
