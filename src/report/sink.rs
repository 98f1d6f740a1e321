//! What every reporter is: a [`Sink`] of events and finished packages, and the small text
//! helpers they share.

use super::collect::PackageResult;
use crate::base::events::{GobEvent, TestEvent};

/// A consumer of reports. Every method has a default that ignores the input.
pub trait Sink {
    /// One of gob's own events.
    fn gob_event(&mut self, _event: &GobEvent) {}
    /// One test2json event (also the ones gob synthesizes for packages it ended).
    fn test_event(&mut self, _event: &TestEvent) {}
    /// A finished package.
    fn package_done(&mut self, _result: &PackageResult) {}
    /// The run is over; `results` holds every finished package.
    fn finish(&mut self, _results: &[PackageResult]) -> std::io::Result<()> {
        Ok(())
    }
}

pub use crate::base::events::now;
pub use crate::base::text::plural;

/// `1 binary`, `2 binaries`.
pub fn binaries(n: usize) -> String {
    if n == 1 {
        "1 binary".to_string()
    } else {
        format!("{n} binaries")
    }
}
