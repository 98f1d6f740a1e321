//! `gob analyze`: where build time goes. gob runs the build (or a suite's test compiles) with
//! `-debug-actiongraph` and `-debug-trace`, reads both, and reports time by tool and by module,
//! the slowest actions, the critical path, and the lower bound any scheduler could reach with
//! the CPU budget; `--trace` / `--svg` / `--html` draw it. `gob analyze why PKG` shows the import
//! chains that pull a package into each binary and what it cost to compile.

pub mod actiongraph;
pub mod stats;
pub mod text;
pub mod timeline;
pub mod why;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use actiongraph::{Action, Tool};

/// Compile seconds per import path, as the last `gob analyze` measured them.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CompileTimes {
    /// Whether that build had a cold cache.
    pub cold: bool,
    /// Import path → seconds spent in compile, asm and cgo actions.
    pub packages: BTreeMap<String, f64>,
}

impl CompileTimes {
    /// The compile work per package of `actions`.
    pub fn of(actions: &[Action], cold: bool) -> CompileTimes {
        let mut packages = BTreeMap::new();
        for a in actions.iter().filter(|a| {
            !a.package.is_empty() && matches!(a.tool, Tool::Compile | Tool::Asm | Tool::Cgo)
        }) {
            *packages.entry(a.package.clone()).or_default() += a.duration();
        }
        CompileTimes { cold, packages }
    }
}
