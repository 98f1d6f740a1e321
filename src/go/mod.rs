//! Every fact about the go command gob depends on, one file per concern, each a pure
//! function with unit tests and a link to the Go source it mirrors. Part of the bottom
//! layer: any stage may use it; it imports no stage.

pub mod buildid;
pub mod compiler;
pub mod compileronly;
pub mod coverpkg;
pub mod coverprofile;
pub mod debugflags;
pub mod duration;
pub mod embedcfg;
pub mod errblocks;
pub mod gomaxprocs;
pub mod listed;
pub mod modfile;
pub mod names;
pub mod outputs;
pub mod packages;
pub mod platform;
pub mod quoted;
pub mod summary;
pub mod test2json;
pub mod testrun;
pub mod version;
pub mod vet;
pub mod vetcfg;
