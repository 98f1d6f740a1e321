//! `gob check` end to end: compiles everything, links nothing, shares go's cache.

use std::process::Command;

use crate::support::{Workspace, run};

const SUITES: &str = "[test.unit]\npackages = [\"./...\"]\nexclude = [\"tests/integration/**\"]\n\n[test.integ]\npackages = [\"./tests/integration/...\"]\ntags = [\"integ\"]\ninteg = true\n";

#[test]
fn check_compiles_tests_of_every_suite_without_linking() {
    let ws = Workspace::example(SUITES);
    // A package that compiles but cannot link: its bodyless function names a symbol that
    // does not exist. Only a check that really skips the linker passes.
    ws.write("internal/nolink/nolink.go", "package nolink\n\nimport _ \"unsafe\"\n\n//go:linkname missing example.com/nowhere.missing\nfunc missing()\n\n// Call calls a function the linker cannot find.\nfunc Call() { missing() }\n");
    ws.write("internal/nolink/empty.s", "");
    ws.write(
        "internal/nolink/nolink_test.go",
        "package nolink\n\nimport \"testing\"\n\nfunc TestCall(t *testing.T) { Call() }\n",
    );
    // go's own cache: whether the package links does not depend on what the cache holds.
    let (code, stdout, stderr) = run(&mut ws.gob(&["check"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("gob: checked 11 packages (0 excluded) of 2 suites [unit, integ (integration)] in 2 rounds"), "{stderr}");
    assert!(
        !stdout.contains("ok  \t"),
        "per-package ok lines are dropped:\n{stdout}"
    );
    // Every suite vets its tests, so vet type-checked them: gob's type checker did not run
    // (it would have been given a listing to read).
    assert!(
        !ws.dir().join(".gob/check/round-1.list.json").exists(),
        "a passing check whose tests are all vetted takes the short form"
    );

    let plain = Command::new("go")
        .args(["test", "-exec=true", "-vet=off", "./internal/nolink"])
        .current_dir(ws.dir())
        .env("GOTOOLCHAIN", "local")
        .output()
        .unwrap();
    assert!(
        !plain.status.success(),
        "the fixture must fail to link with plain go"
    );
}

#[test]
fn go_build_and_go_test_after_check_produce_working_programs() {
    let ws = Workspace::example(SUITES);
    let cache = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(ws.gob(&["check"]).env("GOCACHE", cache.path()));
    assert_eq!(code, 0, "{stderr}");
    let go = |args: &[&str]| {
        Command::new("go")
            .args(args)
            .current_dir(ws.dir())
            .env("GOCACHE", cache.path())
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "")
            .output()
            .unwrap()
    };
    // The check compiled what the tests import into go's cache, and no test main's closure
    // (go build -n prints the compiles go would run: none for what its cache has).
    let would_compile = |package: &str| {
        let out = go(&["build", "-n", package]);
        String::from_utf8_lossy(&out.stderr).contains(&format!(" -p {package} "))
    };
    assert!(!would_compile("example.com/mesh/internal/greet"));
    assert!(
        would_compile("testing/internal/testdeps"),
        "a cold check builds no test main, nor what only test mains import"
    );
    let out = go(&["build", "-o", "alpha-bin", "./cmd/alpha"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alpha = Command::new(ws.dir().join("alpha-bin")).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&alpha.stdout).trim(),
        "alpha (cli) dev"
    );
    let out = go(&["test", "-count=1", "-tags", "integ", "./..."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("ok  \texample.com/mesh/tests/integration/security/api"),
        "{stdout}"
    );
}

#[test]
fn compile_errors_in_tagged_test_files_fail_the_check() {
    let ws = Workspace::example(SUITES);
    ws.write(
        "tests/integration/gateway/broken_test.go",
        "//go:build integ\n\npackage gateway\n\nfunc broken() int { return \"x\" }\n",
    );
    let (code, _, stderr) = run(&mut ws.gob(&["check"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("tests/integration/gateway/broken_test.go:5:28: cannot use \"x\""),
        "{stderr}"
    );
    assert!(stderr.contains("gob: error: check failed"), "{stderr}");
    // A -json in the user's GOFLAGS does not turn go's errors into JSON events.
    let (code, stdout, stderr) = run(ws.gob(&["check"]).env("GOFLAGS", "-json"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("broken_test.go:5:28: cannot use \"x\"") && !stdout.contains("\"Action\""),
        "{stdout}\n{stderr}"
    );
}

/// A package under test `p`, a package `q` that imports it, and `p`'s external tests that
/// import both: go builds `q` again against `p` with its test files for that test binary.
fn variant_packages(ws: &Workspace) {
    ws.write(
        "internal/p/p.go",
        "package p\n\n// T is a value.\ntype T struct{ N int }\n",
    );
    ws.write(
        "internal/p/export_test.go",
        "package p\n\n// Double exists only for tests.\nfunc (t T) Double() int { return 2 * t.N }\n",
    );
    ws.write(
        "internal/q/q.go",
        "package q\n\nimport \"example.com/mesh/internal/p\"\n\n// Make makes a p.T.\nfunc Make(n int) p.T { return p.T{N: n} }\n",
    );
    ws.write(
        "internal/p/p_test.go",
        "package p_test\n\nimport (\n\t\"testing\"\n\n\t\"example.com/mesh/internal/q\"\n)\n\nfunc TestDouble(t *testing.T) {\n\tif q.Make(2).Double() != 4 {\n\t\tt.Fatal(\"no\")\n\t}\n}\n",
    );
}

#[test]
fn external_tests_see_the_package_under_test_with_its_test_files_through_every_import() {
    let ws = Workspace::example(SUITES);
    variant_packages(&ws);
    // q.Make's p.T has Double only when q is checked against p with its test files.
    let (code, stdout, stderr) = run(&mut ws.gob(&["check"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let plain = Command::new("go")
        .args(["vet", "./internal/p"])
        .current_dir(ws.dir())
        .env("GOTOOLCHAIN", "local")
        .output()
        .unwrap();
    assert!(plain.status.success(), "go agrees the fixture is sound");
}

#[test]
fn errors_are_reported_once_where_they_are_without_follow_on_errors() {
    let ws = Workspace::example(SUITES);
    variant_packages(&ws);
    // An error in an external test file, one in a test file of package p, and a plain
    // package that does not compile, whose importers' tests are then not checked.
    ws.write(
        "internal/p/more_test.go",
        "package p_test\n\nimport \"testing\"\n\nfunc TestMore(t *testing.T) { var unused int }\n",
    );
    ws.write(
        "internal/p/inner_test.go",
        "package p\n\nfunc inner() string { return T{}.Double() }\n",
    );
    ws.write(
        "internal/version/broken.go",
        "package version\n\nvar Broken int = \"x\"\n",
    );
    let (code, stdout, stderr) = run(&mut ws.gob(&["check"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    for expected in [
        "internal/p/more_test.go:5:35: declared and not used: unused",
        "internal/p/inner_test.go:3:30: cannot use T{}.Double() (value of type int) as string value in return statement",
        "internal/version/broken.go:3:18: cannot use \"x\" (untyped string constant) as int value in variable declaration",
        "# example.com/mesh/internal/p [example.com/mesh/internal/p.test]",
    ] {
        assert_eq!(stderr.matches(expected).count(), 1, "{expected}:\n{stderr}");
    }
    assert!(!stderr.contains("could not import"), "{stderr}");
}

#[test]
fn go_1_19_builds_the_type_checker_and_finds_the_same_errors() {
    let Some(old_go) = crate::support::old_go() else {
        return;
    };
    let ws = Workspace::example(SUITES);
    variant_packages(&ws);
    let cache = tempfile::tempdir().unwrap();
    let check = |ws: &Workspace| {
        run(ws
            .gob(&["check"])
            .env("GOB_GO", &old_go)
            .env("GOCACHE", cache.path()))
    };
    let (code, stdout, stderr) = check(&ws);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    ws.write(
        "internal/p/inner_test.go",
        "package p\n\nfunc inner() string { return T{}.Double() }\n",
    );
    let (code, _, stderr) = check(&ws);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("internal/p/inner_test.go:3:30: cannot use "),
        "{stderr}"
    );
    // Go 1.19's go test vets with its own default checks (printf among them); the dry run
    // shows exactly those, not the standard library's (-unsafeptr=false).
    std::fs::remove_file(ws.dir().join("internal/p/inner_test.go")).unwrap();
    ws.write("internal/vetme/vetme.go", "package vetme\n");
    ws.write("internal/vetme/vetme_test.go", VET_FIXTURE);
    let (code, _, stderr) = check(&ws);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("format %d has arg \"str\" of wrong type string"),
        "{stderr}"
    );
    let (_, plan, _) = run(ws.gob(&["check", "--dry-run"]).env("GOB_GO", &old_go));
    assert!(
        plan.contains(
            " vet -atomic -bool -buildtags -errorsas -ifaceassert -nilfunc -printf -stringintconv "
        ),
        "{plan}"
    );
}

const VET_FIXTURE: &str = "package vetme\n\nimport (\n\t\"fmt\"\n\t\"testing\"\n)\n\nfunc TestTwo(t *testing.T) {\n\tfmt.Printf(\"%d\\n\", \"str\")\n}\n";

#[test]
fn check_fails_what_go_test_fails_before_running_a_test_its_vet_checks() {
    let ws = Workspace::example(SUITES);
    ws.write(
        "internal/vetme/vetme.go",
        "package vetme\n\n// Two is 2.\nfunc Two() int { return 2 }\n",
    );
    ws.write("internal/vetme/vetme_test.go", VET_FIXTURE);
    let (code, stdout, stderr) = run(&mut ws.gob(&["check"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let finding = "fmt.Printf format %d has arg \"str\" of wrong type string";
    assert!(stderr.contains(finding), "{stderr}");
    assert!(stderr.contains("gob: checking with go1."), "{stderr}");
    // The oracle: go test fails the package for the same finding.
    let go = Command::new("go")
        .args(["test", "./internal/vetme"])
        .current_dir(ws.dir())
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .output()
        .unwrap();
    assert!(!go.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&go.stdout),
        String::from_utf8_lossy(&go.stderr)
    );
    assert!(said.contains(finding), "{said}");
    // vet = "off": go test runs no vet, and neither does the check.
    let off = SUITES.replace(
        "exclude = [\"tests/integration/**\"]\n",
        "exclude = [\"tests/integration/**\"]\nvet = \"off\"\n",
    );
    ws.write("gobuild.toml", &off);
    let (code, _, stderr) = run(&mut ws.gob(&["check"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = run(&mut ws.gob(&["check", "--dry-run"]));
    assert_eq!(code, 0);
    assert!(
        stdout.contains(" vet -atomic ") && stdout.contains("-tags integ"),
        "the integ suite is still vetted: {stdout}"
    );
}

#[test]
fn a_go_mod_asking_for_a_newer_go_is_gos_own_error_once() {
    let ws = Workspace::example(SUITES);
    let go_mod = std::fs::read_to_string(ws.dir().join("go.mod")).unwrap();
    let newer: String = go_mod
        .lines()
        .map(|l| if l.starts_with("go ") { "go 1.99.0" } else { l })
        .collect::<Vec<_>>()
        .join("\n");
    ws.write("go.mod", &format!("{newer}\n"));
    let (code, stdout, stderr) = run(ws.gob(&["check"]).env("GOTOOLCHAIN", "local"));
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    let error = "requires go >= 1.99.0";
    assert_eq!(stderr.matches(error).count(), 1, "once: {stderr}");
    assert!(
        stderr.starts_with("gob: checking with go1."),
        "the first line says which Go runs: {stderr}"
    );
    assert!(stderr.contains("GOTOOLCHAIN=local"), "{stderr}");
}

#[test]
fn check_with_suite_names_checks_only_those_suites() {
    let ws = Workspace::example(SUITES);
    // A broken integ-only test: checking the unit suite alone must not see it.
    ws.write(
        "tests/integration/gateway/broken_test.go",
        "//go:build integ\n\npackage gateway\n\nvar broken int = \"no\"\n",
    );
    let (code, stdout, stderr) = run(&mut ws.gob(&["check", "unit", "--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("# round 1 of 1:"), "{stdout}");
    assert!(!stdout.contains("-tags integ"), "{stdout}");

    let (code, _, stderr) = run(&mut ws.gob(&["check", "unit"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("of 1 suite [unit] in 1 round"), "{stderr}");

    let (code, _, stderr) = run(&mut ws.gob(&["check", "integ"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("broken_test.go"), "{stderr}");

    let (code, _, stderr) = run(&mut ws.gob(&["check", "integ", "unti"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("did you mean `unit`"), "{stderr}");
}

#[test]
fn a_kept_clean_result_never_hides_an_error_a_dependency_change_makes() {
    // vet off: vet type-checks too, and would report what a stale kept result hid.
    let ws = Workspace::fixture(
        "watch",
        "[test.unit]\npackages = [\"./...\"]\nvet = \"off\"\n",
    );
    let leaf = "package leaf\n\n// Answer is what mid and the tests read.\nfunc Answer() int { return 42 }\n";
    ws.write(
        "leaf/leaf.go",
        &format!(
            "{leaf}\n// Answer2 is read by mid's tests only.\nfunc Answer2() int {{ return 2 }}\n"
        ),
    );
    ws.write(
        "mid/extra_test.go",
        "package mid\n\nimport (\n\t\"testing\"\n\n\t\"example.com/w/leaf\"\n)\n\nfunc TestExtra(t *testing.T) { _ = leaf.Answer2() }\n",
    );
    // The second run reads the kept results (forced: nothing changed, so it would not run).
    for _ in 0..2 {
        let (code, stdout, stderr) = run(&mut ws.gob(&["check", "--force"]));
        assert_eq!(code, 0, "{stdout}\n{stderr}");
    }
    let kept: Vec<_> = std::fs::read_dir(ws.dir().join(".gob/check"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("clean-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert!(
        kept.iter()
            .any(|k| k.contains("\"example.com/w/mid.test\"")),
        "{kept:?}"
    );
    // Only leaf's export data changes: mid's test files are the same, and must fail.
    ws.write("leaf/leaf.go", leaf);
    let (code, stdout, stderr) = run(&mut ws.gob(&["check"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("mid/extra_test.go:9") || stderr.contains("mid/extra_test.go:9"),
        "{stdout}\n{stderr}"
    );
    assert!(
        format!("{stdout}{stderr}").contains("undefined: leaf.Answer2"),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn what_only_the_compiler_rejects_in_a_test_file_and_vet_in_an_untested_package_fail() {
    let ws = Workspace::example(SUITES);
    // A package without test files: go test vets it, and so does the check.
    ws.write(
        "internal/untested/untested.go",
        "package untested\n\n// S converts.\nfunc S() string { n := 65; return string(n) }\n",
    );
    let (code, stdout, stderr) = run(&mut ws.gob(&["check"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("internal/untested/untested.go:4:")
            && stderr.contains("conversion from int to string"),
        "{stderr}"
    );
    std::fs::remove_dir_all(ws.dir().join("internal/untested")).unwrap();
    // A function without a body in a test file type-checks and vets clean; the compiler
    // rejects it, as go test's compile does.
    ws.write(
        "internal/greet/body_test.go",
        "package greet\n\nfunc noBody()\n",
    );
    let (code, stdout, stderr) = run(&mut ws.gob(&["check"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let error = "internal/greet/body_test.go:3:6: missing function body";
    assert_eq!(stderr.matches(error).count(), 1, "once: {stderr}");
}

#[test]
fn embeds_of_every_kind_in_test_files_compile_in_the_check() {
    let ws = Workspace::example(SUITES);
    for (file, text) in [
        ("internal/greet/testdata/a.txt", "a"),
        ("internal/greet/testdata/.hidden", "h"),
        ("internal/greet/testdata/sub/b.txt", "b"),
        ("internal/greet/golden.txt", "g"),
    ] {
        ws.write(file, text);
    }
    ws.write(
        "internal/greet/embed_test.go",
        "package greet\n\nimport (\n\t\"embed\"\n\t\"testing\"\n)\n\n\
         //go:embed testdata\nvar dir embed.FS\n\n//go:embed all:testdata\nvar all embed.FS\n\n\
         //go:embed testdata/*.txt golden.txt\nvar some embed.FS\n\n//go:embed golden.txt\nvar golden string\n\n\
         func TestEmbeds(t *testing.T) {\n\tif _, err := all.ReadFile(\"testdata/.hidden\"); err != nil || golden != \"g\" {\n\t\tt.Fatal(err)\n\t}\n\t_, _ = dir, some\n}\n",
    );
    ws.write(
        "internal/greet/x_test.go",
        "package greet_test\n\nimport _ \"embed\"\n\n//go:embed testdata/sub/b.txt\nvar b []byte\n",
    );
    let (code, stdout, stderr) = run(&mut ws.gob(&["check"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // Two files for a string: the compiler's error, as go test reports it.
    ws.write(
        "internal/greet/x_test.go",
        "package greet_test\n\nimport _ \"embed\"\n\n//go:embed testdata/*.txt golden.txt\nvar b string\n",
    );
    let (code, stdout, stderr) = run(&mut ws.gob(&["check"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "internal/greet/x_test.go:6:5: invalid go:embed: multiple files for type string"
        ),
        "{stderr}"
    );
}

/// Waits until the files just written are older than what `gob check` trusts by their times
/// (`treedigest::SETTLE`, 2 s), so that a pass is remembered.
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(2200));
}

#[test]
fn a_check_with_nothing_changed_since_it_passed_is_not_run_again_and_any_input_changed_is() {
    let ws = Workspace::example(SUITES);
    // A module outside the workspace that go.mod points at, an embedded file, and a file
    // only a tag builds.
    let outside = tempfile::tempdir().unwrap();
    let lib = outside.path().join("lib.go");
    std::fs::write(
        outside.path().join("go.mod"),
        "module example.com/lib\n\ngo 1.19\n",
    )
    .unwrap();
    std::fs::write(&lib, "package lib\n\n// N is a number.\nconst N = 1\n").unwrap();
    ws.write(
        "go.mod",
        &format!(
            "module example.com/mesh\n\ngo 1.19\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => {}\n",
            outside.path().display()
        ),
    );
    ws.write("internal/assets/hello.txt", "hello\n");
    ws.write("internal/assets/assets.go", "package assets\n\nimport _ \"embed\"\n\nimport \"example.com/lib\"\n\n// Hello is embedded.\n//go:embed hello.txt\nvar Hello string\n\n// N is lib's.\nconst N = lib.N\n");
    ws.write(
        "internal/assets/broken.go",
        "//go:build broken\n\npackage assets\n\nvar broken int = \"x\"\n",
    );
    let check = |env: &[(&str, &str)], args: &[&str]| {
        let mut command = ws.gob(&[&["check"], args].concat());
        command.envs(env.iter().copied());
        run(&mut command)
    };
    let skipped = "gob: nothing changed since the check that passed at";
    settle();
    let (code, _, stderr) = check(&[], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("gob: checked 11 packages"), "{stderr}");
    let (code, _, stderr) = check(&[], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(skipped) && stderr.contains("(11 packages)"),
        "{stderr}"
    );
    let (code, _, stderr) = check(&[], &["--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("gob: checked 11 packages"), "{stderr}");

    // go's settings are inputs: a tag in GOFLAGS builds the broken file.
    let (code, _, stderr) = check(&[("GOFLAGS", "-tags=broken")], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("broken.go:5:18"), "{stderr}");
    // The failure forgot the pass; the next check runs and is remembered again.
    let (code, _, stderr) = check(&[], &[]);
    assert!(code == 0 && !stderr.contains(skipped), "{stderr}");
    assert!(check(&[], &[]).2.contains(skipped));

    // A file that is not Go source counts: without the embedded file go fails.
    let hello = ws.dir().join("internal/assets/hello.txt");
    std::fs::rename(&hello, ws.dir().join("hello.txt.moved")).unwrap();
    let (code, _, stderr) = check(&[], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("hello.txt"), "{stderr}");
    std::fs::rename(ws.dir().join("hello.txt.moved"), &hello).unwrap();
    settle();
    assert_eq!(check(&[], &[]).0, 0);
    assert!(check(&[], &[]).2.contains(skipped));

    // The module outside the workspace counts: a type error there fails the check.
    std::fs::write(
        &lib,
        "package lib\n\n// N is a number.\nconst N int = \"one\"\n",
    )
    .unwrap();
    let (code, _, stderr) = check(&[], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("lib.go:4:15"), "{stderr}");
}
