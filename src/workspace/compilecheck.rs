//! `gob check`'s step 5 ([`crate::vettool`]): which packages it compiles, and what gob, as
//! `go vet`'s tool, is told about them (vet.cfg gives it each package's files and imports,
//! not its `//go:embed` configuration, which comes from the suites' listing and the tree).

use std::collections::BTreeMap;
use std::path::Path;

use crate::go::compileronly::may_fail_only_in_compiler;
use crate::go::embedcfg::EmbedConfig;
use crate::go::vetcfg::CompileCheck;
use crate::workspace::gotool::ListedPackage;

/// Whether go test's compile of `package` (with its tests, or as itself without) could fail
/// where go vet's type check of it passed: one of its files has a compiler directive or a
/// function without a body ([`may_fail_only_in_compiler`]), or it has cgo or assembly, or a
/// file gob cannot read.
pub fn needs_compile(package: &ListedPackage) -> bool {
    let files = &package.files;
    if !files.cgo_files.is_empty() || !files.s_files.is_empty() {
        return true;
    }
    let Some(dir) = &package.dir else {
        return true;
    };
    files
        .go_files
        .iter()
        .chain(&package.test_go_files)
        .chain(&package.x_test_go_files)
        .any(|file| std::fs::read(dir.join(file)).map_or(true, |s| may_fail_only_in_compiler(&s)))
}

/// Those of `packages` (import paths) whose listing in `listed` [`needs_compile`], in order.
pub fn compiled(packages: &[String], listed: &[&ListedPackage]) -> Vec<String> {
    packages
        .iter()
        .filter(|path| {
            listed
                .iter()
                .any(|p| &p.import_path == *path && needs_compile(p))
        })
        .cloned()
        .collect()
}

/// What `gob check`'s step 5 tool is told of `packages` (as the suites' listing has them):
/// which are commands, and the embeds of each (resolved in its dir), its external tests'
/// under `P_test`, as vet.cfg names them.
pub fn compile_check<'a>(
    packages: impl IntoIterator<Item = &'a ListedPackage>,
    compiler: &Path,
) -> CompileCheck {
    let mut check = CompileCheck {
        compiler: compiler.to_path_buf(),
        commands: Vec::new(),
        embeds: BTreeMap::new(),
    };
    for package in packages {
        if package.name == "main" {
            check.commands.push(package.import_path.clone());
        }
        let dir = package.dir.as_deref().unwrap_or(Path::new("."));
        let e = &package.embeds;
        let mut add = |path: String, patterns: Vec<String>| {
            if !patterns.is_empty() {
                check
                    .embeds
                    .insert(path, EmbedConfig::resolve(dir, &patterns));
            }
        };
        add(
            package.import_path.clone(),
            [e.embed_patterns.clone(), e.test_embed_patterns.clone()].concat(),
        );
        add(
            format!("{}_test", package.import_path),
            e.x_test_embed_patterns.clone(),
        );
    }
    check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tool_learns_each_packages_embeds_and_its_external_tests() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        for file in ["data/x.txt", "golden.txt", "testdata/y"] {
            std::fs::create_dir_all(a.join(file).parent().unwrap()).unwrap();
            std::fs::write(a.join(file), file).unwrap();
        }
        let listing = serde_json::json!([
            {"ImportPath": "m/a", "Name": "a", "Dir": a, "XTestGoFiles": ["x_test.go"],
             "EmbedPatterns": ["data"], "TestEmbedPatterns": ["golden.txt"],
             "XTestEmbedPatterns": ["testdata/*"]},
            {"ImportPath": "m/cmd", "Name": "main", "Dir": tmp.path().join("cmd")}
        ]);
        let listed: Vec<ListedPackage> = serde_json::from_value(listing).unwrap();
        let check = compile_check(&listed, Path::new("/go/pkg/tool/compile"));
        assert_eq!(check.compiler, Path::new("/go/pkg/tool/compile"));
        let embed = &check.embeds["m/a"];
        assert_eq!(embed.patterns["data"], ["data/x.txt"]);
        assert_eq!(
            embed.patterns["golden.txt"],
            ["golden.txt"],
            "with its tests"
        );
        assert_eq!(
            embed.files["golden.txt"],
            a.join("golden.txt").display().to_string()
        );
        let x = &check.embeds["m/a_test"];
        assert_eq!(x.patterns["testdata/*"], ["testdata/y"]);
        assert_eq!(x.files.len(), 1, "only what its patterns name");
        assert_eq!(
            check.embeds.len(),
            2,
            "nothing for a package without embeds"
        );
    }

    #[test]
    fn only_packages_with_what_the_compiler_alone_checks_are_compiled() {
        let tmp = tempfile::tempdir().unwrap();
        let files = [
            ("plain/p.go", "package p\n\nfunc F() {}\n"),
            (
                "plain/p_test.go",
                "package p\n\nfunc helper() int { return 1 }\n",
            ),
            ("bodyless/p.go", "package p\n\nfunc F() {}\n"),
            ("bodyless/p_test.go", "package p\n\nfunc noBody()\n"),
            ("untested/p.go", "package p\n\n//go:noinline\nfunc F() {}\n"),
            ("embeds/p.go", "package p\n"),
            (
                "embeds/x_test.go",
                "package p_test\n\nimport _ \"embed\"\n\n//go:embed p.go\nvar s string\n",
            ),
        ];
        for (file, text) in files {
            std::fs::create_dir_all(tmp.path().join(file).parent().unwrap()).unwrap();
            std::fs::write(tmp.path().join(file), text).unwrap();
        }
        let package = |dir: &str, tests: &str, xtests: &str| -> ListedPackage {
            serde_json::from_value(serde_json::json!({
                "ImportPath": format!("m/{dir}"), "Name": "p", "Dir": tmp.path().join(dir),
                "GoFiles": ["p.go"],
                "TestGoFiles": if tests.is_empty() { vec![] } else { vec![tests] },
                "XTestGoFiles": if xtests.is_empty() { vec![] } else { vec![xtests] },
            }))
            .unwrap()
        };
        assert!(!needs_compile(&package("plain", "p_test.go", "")));
        assert!(needs_compile(&package("bodyless", "p_test.go", "")));
        assert!(
            needs_compile(&package("untested", "", "")),
            "go test compiles it as itself"
        );
        assert!(!needs_compile(&package("plain", "", "")));
        assert!(needs_compile(&package("embeds", "", "x_test.go")));
        assert!(
            needs_compile(&package("gone", "p_test.go", "")),
            "a file gob cannot read counts"
        );
        let (plain, bodyless) = (
            package("plain", "p_test.go", ""),
            package("bodyless", "p_test.go", ""),
        );
        let round = ["m/bodyless".to_string(), "m/plain".to_string()];
        assert_eq!(compiled(&round, &[&plain, &bodyless]), ["m/bodyless"]);
        assert!(compiled(&round[1..], &[&plain, &bodyless]).is_empty());
        let mut cgo = package("plain", "p_test.go", "");
        cgo.files.cgo_files = vec!["c.go".into()];
        assert!(needs_compile(&cgo));
    }
}
