//! The bottom layer: leaf types and helpers every stage may use, importing no stage.
//! gob's own build identity, test events (the seam between running and reporting), exit codes, where gob keeps its
//! state, path helpers, hashing and credential redaction.

pub mod build;
pub mod events;
pub mod exit;
pub mod hash;
pub mod paths;
pub mod redact;
pub mod state;
pub mod text;
pub mod tls;
