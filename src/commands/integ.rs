//! Preparing an integration suite's compile call, for `gob test --integ` and `--archive`
//! alike: its store (refusing symlinks on the way, with its token) and go's work dir beside
//! it, cleared of what a killed go left.

use std::path::Path;

use crate::base::state::GO_TMP_DIR;
use crate::error::GobError;
use crate::manifest::SuiteSpec;
use crate::plan::test::{
    IntegCompile, TestPackage, TestPlanContext, integ_store, plan_integ_compile,
};

/// The compile call of `suite` over `packages`, its dirs ready.
pub fn prepare_compile(
    suite: &SuiteSpec,
    packages: &[TestPackage],
    plan_ctx: &TestPlanContext,
) -> Result<IntegCompile, GobError> {
    let workspace = &plan_ctx.workspace_dir;
    let store = integ_store(suite, plan_ctx);
    let tmp = workspace.join(GO_TMP_DIR);
    let failed = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| GobError::Io {
            action,
            path,
            source,
        }
    };
    for dir in [&store, &tmp] {
        crate::base::paths::refuse_symlinks_within(workspace, dir)
            .map_err(failed("refusing to write to", dir))?;
    }
    let token = crate::testexec::store_token(&store).map_err(failed("cannot write to", &store))?;
    std::fs::create_dir_all(&tmp).map_err(failed("cannot create", &tmp))?;
    remove_leftover_work_dirs(&tmp);
    Ok(plan_integ_compile(suite, packages, &token, plan_ctx))
}

/// Removes the work dirs (`go-build…`, with every binary go linked) that a go call killed
/// with SIGKILL left in `tmp`; go removes its own on every other exit. The workspace lock
/// and one compile call at a time mean no running go call is using one.
fn remove_leftover_work_dirs(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with("go-build") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
