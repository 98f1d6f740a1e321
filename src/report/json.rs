//! `--json`: one JSON object per line on stdout: every test2json event as go wrote it (plus
//! the ones gob writes for packages it ended), and gob's own events (`Action: "gob-…"`).

use std::io::Write;

use serde::Serialize;

use super::sink::Sink;
use crate::base::events::GobEvent;
use crate::base::events::TestEvent;

/// Writes JSON lines.
pub struct JsonLines {
    out: Box<dyn Write + Send>,
}

impl JsonLines {
    /// JSON lines to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> JsonLines {
        JsonLines { out }
    }

    fn write(&mut self, value: &impl Serialize) {
        if let Ok(line) = serde_json::to_string(value) {
            let _ = writeln!(self.out, "{line}");
            let _ = self.out.flush();
        }
    }
}

/// A gob event with its time, as written.
#[derive(Serialize)]
struct Timed<'a> {
    #[serde(rename = "Time")]
    time: String,
    #[serde(flatten)]
    event: &'a GobEvent,
}

impl Sink for JsonLines {
    fn gob_event(&mut self, event: &GobEvent) {
        self.write(&Timed {
            time: super::sink::now(),
            event,
        });
    }

    fn test_event(&mut self, event: &TestEvent) {
        self.write(event);
    }
}
