//! Loading what every command needs, in pipeline order: manifest → go toolchain → CPU
//! budget. Each step's I/O happens here, once; later stages get resolved values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::budget::{self, Budget, BudgetOverrides, CpuFacts};
use crate::error::GobError;
use crate::gotool::{GoEnv, GoTool};
use crate::goversion::{CompileEnv, GoVersion};
use crate::manifest::{LocateError, Manifest, locate};
use crate::plan::test::TestPlanContext;
use crate::workspace::ResolvedBinary;

/// The resolved toolchain and budget a command runs with.
#[derive(Debug)]
pub struct Context {
    /// How to call go (in the workspace dir, with the budget's GOMAXPROCS).
    pub go: GoTool,
    /// What `go env` said.
    pub go_env: GoEnv,
    /// The parsed Go version.
    pub version: GoVersion,
    /// The CPU budget.
    pub budget: Budget,
    /// Variables that change go's -c rule.
    pub compile_env: CompileEnv,
}

/// Global options that shape the context.
#[derive(Debug, Clone, Default)]
pub struct Globals {
    /// `-C DIR`, already applied to `cwd`.
    pub cwd: PathBuf,
    /// `--manifest PATH`.
    pub manifest: Option<PathBuf>,
    /// `-j N`.
    pub jobs: Option<usize>,
    /// `--no-wait`: fail instead of waiting for the workspace lock.
    pub no_wait: bool,
}

/// Finds and loads the manifest.
pub fn load_manifest(globals: &Globals) -> Result<Manifest, GobError> {
    let path = locate(globals.manifest.as_deref(), &globals.cwd)?;
    Ok(Manifest::load(&path)?)
}

/// Takes the workspace lock for a command that writes into the workspace.
pub async fn lock_workspace(
    globals: &Globals,
    manifest: &Manifest,
) -> Result<crate::lock::WorkspaceLock, GobError> {
    Ok(crate::lock::WorkspaceLock::acquire(&manifest.workspace_dir, globals.no_wait).await?)
}

/// Like [`load_manifest`], but no manifest at all is `None` (an invalid one is an error).
pub fn load_optional_manifest(globals: &Globals) -> Result<Option<Manifest>, GobError> {
    match load_manifest(globals) {
        Err(GobError::Locate(LocateError::NotFound(_))) => Ok(None),
        other => other.map(Some),
    }
}

impl Context {
    /// Resolves the budget and asks go about itself, running go in `dir`.
    pub fn load(globals: &Globals, dir: &Path) -> Result<Context, GobError> {
        let env_var = |name: &str| std::env::var(name).ok();
        let overrides = BudgetOverrides {
            jobs_flag: globals.jobs,
            gob_jobs: env_var("GOB_JOBS"),
            gomaxprocs: env_var("GOMAXPROCS"),
        };
        let budget = budget::resolve(CpuFacts::detect(Path::new("/")), &overrides)?;
        let mut env = BTreeMap::new();
        if let Some(n) = budget.gomaxprocs_env {
            env.insert("GOMAXPROCS".to_string(), n.to_string());
        }
        let go = GoTool {
            program: env_var("GOB_GO").unwrap_or_else(|| "go".to_string()),
            dir: dir.to_path_buf(),
            env,
        };
        let go_env = go.env()?;
        let version = go_env
            .version()
            .ok_or_else(|| GobError::GoVersion(go_env.goversion.clone()))?;
        if !version.at_least(crate::goversion::MIN_MINOR) {
            return Err(GobError::GoTooOld {
                program: go.program.clone(),
                version: version.raw,
            });
        }
        let compile_env = CompileEnv {
            go19_concurrent_compilation: env_var("GO19CONCURRENTCOMPILATION"),
            goexperiment: env_var("GOEXPERIMENT"),
        };
        Ok(Context {
            go,
            go_env,
            version,
            budget,
            compile_env,
        })
    }

    /// Every `[[binary]]` of `manifest`, resolved with one `go list` (its answer cached
    /// between runs by [`crate::listcache`]).
    pub fn resolve_binaries(&self, manifest: &Manifest) -> Result<Vec<ResolvedBinary>, GobError> {
        let patterns: Vec<&str> = manifest
            .binaries
            .iter()
            .map(|b| b.package.value.as_str())
            .collect();
        let listed = if patterns.is_empty() {
            Vec::new()
        } else {
            crate::listcache::list(&self.go, &self.go_env, &manifest.workspace_dir, &patterns)?
        };
        crate::workspace::resolve_binaries(manifest, &listed, &self.go_env.goos)
            .map_err(|problems| manifest.invalid(problems).into())
    }

    /// The inputs of test planning for `manifest`'s workspace.
    pub fn test_plan_context(&self, manifest: &Manifest) -> TestPlanContext {
        TestPlanContext {
            go: self.go.program.clone(),
            workspace_dir: manifest.workspace_dir.clone(),
            base_env: self.go.env.clone(),
            version: self.version.clone(),
        }
    }

    /// Prints [`Context::warnings`] to stderr.
    pub fn print_warnings(&self) {
        for warning in self.warnings() {
            eprintln!("gob: warning: {warning}");
        }
    }

    /// Warnings about the environment that slow builds down, one line each.
    pub fn warnings(&self) -> Vec<String> {
        let c = crate::goversion::compile_concurrency(
            &self.version,
            self.budget.cpus,
            self.budget.cpus,
            &self.compile_env,
        );
        c.forced_by
            .map(|why| {
                format!(
                    "{why} forces the compiler's -c to 1 with {}: each package compiles on one CPU; unset it",
                    self.version.raw
                )
            })
            .into_iter()
            .chain(self.budget.facts.cgroup_error.as_ref().map(|error| {
                format!(
                    "cannot read the cgroup CPU quota ({error}); the CPU budget ignores cgroups"
                )
            }))
            .collect()
    }
}
