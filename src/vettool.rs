//! gob as `go vet`'s `-vettool` program: compile each package go vets, as `go test` would
//! compile it, and report what the compiler rejects.
//!
//! `gob check` needs go test's verdict on a test file, and some errors only the compiler
//! finds (a function without a body, a `//go:embed` in a file that does not import `embed`).
//! `go list -export -test` compiles the test packages, but also each test main and, cold, its
//! closure (`testing/internal/testdeps`: fuzzing, profiling, regexp; ~2.5 s on 2 CPUs) that
//! nothing else of the check needs. Under `go vet -vettool=GOB`, go compiles every import of
//! each package (export data, in its build cache, shared with go build and go test) and runs
//! gob once per package with its `vet.cfg`: gob compiles the package itself, tests included,
//! with go's compiler against that export data, and links nothing. Dependencies vetted only
//! for facts get an empty facts file. go caches a run that succeeds under gob's identity
//! (`-V=full`: gob's build and the compiler's), so an unchanged package is not compiled again;
//! a run that fails is never cached.

use std::path::Path;
use std::process::{Command, ExitCode};

use crate::go::vetcfg::{CONFIG_ENV, CompileCheck, VetConfig};

/// True when go started this process as the `-vettool` of a `gob check` call.
pub fn is_vettool_call() -> bool {
    std::env::var_os(CONFIG_ENV).is_some()
}

/// Runs as the `-vettool`: `args` is gob's argv (`-V=full`, `-flags`, or flags then a
/// `vet.cfg`).
pub fn vettool_main(args: &[String]) -> ExitCode {
    let run = match args.get(1).map(String::as_str) {
        Some("-V=full") => identity().map(|line| {
            println!("{line}");
            ExitCode::SUCCESS
        }),
        // No analysis flags: go passes none on.
        Some("-flags") => {
            println!("[]");
            Ok(ExitCode::SUCCESS)
        }
        _ => match args.last() {
            Some(cfg) if args.len() > 1 => compile(Path::new(cfg)),
            _ => Err("no vet.cfg given".to_string()),
        },
    };
    run.unwrap_or_else(|e| {
        eprintln!("gob (as go vet's -vettool): {e}");
        ExitCode::from(2)
    })
}

/// The config `gob check` wrote.
fn config() -> Result<CompileCheck, String> {
    let path = std::env::var_os(CONFIG_ENV).unwrap_or_default();
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("cannot read {}: {e}", Path::new(&path).display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", Path::new(&path).display()))
}

/// What go keys the cached runs by: gob's build and the compiler's identity.
fn identity() -> Result<String, String> {
    let config = config()?;
    let compiler = Command::new(&config.compiler)
        .arg("-V=full")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", config.compiler.display()))?;
    let gob = crate::base::build::identity();
    Ok(format!(
        "gob-vettool version gob{}-{:016x} compile-{:016x}",
        env!("CARGO_PKG_VERSION"),
        crate::base::hash::fnv1a(gob.as_bytes()),
        crate::base::hash::fnv1a(&compiler.stdout),
    ))
}

/// Compiles the package of the `vet.cfg` at `cfg`; the compiler's errors go to its output,
/// which go prints under the package's name.
fn compile(cfg: &Path) -> Result<ExitCode, String> {
    let bytes = std::fs::read(cfg).map_err(|e| format!("cannot read {}: {e}", cfg.display()))?;
    let vet: VetConfig =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", cfg.display()))?;
    let facts = |vet: &VetConfig| {
        std::fs::write(&vet.vetx_output, b"")
            .map_err(|e| format!("cannot write {}: {e}", vet.vetx_output.display()))
    };
    if vet.vetx_only {
        return facts(&vet).map(|()| ExitCode::SUCCESS);
    }
    let config = config()?;
    let embed = config.embeds.get(&vet.import_path);
    // go's work dir for this package, removed when go exits.
    let objdir = cfg.parent().unwrap_or(Path::new("."));
    let write = |name: &str, bytes: &[u8]| {
        let path = objdir.join(name);
        std::fs::write(&path, bytes)
            .map(|()| path.clone())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let importcfg = write("gob-importcfg", vet.import_config().as_bytes())?;
    let embedcfg = match embed {
        Some(embed) => Some(write(
            "gob-embedcfg",
            &serde_json::to_vec(embed).map_err(|e| e.to_string())?,
        )?),
        None => None,
    };
    let out = objdir.join("gob-check.a");
    let command = config.commands.contains(&vet.import_path);
    let args = vet.compile_args(command, &out, &importcfg, embedcfg.as_deref());
    let status = Command::new(&config.compiler)
        .args(&args)
        .current_dir(&vet.dir)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", config.compiler.display()))?;
    let _ = std::fs::remove_file(&out);
    if !status.success() {
        return Ok(ExitCode::FAILURE);
    }
    facts(&vet).map(|()| ExitCode::SUCCESS)
}
