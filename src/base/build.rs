//! What identifies this gob build in the keys of what it keeps (a remembered check, go's
//! cached runs of gob as vet's tool): the commit it was built from, and its executable's size
//! and time, so a rebuild from an uncommitted tree counts as another build.

/// The commit and the executable's stamp, as one string.
pub fn identity() -> String {
    let exe = std::env::current_exe()
        .and_then(std::fs::metadata)
        .ok()
        .map(|m| (m.len(), m.modified().ok()));
    format!("{} {exe:?}", env!("GOB_COMMIT"))
}
