//! `gob check`'s side of a remembered pass ([`crate::workspace::cleancheck`]): what the
//! command adds to the key (the manifest, the suites named, gob itself and the environment
//! it gives go), and what it says when a pass is reused.

use std::path::PathBuf;

use crate::cli::CheckArgs;
use crate::commands::context::Context;
use crate::manifest::Manifest;
use crate::workspace::cleancheck::{self, CheckInputs};

/// What this check depends on besides go's settings and the files (see
/// [`cleancheck`]): the manifest, the suites named, gob itself and the environment it gives
/// go. The walk leaves out gob's state, and counts the binaries gob writes by name.
pub fn inputs(ctx: &Context, manifest: &Manifest, suites: &[String]) -> Option<CheckInputs> {
    let settings = format!(
        "{}\0{:?}\0gob {}\0{:?}",
        manifest.text,
        suites,
        crate::base::build::identity(),
        ctx.go.env
    );
    let (skip, names_only) = walked_apart(manifest);
    cleancheck::inputs(
        &ctx.go,
        &manifest.workspace_dir,
        skip,
        names_only,
        &settings,
    )
}

/// The dirs a walk of the workspace's files treats apart: gob's state, left out, and the
/// dir of the binaries gob writes, whose files count by name.
pub fn walked_apart(manifest: &Manifest) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let dir = &manifest.workspace_dir;
    let skip = vec![dir.join(crate::base::state::STATE_DIR)];
    // Binaries by name, in a dir of their own (an out_dir that is the workspace dir itself
    // would take every file's times out of the key).
    let out_dir = crate::workspace::out_dir(manifest);
    let names_only = match out_dir.starts_with(dir) && out_dir != *dir {
        true => vec![out_dir],
        false => Vec::new(),
    };
    (skip, names_only)
}

/// How many packages the last check that passed with `inputs` checked, said to the user;
/// `None` when it must run (`--force`, or no such pass).
pub fn passed_before(
    args: &CheckArgs,
    manifest: &Manifest,
    inputs: Option<&CheckInputs>,
) -> Option<usize> {
    if args.force {
        return None;
    }
    let passed = cleancheck::passed_before(&manifest.workspace_dir, inputs?)?;
    eprintln!(
        "gob: nothing changed since the check that passed at {} ({} packages); not checked again (--force checks anyway)",
        local_time(&passed.at),
        passed.packages
    );
    Some(passed.packages)
}

/// An RFC 3339 time as the local clock reads it.
fn local_time(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| at.to_string())
}
