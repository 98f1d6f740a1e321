//! What go hands a `go vet -vettool` program for each package it vets (`vet.cfg`, written by
//! `buildVetConfig` in `cmd/go/internal/work/exec.go`), and the compile of that package that
//! `gob check` runs in vet's place: the package's Go files as go would compile them for
//! `go test` (after cgo, test files included), against the export data go compiled for its
//! imports, with the flags that decide what the compiler rejects (`gc.go`'s `-p`, `-lang`,
//! `-complete`, `-embedcfg`). Linking nothing and writing nothing to go's cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::go::embedcfg::EmbedConfig;

/// Set in go's environment for gob as `-vettool`: the [`CompileCheck`] file of the call.
pub const CONFIG_ENV: &str = "GOB_VETTOOL_CONFIG";

/// One package's `vet.cfg`, the fields the compile needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VetConfig {
    /// The package's import path (`p` for `p [p.test]` too; `p_test` for its external tests).
    pub import_path: String,
    /// The package dir.
    pub dir: PathBuf,
    /// Absolute paths of the Go files to compile (cgo's output, in go's work dir, for cgo).
    #[serde(default)]
    pub go_files: Vec<String>,
    /// Its other source files (C, assembly, …).
    #[serde(default)]
    pub non_go_files: Vec<String>,
    /// Import path in the source → the package it resolves to.
    #[serde(default)]
    pub import_map: BTreeMap<String, String>,
    /// Resolved package → its export data.
    #[serde(default)]
    pub package_file: BTreeMap<String, String>,
    /// The module's Go version (`go1.22`, `go1.22.0`).
    #[serde(default)]
    pub go_version: String,
    /// Run only for facts a package that imports this one needs, reporting nothing.
    #[serde(default)]
    pub vetx_only: bool,
    /// Where go expects the facts file (cached when the tool succeeds).
    #[serde(default)]
    pub vetx_output: PathBuf,
}

/// What `gob check` tells its `-vettool` about the packages it will see: written before
/// `go vet` runs, read by each run of the tool.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompileCheck {
    /// The compiler (`$GOTOOLDIR/compile`).
    pub compiler: PathBuf,
    /// The import paths of the commands (`package main`).
    pub commands: Vec<String>,
    /// The `//go:embed` configuration of each package that has one, by import path as
    /// vet.cfg has it (external tests: `p_test`).
    pub embeds: BTreeMap<String, EmbedConfig>,
}

impl VetConfig {
    /// The compiler's `-importcfg` text: the imports that resolve elsewhere, and the export
    /// data of each package imported.
    pub fn import_config(&self) -> String {
        let mut text = String::new();
        for (path, resolved) in &self.import_map {
            if path != resolved {
                text.push_str(&format!("importmap {path}={resolved}\n"));
            }
        }
        for (path, file) in &self.package_file {
            text.push_str(&format!("packagefile {path}={file}\n"));
        }
        text
    }

    /// The compiler's arguments: output to `out`, import config at `importcfg`, the embed
    /// config at `embedcfg` when the package embeds files; `command` when it is `package
    /// main`.
    pub fn compile_args(
        &self,
        command: bool,
        out: &Path,
        importcfg: &Path,
        embedcfg: Option<&Path>,
    ) -> Vec<String> {
        let tests = self.go_files.iter().any(|f| f.ends_with("_test.go"));
        // go compiles a command as `main`, and with its tests as a library under its path
        // (`ForceLibrary`), which is how `go test` and `go vet` see it.
        let path = match command && !tests {
            true => "main",
            false => &self.import_path,
        };
        let mut args = vec![
            "-o".to_string(),
            out.display().to_string(),
            "-p".to_string(),
            path.to_string(),
        ];
        if let Some(lang) = language(&self.go_version) {
            args.push(format!("-lang={lang}"));
        }
        // A function without a body is an error only when nothing else (assembly, cgo's
        // output in go's work dir) can supply it.
        let complete = self.non_go_files.is_empty()
            && self
                .go_files
                .iter()
                .all(|f| Path::new(f).parent() == Some(self.dir.as_path()));
        if complete {
            args.push("-complete".to_string());
        }
        args.extend(["-importcfg".to_string(), importcfg.display().to_string()]);
        if let Some(embedcfg) = embedcfg {
            args.extend(["-embedcfg".to_string(), embedcfg.display().to_string()]);
        }
        args.push("-pack".to_string());
        args.extend(self.go_files.iter().cloned());
        args
    }
}

/// The language version of a module's Go version (`go1.22.0` → `go1.22`: `gover.Lang`).
fn language(go_version: &str) -> Option<String> {
    let version = go_version.strip_prefix("go")?;
    let mut parts = version.split('.');
    let (major, minor) = (parts.next()?, parts.next()?);
    let minor: String = minor.chars().take_while(char::is_ascii_digit).collect();
    (!major.is_empty() && !minor.is_empty()).then(|| format!("go{major}.{minor}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(go_files: &[&str]) -> VetConfig {
        serde_json::from_value(serde_json::json!({
            "ID": "m/p",
            "ImportPath": "m/p",
            "Dir": "/src/p",
            "GoFiles": go_files,
            "NonGoFiles": [],
            "ImportMap": {"fmt": "fmt", "old/q": "m/vendor/old/q", "C": "C"},
            "PackageFile": {"fmt": "/cache/fmt-d", "m/vendor/old/q": "/cache/q-d"},
            "GoVersion": "go1.22.0",
            "VetxOnly": false,
            "VetxOutput": "/work/b001/vet.out",
        }))
        .unwrap()
    }

    #[test]
    fn imports_resolve_as_vet_cfg_says() {
        assert_eq!(
            config(&["/src/p/p.go"]).import_config(),
            "importmap old/q=m/vendor/old/q\npackagefile fmt=/cache/fmt-d\npackagefile m/vendor/old/q=/cache/q-d\n"
        );
    }

    #[test]
    fn the_compile_is_go_tests_compile_of_the_package() {
        let out = Path::new("/o/p.a");
        let icfg = Path::new("/o/importcfg");
        let plain = config(&["/src/p/p.go", "/src/p/p_test.go"]);
        assert_eq!(
            plain.compile_args(false, out, icfg, None),
            [
                "-o",
                "/o/p.a",
                "-p",
                "m/p",
                "-lang=go1.22",
                "-complete",
                "-importcfg",
                "/o/importcfg",
                "-pack",
                "/src/p/p.go",
                "/src/p/p_test.go"
            ]
        );
        let command = config(&["/src/p/main.go"]);
        let args = command.compile_args(true, out, icfg, Some(Path::new("/o/embed")));
        assert_eq!(args[3], "main", "a command without tests compiles as main");
        assert!(args.windows(2).any(|w| w == ["-embedcfg", "/o/embed"]));
        let tested = plain.compile_args(true, out, icfg, None);
        assert_eq!(tested[3], "m/p", "with its tests, a command is a library");
        let cgo = config(&["/src/p/p_test.go", "/work/b001/_cgo_gotypes.go"]);
        assert!(
            !cgo.compile_args(false, out, icfg, None)
                .contains(&"-complete".to_string()),
            "cgo's output may declare functions without bodies"
        );
        let mut asm = config(&["/src/p/p.go"]);
        asm.non_go_files = vec!["/src/p/p_amd64.s".into()];
        assert!(
            !asm.compile_args(false, out, icfg, None)
                .contains(&"-complete".to_string())
        );
    }

    #[test]
    fn the_language_is_the_go_versions_major_and_minor() {
        assert_eq!(language("go1.22.0").as_deref(), Some("go1.22"));
        assert_eq!(language("go1.19").as_deref(), Some("go1.19"));
        assert_eq!(language("go1.23rc1").as_deref(), Some("go1.23"));
        assert_eq!(language("").as_deref(), None);
    }
}
