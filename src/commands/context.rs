//! Loading what every command needs, in pipeline order: manifest → go toolchain → CPU
//! budget. Each step's I/O happens here, once; later stages get resolved values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::budget::{self, Budget, BudgetOverrides, CpuFacts};
use crate::error::GobError;
use crate::go::compiler::CompileEnv;
use crate::go::version::GoVersion;
use crate::manifest::{LocateError, Manifest, locate};
use crate::plan::test::TestPlanContext;
use crate::report::GobEvent;
use crate::workspace::ResolvedBinary;
use crate::workspace::gotool::{GoEnv, GoTool};
use crate::workspace::remotecache::RemoteCache;

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
    /// The remote cache go calls use (set by [`Context::with_remote_cache`]).
    pub remote_cache: Option<ActiveRemoteCache>,
    /// Why a configured remote cache is not used, what it replaces, what it lacks.
    remote_cache_notes: Vec<String>,
}

/// A remote cache wired into go's environment, with the file its cacheprogs report to.
#[derive(Debug)]
pub struct ActiveRemoteCache {
    /// The resolved setup.
    pub cache: RemoteCache,
    /// The GOCACHEPROG value for go calls.
    pub gocacheprog: String,
    /// Where this run's cacheprog processes append their counts.
    pub stats_file: PathBuf,
}

impl ActiveRemoteCache {
    /// What the run's cacheprogs did, as an event (and removes their counts).
    pub fn take_event(&self) -> Option<GobEvent> {
        let totals = crate::cacheprog::stats::Totals::read(&self.stats_file);
        let _ = std::fs::remove_file(&self.stats_file);
        totals.map(|totals| GobEvent::RemoteCache {
            url: self.cache.display_url(),
            summary: crate::workspace::remotecache::summary(&self.cache, &totals),
            totals,
        })
    }
}

impl Drop for ActiveRemoteCache {
    /// A run that ends early (an error, a signal) leaves no counts behind either.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.stats_file);
    }
}

/// A variable of gob's environment, if set and valid UTF-8.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
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
) -> Result<crate::exec::lock::WorkspaceLock, GobError> {
    Ok(crate::exec::lock::WorkspaceLock::acquire(&manifest.workspace_dir, globals.no_wait).await?)
}

/// Like [`load_manifest`], but no manifest at all is `None` (an invalid one is an error).
pub fn load_optional_manifest(globals: &Globals) -> Result<Option<Manifest>, GobError> {
    match load_manifest(globals) {
        Err(GobError::Locate(LocateError::NotFound(..))) => Ok(None),
        other => other.map(Some),
    }
}

/// The CPU budget, and the environment it gives every go command and test binary
/// (`GOMAXPROCS`); needs no go.
pub fn budget_env(globals: &Globals) -> Result<(Budget, BTreeMap<String, String>), GobError> {
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
    Ok((budget, env))
}

/// Writes `contents` to `path` atomically (a reader sees the old file or the new one, never
/// half of it); the error names the file.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<(), GobError> {
    crate::base::paths::write_atomically(path, contents).map_err(|source| GobError::Io {
        action: "cannot write",
        path: path.to_path_buf(),
        source,
    })
}

/// gob's own executable, which go runs as GOCACHEPROG and `-exec` program.
pub fn own_executable() -> Result<PathBuf, GobError> {
    std::env::current_exe().map_err(|source| GobError::Io {
        action: "cannot find gob's own executable",
        path: "/proc/self/exe".into(),
        source,
    })
}

impl Context {
    /// Resolves the budget and asks go about itself, running go in `dir`.
    pub fn load(globals: &Globals, dir: &Path) -> Result<Context, GobError> {
        let (budget, env) = budget_env(globals)?;
        let go = GoTool {
            program: env_var("GOB_GO").unwrap_or_else(|| "go".to_string()),
            dir: dir.to_path_buf(),
            env,
        };
        let go_env = go.env()?;
        let version = go_env
            .version()
            .ok_or_else(|| GobError::GoVersion(go_env.goversion.clone()))?;
        if !version.at_least(crate::go::version::MIN_MINOR) {
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
            remote_cache: None,
            remote_cache_notes: Vec::new(),
        })
    }

    /// Points every go call at `gob cacheprog` when `[cache]` (or `GOB_REMOTE_CACHE`) names a
    /// remote and go supports GOCACHEPROG (1.24+); otherwise notes why not.
    pub fn with_remote_cache(
        mut self,
        spec: &crate::manifest::CacheSpec,
    ) -> Result<Context, GobError> {
        let Some(mut cache) =
            crate::workspace::remotecache::resolve(spec, env_var, &self.go_env.gocache)?
        else {
            return Ok(self);
        };
        if !self
            .version
            .at_least(crate::workspace::remotecache::MIN_GO_MINOR)
        {
            self.remote_cache_notes.push(format!(
                "the remote cache needs Go 1.{} or newer (GOCACHEPROG); {} builds with its own cache only",
                crate::workspace::remotecache::MIN_GO_MINOR,
                self.version.raw
            ));
            return Ok(self);
        }
        if let Some(var) = cache
            .auth_env
            .take_if(|var| std::env::var_os(var).is_none())
        {
            self.remote_cache_notes.push(format!(
                "[cache] auth_env {var} is not set: remote cache requests go without the {} header",
                cache.auth_header
            ));
        }
        if !self.go_env.gocacheprog.is_empty() {
            self.remote_cache_notes.push(format!(
                "your GOCACHEPROG ({}) is replaced by gob's remote cache for gob's go calls",
                self.go_env.gocacheprog
            ));
        }
        let gob = own_executable()?;
        let stats_file = self
            .go
            .dir
            .join(".gob")
            .join(format!("cacheprog-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&stats_file);
        self.remote_cache = Some(ActiveRemoteCache {
            gocacheprog: cache.gocacheprog(&gob),
            cache,
            stats_file,
        });
        Ok(self)
    }

    /// The environment of planned go calls (builds, tests, checks): the budget's, plus the
    /// remote cache's GOCACHEPROG. gob's own queries (`go list`) run without the latter.
    pub fn command_env(&self) -> BTreeMap<String, String> {
        let mut env = self.go.env.clone();
        if let Some(remote) = &self.remote_cache {
            env.insert("GOCACHEPROG".into(), remote.gocacheprog.clone());
            env.insert(
                crate::workspace::remotecache::STATS_ENV.into(),
                remote.stats_file.display().to_string(),
            );
        }
        env
    }

    /// Every `[[binary]]` of `manifest`, resolved with one `go list` (its answer cached
    /// between runs by [`crate::workspace::listcache`]).
    pub fn resolve_binaries(&self, manifest: &Manifest) -> Result<Vec<ResolvedBinary>, GobError> {
        let patterns: Vec<&str> = manifest
            .binaries
            .iter()
            .map(|b| b.package.value.as_str())
            .collect();
        let listed = if patterns.is_empty() {
            Vec::new()
        } else {
            crate::workspace::listcache::list(
                &self.go,
                &self.go_env,
                &manifest.workspace_dir,
                &patterns,
            )?
        };
        let stamps = self.stamps(manifest);
        let env = |name: &str| std::env::var(name).ok();
        let how = crate::workspace::Resolving {
            host: &self.host_platform(),
            stamps: &stamps,
            env: &env,
        };
        crate::workspace::resolve_binaries(manifest, &listed, &how)
            .map_err(|problems| manifest.invalid(problems).into())
    }

    /// The platform go builds for by default (`go env GOOS GOARCH`).
    pub fn host_platform(&self) -> crate::manifest::Platform {
        crate::manifest::Platform {
            goos: self.go_env.goos.clone(),
            goarch: self.go_env.goarch.clone(),
        }
    }

    /// The version stamps, read from git only when the manifest uses one; a stand-in's
    /// warning is printed once.
    pub fn stamps(&self, manifest: &Manifest) -> crate::workspace::stamps::Stamps {
        let settings = std::iter::once(&manifest.build.settings)
            .chain(manifest.binaries.iter().map(|b| &b.overrides));
        let mut texts: Vec<&str> = Vec::new();
        for s in settings {
            texts.extend(s.ldflags.as_deref());
            texts.extend(s.flags.iter().flatten().map(String::as_str));
        }
        for task in &manifest.tasks {
            texts.extend(task.env.values().map(String::as_str));
            match &task.run {
                crate::manifest::TaskRun::Shell(line) => texts.push(line),
                crate::manifest::TaskRun::Argv(argv) => {
                    texts.extend(argv.iter().map(String::as_str))
                }
            }
        }
        if !crate::workspace::stamps::needs_git(texts) {
            return Default::default();
        }
        let epoch = std::env::var("SOURCE_DATE_EPOCH").ok();
        let stamps = crate::workspace::stamps::read(&manifest.workspace_dir, epoch.as_deref());
        static WARNED: std::sync::Once = std::sync::Once::new();
        if let Some(warning) = &stamps.warning {
            WARNED.call_once(|| eprintln!("gob: warning: {warning}"));
        }
        stamps
    }

    /// The inputs of test planning for `manifest`'s workspace.
    pub fn test_plan_context(&self, manifest: &Manifest) -> Result<TestPlanContext, GobError> {
        Ok(TestPlanContext {
            go: self.go.program.clone(),
            workspace_dir: manifest.workspace_dir.clone(),
            base_env: self.command_env(),
            version: self.version.clone(),
            gob: own_executable()?.display().to_string(),
            goflags: self.go_env.goflags.clone(),
            cover: None,
        })
    }

    /// What the run's cacheprogs did, when a remote cache is in use (once per run).
    pub fn remote_cache_event(&self) -> Option<GobEvent> {
        self.remote_cache
            .as_ref()
            .and_then(ActiveRemoteCache::take_event)
    }

    /// Prints [`Context::warnings`] to stderr.
    pub fn print_warnings(&self) {
        for warning in self.warnings() {
            eprintln!("gob: warning: {warning}");
        }
    }

    /// Warnings about the environment that slow builds down, one line each.
    pub fn warnings(&self) -> Vec<String> {
        let c = crate::go::compiler::compile_concurrency(
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
            .chain(self.remote_cache_notes.iter().cloned())
            .collect()
    }
}

/// The facts reporters need about the terminal and CI, read from this process once.
pub fn report_env() -> crate::report::ReportEnv {
    use std::io::IsTerminal;
    let github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    crate::report::ReportEnv {
        stdout_tty: std::io::stdout().is_terminal(),
        stderr_tty: std::io::stderr().is_terminal(),
        ci: std::env::var_os("CI").is_some(),
        dumb_term: std::env::var("TERM").is_ok_and(|t| t == "dumb"),
        no_color: std::env::var_os("NO_COLOR").is_some(),
        github_root: github.then(|| {
            std::env::var_os("GITHUB_WORKSPACE")
                .map(PathBuf::from)
                .or_else(|| std::env::current_dir().ok())
                .unwrap_or_default()
        }),
    }
}
