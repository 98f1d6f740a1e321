//! One module per subcommand: each wires the pipeline stages together and reports.

pub mod build;
pub mod check;
pub mod env;
pub mod test;
