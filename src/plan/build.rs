//! Planning `gob build`: the fewest `go build -o DIR/ pkg…` calls that build every binary.
//!
//! - Binaries with equal settings share a call: one go process shares one action graph, so
//!   it compiles shared packages once and links in parallel (the study: one call 44s vs
//!   parallel processes 64s vs sequential 85s).
//! - Trap: with two mains of the same default name in one call, go exits 0 and writes only
//!   one of them (work/build.go `runBuild`). Such a group is split into the fewest calls in
//!   which names are unique: as many as the largest name clash.
//! - Each call writes into a persistent staging dir under the workspace's `.gob/build/`: go
//!   skips the link only when the existing target's build ID is current, so a fresh dir
//!   would relink every time. The executor then publishes changed files to `out_dir/<name>`
//!   atomically; out_dir holds nothing but the published binaries.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::batches::split_unique;
use super::command::GoCommand;
use crate::base::state::STAGING_DIR;
use crate::workspace::ResolvedBinary;
use crate::workspace::settings::BuildSettings;

/// The resolved inputs planning needs besides the binaries.
#[derive(Debug, Clone)]
pub struct PlanContext {
    /// The go program.
    pub go: String,
    /// Where go runs.
    pub workspace_dir: PathBuf,
    /// Absolute out_dir.
    pub out_dir: PathBuf,
    /// Environment every go command gets (e.g. `GOMAXPROCS`); settings' env wins over it.
    pub base_env: BTreeMap<String, String>,
}

/// One file go writes into a staging dir and gob publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedOutput {
    /// The published file's name.
    pub output_name: String,
    /// The package it is built from.
    pub import_path: String,
    /// Where go writes it.
    pub staged: PathBuf,
    /// Where gob publishes it.
    pub published: PathBuf,
}

/// One `go build` call and what it produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildBatch {
    /// The call.
    pub command: GoCommand,
    /// Its persistent staging dir.
    pub staging_dir: PathBuf,
    /// Files to publish after it succeeds.
    pub outputs: Vec<StagedOutput>,
}

/// Every call of a `gob build`, in the order they run (one after another, each with the
/// whole CPU budget: concurrent go processes duplicate work).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildPlan {
    /// The calls.
    pub batches: Vec<BuildBatch>,
}

/// Plans the build of `binaries` (already selected, in manifest order).
pub fn plan_build(binaries: &[ResolvedBinary], ctx: &PlanContext) -> BuildPlan {
    let mut groups: Vec<(&BuildSettings, Vec<&ResolvedBinary>)> = Vec::new();
    for binary in binaries {
        match groups.iter_mut().find(|(s, _)| **s == binary.settings) {
            Some((_, members)) => members.push(binary),
            None => groups.push((&binary.settings, vec![binary])),
        }
    }
    let mut batches = Vec::new();
    for (settings, members) in groups {
        let split = split_unique(
            &members,
            |b| b.go_file_name.as_str(),
            |a, b| a.import_path == b.import_path,
        );
        for (ordinal, batch) in split.into_iter().enumerate() {
            batches.push(batch_for(settings, &batch, ordinal + 1, ctx));
        }
    }
    BuildPlan { batches }
}

fn batch_for(
    settings: &BuildSettings,
    members: &[&ResolvedBinary],
    ordinal: usize,
    ctx: &PlanContext,
) -> BuildBatch {
    let staging_dir = ctx
        .workspace_dir
        .join(STAGING_DIR)
        .join(format!("{}-{ordinal}", settings.fingerprint()));
    let staging_arg = format!(
        "{}/",
        crate::base::paths::relative_to(&staging_dir, &ctx.workspace_dir).display()
    );
    let mut args = vec!["build".to_string(), "-o".to_string(), staging_arg];
    if !settings.tags.is_empty() {
        args.extend(["-tags".to_string(), settings.tags.join(",")]);
    }
    if let Some(ldflags) = &settings.ldflags {
        args.extend(["-ldflags".to_string(), ldflags.clone()]);
    }
    args.extend(settings.flags.iter().cloned());
    let mut packages: Vec<&str> = Vec::new();
    for member in members {
        if !packages.contains(&member.package.as_str()) {
            packages.push(&member.package);
        }
    }
    args.extend(packages.iter().map(|p| p.to_string()));
    let mut env = ctx.base_env.clone();
    env.extend(settings.env.clone());
    if let Some(goos) = &settings.goos {
        env.insert("GOOS".into(), goos.clone());
    }
    if let Some(goarch) = &settings.goarch {
        env.insert("GOARCH".into(), goarch.clone());
    }
    let outputs = members
        .iter()
        .map(|m| StagedOutput {
            output_name: m.output_name.clone(),
            import_path: m.import_path.clone(),
            staged: staging_dir.join(&m.go_file_name),
            published: ctx.out_dir.join(m.published_name()),
        })
        .collect();
    BuildBatch {
        command: GoCommand {
            program: ctx.go.clone(),
            args,
            env,
            dir: ctx.workspace_dir.clone(),
        },
        staging_dir,
        outputs,
    }
}

#[cfg(test)]
mod tests;
