//! The last stage: one module per subcommand, each wiring the stages together. `context`
//! loads what every command needs (manifest, go, budget, remote cache) and reads the
//! environment the reporters need, once, at this edge; `sharding` is the split shared by
//! `gob test --shard` and `gob shards`.

pub mod affected;
pub mod analyze;
pub mod archive;
pub mod build;
pub mod cacheprog;
pub mod check;
pub mod context;
pub mod cover;
pub mod env;
pub mod help;
pub mod init;
pub mod integ;
pub mod list;
pub mod outcome;
pub mod remembered;
pub mod retries;
pub mod run;
pub mod selection;
pub mod sharding;
pub mod shards;
pub mod tasks;
pub mod test;
pub mod test2json;
pub mod timings;
pub mod watch;
