//! One module per subcommand: each wires the pipeline stages together and reports.

pub mod analyze;
pub mod build;
pub mod cacheprog;
pub mod check;
pub mod env;
pub mod init;
pub mod list;
pub mod shards;
pub mod test;
