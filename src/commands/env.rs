//! `gob env`: the CPU budget and where each number came from, the Go toolchain, its cache,
//! and the -p / -c the go command will use under gob.

use serde::Serialize;

use crate::budget::{Budget, BudgetOrigin, CgroupVersion};
use crate::cli::EnvArgs;
use crate::commands::context::{Context, Globals, load_optional_manifest};
use crate::error::GobError;
use crate::go::compiler::{CompileConcurrency, compile_concurrency};
use crate::workspace::gotool::GoEnv;

/// Everything `gob env` reports.
#[derive(Debug, Serialize)]
struct EnvReport<'a> {
    manifest: Option<String>,
    workspace_dir: String,
    budget: &'a Budget,
    go: &'a GoEnv,
    go_p: usize,
    compile_concurrency: CompileConcurrency,
    go_default_gomaxprocs: usize,
    remote_cache: Option<RemoteCacheReport>,
    remote_exec: Option<RemoteExecReport>,
    warnings: Vec<String>,
}

/// `[exec]`: the cluster integration suites run on, credentials hidden.
#[derive(Debug, Serialize)]
struct RemoteExecReport {
    url: String,
    enabled: bool,
    instance_name: String,
    platform: std::collections::BTreeMap<String, String>,
    jobs: usize,
    strict: bool,
    auth_env: Option<String>,
    auth_header: String,
}

impl RemoteExecReport {
    fn of(spec: &crate::manifest::ExecSpec) -> Option<RemoteExecReport> {
        Some(RemoteExecReport {
            url: crate::base::redact::credentials(&spec.remote.as_ref()?.value),
            enabled: spec.enabled,
            instance_name: spec.instance_name.clone(),
            platform: spec.platform.clone(),
            jobs: spec.jobs,
            strict: spec.strict,
            auth_env: spec.auth_env.clone(),
            auth_header: spec.auth_header.clone(),
        })
    }
}

/// The remote cache and the GOCACHEPROG gob sets for it, credentials hidden.
#[derive(Debug, Serialize)]
struct RemoteCacheReport {
    #[serde(flatten)]
    cache: crate::workspace::remotecache::RemoteCache,
    gocacheprog: String,
}

/// Runs `gob env`.
pub fn run(globals: &Globals, args: &EnvArgs) -> Result<(), GobError> {
    let manifest = load_optional_manifest(globals)?;
    let dir = manifest
        .as_ref()
        .map_or_else(|| globals.cwd.clone(), |m| m.workspace_dir.clone());
    let default_cache = crate::manifest::CacheSpec::default();
    let cache = manifest.as_ref().map_or(&default_cache, |m| &m.cache);
    let ctx = Context::load(globals, &dir)?.with_remote_cache(cache)?;
    let cpus = ctx.budget.cpus;
    let report = EnvReport {
        manifest: manifest.as_ref().map(|m| m.path.display().to_string()),
        workspace_dir: dir.display().to_string(),
        budget: &ctx.budget,
        go: &ctx.go_env,
        go_p: cpus,
        compile_concurrency: compile_concurrency(&ctx.version, cpus, cpus, &ctx.compile_env),
        go_default_gomaxprocs: ctx.budget.facts.go_runtime_default(&ctx.version),
        remote_cache: ctx.remote_cache.as_ref().map(|r| RemoteCacheReport {
            cache: crate::workspace::remotecache::RemoteCache {
                url: r.cache.display_url(),
                ..r.cache.clone()
            },
            gocacheprog: crate::base::redact::credentials(&r.gocacheprog),
        }),
        remote_exec: manifest
            .as_ref()
            .and_then(|m| RemoteExecReport::of(&m.exec)),
        warnings: ctx.warnings(),
    };
    if args.json {
        let text = serde_json::to_string_pretty(&report).unwrap_or_default();
        println!("{text}");
    } else {
        print_text(&report);
    }
    Ok(())
}

fn print_remote_exec(exec: &RemoteExecReport) {
    let when = match exec.enabled {
        true => "integration suites, unless --no-remote-exec",
        false => "integration suites, only with --remote-exec",
    };
    println!("remote execution  {} ({when})", exec.url);
    if !exec.instance_name.is_empty() {
        println!("  instance        {}", exec.instance_name);
    }
    let platform = crate::workspace::remoteexec::platform_text(&exec.platform);
    if !platform.is_empty() {
        println!("  platform        {platform}");
    }
    let failure = match exec.strict {
        true => "a remote failure fails the package",
        false => "a remote failure runs the binary here",
    };
    println!(
        "  jobs            {} actions at a time; {failure}",
        exec.jobs
    );
    if let Some(var) = &exec.auth_env {
        let set = match std::env::var_os(var) {
            Some(_) => "set",
            None => "NOT SET",
        };
        println!(
            "  auth            {} header from ${var} ({set})",
            exec.auth_header
        );
    }
}

fn print_text(r: &EnvReport) {
    let b = r.budget;
    let plural = |n: usize| if n == 1 { "CPU" } else { "CPUs" };
    let origin = match b.origin {
        BudgetOrigin::JobsFlag => "-j on the command line",
        BudgetOrigin::GobJobs => "GOB_JOBS",
        BudgetOrigin::UserGomaxprocs => "your GOMAXPROCS",
        BudgetOrigin::Cgroup => "cgroup CPU quota",
        BudgetOrigin::Affinity => "CPU affinity mask",
    };
    println!(
        "CPU budget        {} {} (from {origin})",
        b.cpus,
        plural(b.cpus)
    );
    match b.facts.affinity {
        Some(n) => println!("  affinity        {n} {} (sched_getaffinity)", plural(n)),
        None => println!("  affinity        unknown (sched_getaffinity failed)"),
    }
    if let Some(error) = &b.facts.cgroup_error {
        println!("  cgroup          unreadable: {error}");
    } else if b.facts.cgroup_limits.is_empty() {
        println!("  cgroup          no CPU quota from this process's cgroup up to the root");
    }
    for limit in &b.facts.cgroup_limits {
        let version = match limit.version {
            CgroupVersion::V1 => "v1",
            CgroupVersion::V2 => "v2",
        };
        println!(
            "  cgroup {version}       {}: quota {}us / period {}us = {:.2} -> {} {}{}",
            limit.file.display(),
            limit.quota_us,
            limit.period_us,
            limit.quota_us as f64 / limit.period_us as f64,
            limit.cpus(),
            plural(limit.cpus()),
            if limit.leaf {
                " (own cgroup)"
            } else {
                " (ancestor)"
            },
        );
    }
    match b.gomaxprocs_env {
        Some(n) => println!("GOMAXPROCS        {n} (set by gob for every go command)"),
        None => println!("GOMAXPROCS        yours, passed through unchanged"),
    }
    println!(
        "  go alone        would use GOMAXPROCS={} ({})",
        r.go_default_gomaxprocs, r.go.goversion
    );
    println!("go                {} ({})", r.go.goversion, r.go.goroot);
    println!("GOCACHE           {}", r.go.gocache);
    match &r.remote_cache {
        Some(remote) => {
            let c = &remote.cache;
            let mode = if c.read_only {
                "read-only"
            } else {
                "read and upload"
            };
            println!(
                "remote cache      {} ({mode}; from {})",
                c.display_url(),
                c.source
            );
            println!("  local store     {}", c.dir.display());
            println!(
                "  timeout         {:?} (connect, and a stalled answer)",
                c.timeout
            );
            if let Some(var) = &c.auth_env {
                let set = if std::env::var_os(var).is_some() {
                    "set"
                } else {
                    "NOT SET"
                };
                println!(
                    "  auth            {} header from ${var} ({set})",
                    c.auth_header
                );
            }
            println!(
                "GOCACHEPROG       {} (set by gob for build, test and check)",
                remote.gocacheprog
            );
        }
        None if !r.go.gocacheprog.is_empty() => {
            let gocacheprog = crate::base::redact::credentials(&r.go.gocacheprog);
            println!("GOCACHEPROG       {gocacheprog}");
        }
        None => {}
    }
    if let Some(exec) = &r.remote_exec {
        print_remote_exec(exec);
    }
    if !r.go.goflags.is_empty() {
        println!("GOFLAGS           {}", r.go.goflags);
    }
    println!("go -p             {} (follows GOMAXPROCS)", r.go_p);
    let c = &r.compile_concurrency;
    if c.min == c.max {
        println!("compiler -c       {} per package", c.max);
    } else {
        println!(
            "compiler -c       {} to {} per package (token pool)",
            c.min, c.max
        );
    }
    if let Some(m) = &r.manifest {
        println!("manifest          {m}");
    }
    println!("workspace         {}", r.workspace_dir);
    for warning in &r.warnings {
        println!("warning: {warning}");
    }
}
