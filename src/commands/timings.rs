//! `gob timings merge FILE... --output FILE`: joins timing histories (per suite and package,
//! the newest record wins), so the shards of a CI matrix publish one history for the next run.

use crate::cli::{TimingsArgs, TimingsCommand};
use crate::error::GobError;
use crate::report::timings::History;

/// Runs `gob timings`.
pub fn run(args: &TimingsArgs) -> Result<(), GobError> {
    let TimingsCommand::Merge { files, output } = &args.command;
    let mut merged = History::default();
    for file in files {
        merged.merge(History::read(file).map_err(GobError::Usage)?);
    }
    merged.version = 1;
    let text = serde_json::to_string_pretty(&merged).unwrap_or_default();
    crate::commands::context::write_file(output, format!("{text}\n").as_bytes())?;
    eprintln!(
        "gob: merged {} into {} ({})",
        crate::report::plural(files.len(), "history"),
        output.display(),
        crate::report::plural(merged.packages.len(), "package")
    );
    Ok(())
}
