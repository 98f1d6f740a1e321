//! `--since` soundness: the four changes a hostile try found skipped (each named after what
//! broke), the scripted edits of the differential harness ([`crate::since_oracle`]), and
//! the errors `--since` gives instead of a silent "nothing affected".

use crate::since_oracle::{Edit, Generated, check, git};
use crate::support::{gob_command, run};

#[test]
fn since_selects_the_package_whose_embed_pattern_matches_one_file_less() {
    let repo = Generated::new();
    repo.git(&["rm", "-q", "app/web/static/c.txt"]);
    repo.git(&["commit", "-q", "-m", "drop c.txt"]);
    let selected = repo.affected();
    for suite in ["unit", "extra"] {
        let web = &selected[suite]["web"];
        assert_eq!(
            web, "app/web/static/c.txt deleted (its package)",
            "{selected:?}"
        );
        assert_eq!(selected[suite].len(), 1, "{selected:?}");
    }
}

#[test]
fn since_selects_the_importers_of_a_module_whose_replace_in_a_go_work_module_moved() {
    let repo = Generated::new();
    let go_mod = std::fs::read_to_string(repo.root().join("app/go.mod")).unwrap();
    repo.write(
        "app/go.mod",
        &go_mod.replace("../third/lib", "../third/lib2"),
    );
    let selected = repo.affected();
    let core = &selected["unit"]["core"];
    assert_eq!(core, "app/go.mod changed (a module file)", "{selected:?}");
    assert!(!selected["unit"].contains_key("tool"), "another module");
}

#[test]
fn since_selects_the_importers_of_a_bumped_submodule() {
    let repo = Generated::new();
    let sub = repo.root().join("sub");
    std::fs::write(
        sub.join("sub.go"),
        "// Package sub is a git submodule of the repository.\npackage sub\n\n// Name of the submodule.\nfunc Name() string { return \"sub-2\" }\n",
    )
    .unwrap();
    git(&sub, &["commit", "-q", "-am", "sub 2"]);
    repo.git(&["add", "sub"]);
    repo.git(&["commit", "-q", "-m", "bump sub"]);
    let selected = repo.affected();
    assert_eq!(
        selected["unit"].keys().collect::<Vec<_>>(),
        ["usesub"],
        "{selected:?}"
    );
    assert_eq!(
        selected["unit"]["usesub"],
        "sub/sub.go changed (example.com/app/usesub → example.com/sub)"
    );
}

#[test]
fn since_sees_an_edit_when_gob_starts_through_a_symlink() {
    let repo = Generated::new();
    repo.write(
        "third/lib/lib.go",
        "// Package lib is replaced by a dir.\npackage lib\n\n// Value of the library.\nfunc Value() string { return \"lib-changed\" }\n",
    );
    let link = repo.tmp.path().join("ws-link");
    std::os::unix::fs::symlink(repo.root(), &link).unwrap();
    let selected = repo.affected_from(&link);
    assert_eq!(
        selected["unit"]["core"],
        "third/lib/lib.go changed (example.com/app/core → example.com/lib)"
    );
    assert_eq!(selected["unit"].len(), 1, "{selected:?}");
}

/// Edits whose selection is pinned: precision as well as soundness.
pub const PINNED: &[Edit] = &[
    Edit {
        name: "a README changes",
        apply: |r| {
            r.write("README.md", "changed\n");
            None
        },
        exactly: &[("unit", &[]), ("extra", &[])],
    },
    Edit {
        name: "a package no test imports changes",
        apply: |r| {
            r.write(
                "app/unused/unused.go",
                "// Package unused is imported by no test.\npackage unused\n\n// Nothing is never called.\nfunc Nothing() int { return 1 }\n",
            );
            None
        },
        exactly: &[("unit", &[]), ("extra", &[])],
    },
    Edit {
        name: "a file only the extra tag builds changes",
        apply: |r| {
            r.write(
                "app/tagged/mode_extra.go",
                "//go:build extra\n\npackage tagged\n\nconst mode = \"EXTRA\"\n",
            );
            r.git(&["commit", "-q", "-am", "extra mode"]);
            None
        },
        exactly: &[("unit", &[]), ("extra", &["tagged"])],
    },
    Edit {
        name: "a file only the extra tag builds is deleted",
        apply: |r| {
            r.git(&["rm", "-q", "app/tagged/mode_extra.go"]);
            None
        },
        exactly: &[("unit", &[]), ("extra", &["tagged"])],
    },
    Edit {
        name: "the go.mod of the other workspace module changes",
        apply: |r| {
            r.write(
                "tools/go.mod",
                "// The second module.\nmodule example.com/tools\n\ngo 1.22\n",
            );
            None
        },
        exactly: &[("unit", &["tool"]), ("extra", &["tool"])],
    },
    Edit {
        name: "a file a test reads from its own dir changes",
        apply: |r| {
            r.write("app/other/golden.json", "{\"v\": 2}\n");
            None
        },
        exactly: &[("unit", &["other"]), ("extra", &["other"])],
    },
    Edit {
        name: "the extra suite's tags change in the manifest",
        apply: |r| {
            let text = std::fs::read_to_string(r.root().join("gobuild.toml")).unwrap();
            r.write(
                "gobuild.toml",
                &text.replace("tags = [\"extra\"]", "tags = [\"extra\", \"more\"]"),
            );
            None
        },
        exactly: &[
            ("unit", &[]),
            (
                "extra",
                &["core", "native", "other", "tagged", "tool", "usesub", "web"],
            ),
        ],
    },
];

/// Edits held to the oracle only.
pub const EDITS: &[Edit] = &[
    Edit {
        name: "a library in a replace dir changes, uncommitted",
        apply: |r| {
            r.write(
                "third/lib/lib.go",
                "// Package lib is replaced by a dir.\npackage lib\n\n// Value of the library.\nfunc Value() string { return \"lib-3\" }\n",
            );
            None
        },
        exactly: &[],
    },
    Edit {
        name: "a file is added to a library",
        apply: |r| {
            r.write(
                "third/lib/more.go",
                "package lib\n\nfunc init() { println(\"lib init\") }\n",
            );
            None
        },
        exactly: &[],
    },
    Edit {
        name: "a file is renamed within its package",
        apply: |r| {
            r.git(&["mv", "app/core/core.go", "app/core/describe.go"]);
            r.git(&["commit", "-q", "-m", "rename"]);
            None
        },
        exactly: &[],
    },
    Edit {
        name: "a fixture moves from one package to another",
        apply: |r| {
            r.git(&["mv", "app/other/golden.json", "app/core/golden.json"]);
            None
        },
        exactly: &[],
    },
    Edit {
        name: "a testdata file with spaces in its name changes",
        apply: |r| {
            r.write("app/web/testdata/file with space.txt", "spaced in\n");
            None
        },
        exactly: &[],
    },
    Edit {
        name: "a testdata file with a name that is not UTF-8 is added",
        apply: |r| {
            use std::os::unix::ffi::OsStrExt;
            let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
            std::fs::write(r.root().join("app/web/testdata").join(name), "latin-1\n").unwrap();
            None
        },
        exactly: &[],
    },
    Edit {
        name: "a C file of a cgo package changes",
        apply: |r| {
            r.write(
                "app/native/add.c",
                "#include \"add.h\"\n\nint add(int a, int b) { return a + b + 1; }\n",
            );
            None
        },
        exactly: &[],
    },
    Edit {
        name: "a C header of a cgo package changes",
        apply: |r| {
            r.write(
                "app/native/add.h",
                "int add(int a, int b);\n#define UNUSED 1\n",
            );
            None
        },
        exactly: &[],
    },
    Edit {
        name: "a Go file gains a build tag",
        apply: |r| {
            let text = std::fs::read_to_string(r.root().join("app/core/core.go")).unwrap();
            r.write("app/core/core.go", &format!("//go:build extra\n\n{text}"));
            None
        },
        exactly: &[],
    },
    Edit {
        name: "a file of the submodule changes, uncommitted",
        apply: |r| {
            r.write(
                "sub/sub.go",
                "// Package sub is a git submodule of the repository.\npackage sub\n\n// Name of the submodule.\nfunc Name() string { return \"sub-dirty\" }\n",
            );
            None
        },
        exactly: &[],
    },
    Edit {
        name: "an embedded file is added to the pattern's dir",
        apply: |r| {
            r.write("app/web/static/d.txt", "delta\n");
            None
        },
        exactly: &[],
    },
    Edit {
        name: "go.work's go line changes",
        apply: |r| {
            let text = std::fs::read_to_string(r.root().join("go.work")).unwrap();
            r.write("go.work", &text.replace("go 1.22", "go 1.23"));
            None
        },
        exactly: &[],
    },
];

#[test]
fn pinned_edits_select_exactly_what_go_sees_differently() {
    for edit in PINNED {
        check(edit);
    }
}

#[test]
fn scripted_edits_of_libraries_and_files_never_skip_what_go_sees_differently() {
    for edit in &EDITS[..EDITS.len() / 2] {
        check(edit);
    }
}

#[test]
fn scripted_edits_of_cgo_tags_submodules_and_embeds_never_skip_what_go_sees_differently() {
    for edit in &EDITS[EDITS.len() / 2..] {
        check(edit);
    }
}

#[test]
fn a_changed_submodule_that_is_not_checked_out_is_an_error() {
    let repo = Generated::new();
    repo.git(&["submodule", "deinit", "-q", "-f", "sub"]);
    // Record another commit for the submodule without checking it out.
    let fake = "0123456789012345678901234567890123456789";
    repo.git(&["update-index", "--cacheinfo", &format!("160000,{fake},sub")]);
    repo.git(&["commit", "-q", "-m", "bump sub blindly"]);
    let mut cmd = gob_command();
    cmd.current_dir(repo.root())
        .args(["affected", "--since", "base"]);
    let (code, _, stderr) = run(&mut cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("submodule") && stderr.contains("git submodule update --init sub"),
        "{stderr}"
    );
}

#[test]
fn a_shallow_clone_without_the_merge_base_is_an_error_that_says_what_to_fetch() {
    let repo = Generated::new();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("README.md", "feature\n");
    repo.git(&["commit", "-q", "-am", "feature"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "main moved on\n");
    repo.git(&["commit", "-q", "-am", "main"]);
    let shallow = repo.tmp.path().join("shallow");
    let origin = format!("file://{}", repo.root().display());
    let parent = repo.tmp.path();
    git(
        parent,
        &[
            "clone", "-q", "--depth", "1", "--branch", "feature", &origin, "shallow",
        ],
    );
    git(
        &shallow,
        &[
            "fetch",
            "-q",
            "--depth",
            "1",
            "origin",
            "main:refs/remotes/origin/main",
        ],
    );
    let mut cmd = gob_command();
    cmd.current_dir(&shallow)
        .args(["affected", "--since", "origin/main"]);
    let (code, _, stderr) = run(&mut cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("shallow") && stderr.contains("fetch-depth: 0"),
        "{stderr}"
    );
}

/// A repository whose go.work is broken at the base (go cannot list anything there) and
/// fixed now.
fn with_a_broken_base() -> Generated {
    let repo = Generated::new();
    let good = std::fs::read_to_string(repo.root().join("go.work")).unwrap();
    repo.write("go.work", &format!("{good}\nbroken directive\n"));
    repo.git(&["commit", "-q", "-am", "break go.work"]);
    repo.git(&["tag", "-f", "base"]);
    repo.write("go.work", &good);
    repo
}

#[test]
fn a_base_go_cannot_list_selects_every_package_and_says_why() {
    let repo = with_a_broken_base();
    let selected = repo.affected();
    assert_eq!(selected["unit"].len(), 7, "{selected:?}");
    assert!(
        selected["unit"]["tool"].starts_with("go cannot list the packages at the base"),
        "{selected:?}"
    );
}

#[test]
fn a_second_run_reuses_the_base_listing_and_ignored_files_are_not_changes() {
    let repo = Generated::new();
    repo.write(".gitignore", "/app/web/static/generated.txt\n");
    repo.write("app/web/static/generated.txt", "built by a generator\n");
    repo.git(&["add", ".gitignore"]);
    repo.git(&["commit", "-q", "-m", "ignore generated"]);
    repo.git(&["tag", "-f", "base"]);
    repo.write("README.md", "changed\n");
    let first = repo.affected();
    assert!(first["unit"].is_empty(), "{first:?}");
    let trees: Vec<_> = std::fs::read_dir(repo.root().join(".gob/since"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(trees.len(), 1, "one tree for the base: {trees:?}");
    let (path, log) = crate::support::go_shim_in(&repo.root());
    let mut cmd = gob_command();
    cmd.current_dir(repo.root())
        .env("PATH", &path)
        .args(["affected", "--since", "base", "unit"]);
    let (code, _, stderr) = run(&mut cmd);
    assert_eq!(code, 0, "{stderr}");
    let calls = std::fs::read_to_string(log).unwrap();
    let lists: Vec<&str> = calls
        .lines()
        .filter(|l| l.contains("list -e -deps -test"))
        .collect();
    assert_eq!(
        lists.len(),
        1,
        "only the work tree is listed again: {calls}"
    );
    assert!(!lists[0].contains(".gob/since"), "{calls}");
}

#[test]
fn explain_with_json_gives_every_packages_choice_and_every_difference() {
    let repo = Generated::new();
    repo.write(
        "third/lib/lib.go",
        "// Package lib is replaced by a dir.\npackage lib\n\n// Value of the library.\nfunc Value() string { return \"lib-4\" }\n",
    );
    let mut cmd = gob_command();
    cmd.current_dir(repo.root())
        .args(["test", "unit", "--since", "base", "--explain", "--json"]);
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, 0, "{stderr}");
    let choices = crate::support::events(&stdout, "gob-selection");
    assert_eq!(choices.len(), 7, "{stdout}");
    let core = choices
        .iter()
        .find(|c| c["Package"] == "example.com/app/core")
        .unwrap();
    assert_eq!(core["Run"], true);
    assert_eq!(
        core["Differences"],
        serde_json::json!([{"input": "third/lib/lib.go", "how": "changed"}])
    );
    let tool = choices
        .iter()
        .find(|c| c["Package"] == "example.com/tools/tool")
        .unwrap();
    assert_eq!(tool["Run"], false);
    assert!(
        tool["Why"]
            .as_str()
            .unwrap()
            .starts_with("not affected: its inputs are those of "),
        "{tool}"
    );
    assert!(
        stderr.contains("suite unit: 1 of 7 packages affected"),
        "{stderr}"
    );
}

#[test]
fn since_strict_fails_where_the_base_cannot_be_listed() {
    let repo = with_a_broken_base();
    let mut cmd = gob_command();
    cmd.current_dir(repo.root())
        .args(["affected", "--since", "base", "--since-strict"]);
    let (code, _, stderr) = run(&mut cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--since-strict: go cannot list the packages at"),
        "{stderr}"
    );
}
