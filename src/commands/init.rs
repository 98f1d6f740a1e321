//! `gob init`: a gobuild.toml for an existing Go module: every main package `go list ./...`
//! reports becomes a `[[binary]]` (names made unique where two mains share one), a unit suite
//! covers `./...`, and integration tests get suites as a Go developer would write them: a tag
//! named like integration tests (`integ`, `integration`, `e2e`, `system`, `acceptance`, also
//! inside names such as `integ.v2`) gets a suite over the dirs of the files that need it, and
//! an untagged tree named so (`./integration/...`) gets one that the unit suite excludes.
//! Other tags of test files (feature tags) are listed as comments. Test files are found by
//! walking the module, since `./...` without a tag skips packages that have nothing else.
//! Never overwrites a manifest; adds `.gob/` and the out_dir to `.gitignore`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::base::state::STATE_DIR;
use crate::commands::context::{Context, Globals};
use crate::error::GobError;
use crate::go::names::default_exec_name;
use crate::manifest::{FILE_NAME, ManifestExists};
use crate::workspace::gotool::ListedPackage;
#[cfg(test)]
use crate::workspace::scan::TestFile;
use crate::workspace::scan::{
    TestLayout, dot_relative, find_generate_directives, find_test_files, makefile_targets,
};

/// Runs `gob init`.
pub fn run(globals: &Globals) -> Result<(), GobError> {
    let path = globals.cwd.join(FILE_NAME);
    if path.exists() {
        return Err(ManifestExists { path }.into());
    }
    let ctx = Context::load(globals, &globals.cwd)?;
    let listed = ctx.go.list(&["./..."], &[])?;
    let mut files = Vec::new();
    find_test_files(&globals.cwd, &globals.cwd, &mut files);
    let mut text = manifest_text(&listed, &globals.cwd, &TestLayout::of(&files));
    let mut generate = std::collections::BTreeMap::new();
    find_generate_directives(&globals.cwd, &globals.cwd, &mut generate);
    text.push_str(&generate_tasks(&generate));
    if let Ok(makefile) = std::fs::read_to_string(globals.cwd.join("Makefile")) {
        text.push_str(&makefile_comments(&makefile_targets(&makefile)));
    }
    write_new(&path, &text).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => ManifestExists { path: path.clone() }.into(),
        _ => GobError::Io {
            action: "cannot write",
            path: path.clone(),
            source,
        },
    })?;
    eprintln!("gob: wrote {}", path.display());
    let binaries = text.contains("[[binary]]");
    let integ = text.contains("integ = true");
    let gitignore = globals.cwd.join(".gitignore");
    match ignore_outputs(&globals.cwd, "bin") {
        Ok(added) if added.is_empty() => {}
        Ok(added) => eprintln!(
            "gob: added {} to {}",
            added.join(" and "),
            gitignore.display()
        ),
        Err(e) => eprintln!(
            "gob: warning: cannot update {}: {e}; add .gob/ and /bin/ to it yourself",
            gitignore.display()
        ),
    }
    eprint!("{}", next_steps(binaries, integ));
    Ok(())
}

/// The commands to try after `gob init`, by what the manifest has.
fn next_steps(binaries: bool, integ: bool) -> String {
    let build = match binaries {
        true => "gob build          # build every [[binary]] into bin/",
        false => "gob list           # what gob found: binaries and suites",
    };
    let third = match integ {
        true => "gob test --integ   # the integration suites, compiled in one go call",
        false => "gob check          # compile every package and test, link nothing",
    };
    format!("gob: next, try:\n  {build}\n  gob test           # the unit suite\n  {third}\n")
}

/// A suite name from a tag: letters, digits, `-` and `_` (`integ.v2` → `integ-v2`).
fn suite_name(tag: &str) -> String {
    tag.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A TOML list of strings.
fn toml_list<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    let items: Vec<String> = items.into_iter().map(|i| format!("{i:?}")).collect();
    format!("[{}]", items.join(", "))
}

/// The manifest for the packages of a module in `dir`, with its test layout.
fn manifest_text(listed: &[ListedPackage], dir: &Path, layout: &TestLayout) -> String {
    let mut text = String::from(
        "# gobuild.toml: written by `gob init`; `gob help manifest` lists every key.\n\n[build]\nout_dir = \"bin\"\n",
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
    // The unit suite leaves the untagged integration trees to their suite; tagged
    // integration tests need their tag, so `./...` without it skips them anyway.
    let excluded: Vec<String> = layout
        .integ_dirs
        .iter()
        .map(|d| format!("{}/**", d.trim_start_matches("./")))
        .collect();
    if !excluded.is_empty() {
        text.push_str(&format!("exclude = {}\n", toml_list(&excluded)));
    }
    let mut names: BTreeSet<String> = BTreeSet::from(["unit".to_string()]);
    let mut unique = |wanted: String| {
        let mut name = wanted.clone();
        let mut n = 2;
        while !names.insert(name.clone()) {
            name = format!("{wanted}-{n}");
            n += 1;
        }
        name
    };
    if !layout.integ_dirs.is_empty() {
        let patterns: Vec<String> = layout
            .integ_dirs
            .iter()
            .map(|d| format!("{d}/..."))
            .collect();
        let name = unique("integration".to_string());
        text.push_str(&format!(
            "\n[test.{name}]\npackages = {}\ninteg = true\n",
            toml_list(&patterns)
        ));
    }
    for (tag, dirs) in &layout.integ_tags {
        let name = unique(suite_name(tag));
        text.push_str(&format!(
            "\n[test.{name}]\npackages = {}\ntags = [{tag:?}]\ninteg = true\n",
            toml_list(dirs)
        ));
    }
    if !layout.other_tags.is_empty() {
        text.push_str(
            "\n# Build tags that test files need, not named like integration tests (feature tags\n\
             # of unit tests?). A suite runs them with the tag, e.g.:\n",
        );
        for (tag, dirs) in &layout.other_tags {
            text.push_str(&format!(
                "# [test.{}] packages = {} tags = [{tag:?}]\n",
                suite_name(tag),
                toml_list(dirs)
            ));
        }
    }
    text
}

/// A `[task.*]` stub per package dir with `//go:generate` directives (their commands as
/// comments); `sources` and `outputs` are left for the team to fill in (with both, the task
/// is skipped while they are unchanged).
fn generate_tasks(directives: &std::collections::BTreeMap<String, Vec<String>>) -> String {
    let mut text = String::new();
    for (dir, commands) in directives {
        let name = match directives.len() {
            1 => "generate".to_string(),
            _ => format!(
                "generate-{}",
                suite_name(dir.trim_start_matches("./")).replace('/', "-")
            ),
        };
        text.push_str(&format!("\n[task.{}]\n", name.trim_end_matches('-')));
        for command in commands {
            text.push_str(&format!("# //go:generate {command}\n"));
        }
        text.push_str(&format!(
            "run = [\"go\", \"generate\", \"{dir}\"]\n# sources = [\"{d}/*.go\"]   # with outputs: skipped while both are unchanged\n# outputs = [\"{d}/*_generated.go\"]\n",
            d = dir.trim_start_matches("./")
        ));
    }
    if !directives.is_empty() {
        text.push_str("# To generate before every build: [build] before = [\"generate\"]\n");
    }
    text
}

/// The Makefile's targets as comments, each with its recipe, so the team sees what the
/// manifest does not do yet.
fn makefile_comments(targets: &[(String, Vec<String>)]) -> String {
    if targets.is_empty() {
        return String::new();
    }
    let mut text = String::from(
        "\n# The targets of the Makefile, for what is left to move here (build and test are\n\
         # gob build and gob test; code generation and servers are [task.*]):\n",
    );
    for (target, recipe) in targets {
        text.push_str(&format!("# {target}:\n"));
        for line in recipe {
            text.push_str(&format!("#     {line}\n"));
        }
    }
    text
}

/// Adds `.gob/` and the out_dir to the module's `.gitignore` (created if missing), each
/// only if no line already says it; returns the lines added.
fn ignore_outputs(dir: &Path, out_dir: &str) -> std::io::Result<Vec<String>> {
    let path = dir.join(".gitignore");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let present = |entry: &str| {
        let bare = entry.trim_matches('/');
        text.lines()
            .map(str::trim)
            .any(|l| l.trim_start_matches('/').trim_end_matches('/') == bare)
    };
    let added: Vec<String> = [format!("{STATE_DIR}/"), format!("/{out_dir}/")]
        .into_iter()
        .filter(|entry| !present(entry))
        .collect();
    if added.is_empty() {
        return Ok(added);
    }
    let mut new = text.clone();
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str("# gob's state and outputs (gob init)\n");
    for line in &added {
        new.push_str(line);
        new.push('\n');
    }
    crate::base::paths::write_atomically(&path, new.as_bytes())?;
    Ok(added)
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

    #[test]
    fn generate_stubs_and_makefile_targets_parse_as_a_manifest_with_the_rest() {
        let directives = std::collections::BTreeMap::from([
            ("./api".to_string(), vec!["stringer -type=Kind".to_string()]),
            (
                "./internal/mocks".to_string(),
                vec!["mockgen -source=x.go".to_string()],
            ),
        ]);
        let text = format!(
            "{}{}",
            generate_tasks(&directives),
            makefile_comments(&[("gen".into(), vec!["go generate ./...".into()])])
        );
        assert!(text.contains("[task.generate-api]\n# //go:generate stringer -type=Kind\nrun = [\"go\", \"generate\", \"./api\"]"), "{text}");
        assert!(text.contains("[task.generate-internal-mocks]"), "{text}");
        assert!(text.contains("# gen:\n#     go generate ./...\n"), "{text}");
        let manifest = crate::manifest::Manifest::parse(
            Path::new("/ws/gobuild.toml"),
            std::sync::Arc::new(text),
        )
        .unwrap();
        assert_eq!(manifest.tasks.len(), 2);
    }
    use std::path::PathBuf;

    fn pkg(path: &str, name: &str) -> ListedPackage {
        ListedPackage {
            import_path: format!("m/{path}"),
            name: name.into(),
            dir: Some(PathBuf::from("/ws").join(path)),
            error: None,
            test_go_files: Vec::new(),
            x_test_go_files: Vec::new(),
            matches: Vec::new(),
            embeds: Default::default(),
            files: Default::default(),
        }
    }

    fn file(dir: &str, tags: &[&str]) -> TestFile {
        TestFile {
            dir: dir.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn parses(text: &str) {
        let dir = tempfile::tempdir().unwrap();
        let parsed = crate::manifest::Manifest::parse(
            &dir.path().join(FILE_NAME),
            std::sync::Arc::new(text.to_string()),
        );
        assert!(parsed.is_ok(), "{text}\n{:?}", parsed.err());
    }

    #[test]
    fn mains_become_binaries_and_tagged_tests_integ_suites() {
        let listed = [
            pkg("cmd/a", "main"),
            pkg("svc/server", "main"),
            pkg("tools/server", "main"),
            pkg("lib", "lib"),
        ];
        let layout = TestLayout::of(&[
            file("./tests/api", &["integ"]),
            file("./tests/e2e", &["integ"]),
            file("./tests/e2e", &["e2e"]),
        ]);
        let text = manifest_text(&listed, Path::new("/ws"), &layout);
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
        parses(&text);
    }

    #[test]
    fn init_takes_only_integration_named_tags_and_dirs_as_integ_suites() {
        let layout = TestLayout::of(&[
            file("./fs", &["no_btrfs"]),
            file("./sync", &["synctest"]),
            file("./api", &[]),
            file("./integration", &[]),
            file("./integration/db", &[]),
            file("./test/e2e/web", &[]),
            file("./client", &["integ.v2"]),
        ]);
        let text = manifest_text(&[], Path::new("/ws"), &layout);
        assert!(
            text.contains("[test.unit]\npackages = [\"./...\"]\nexclude = [\"integration/**\", \"test/e2e/**\"]"),
            "{text}"
        );
        assert!(
            text.contains("[test.integration]\npackages = [\"./integration/...\", \"./test/e2e/...\"]\ninteg = true"),
            "{text}"
        );
        assert!(
            text.contains("[test.integ-v2]\npackages = [\"./client\"]\ntags = [\"integ.v2\"]"),
            "{text}"
        );
        assert!(
            text.contains("# [test.no_btrfs] packages = [\"./fs\"]"),
            "{text}"
        );
        assert!(!text.contains("[test.no_btrfs]\n"), "{text}");
        parses(&text);
    }

    #[test]
    fn init_adds_state_and_outputs_to_gitignore_once() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            ignore_outputs(dir.path(), "bin").unwrap(),
            [".gob/", "/bin/"]
        );
        assert!(ignore_outputs(dir.path(), "bin").unwrap().is_empty());
        let text = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
        assert_eq!(text.matches(".gob/").count(), 1, "{text}");
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join(".gitignore"), "*.log\nbin").unwrap();
        assert_eq!(ignore_outputs(other.path(), "bin").unwrap(), [".gob/"]);
        let text = std::fs::read_to_string(other.path().join(".gitignore")).unwrap();
        assert!(text.starts_with("*.log\nbin\n# gob"), "{text}");
    }
}
