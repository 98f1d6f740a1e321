//! `gob test2json -p PKG`: go's `go tool test2json -t -p PKG` in stdin mode, without go (see
//! [`crate::go::test2json`]); what `--from-archive` runs use in process.

use std::io::{Read, Write};

use crate::cli::Test2jsonArgs;
use crate::error::GobError;
use crate::go::test2json::Converter;

/// Converts stdin to test2json events on stdout.
pub fn run(args: &Test2jsonArgs) -> Result<(), GobError> {
    let mut converter = Converter::new(&args.package, Box::new(crate::base::events::now));
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let mut buffer = vec![0; 64 * 1024];
    let io = |source| GobError::Io {
        action: "test2json:",
        path: "-".into(),
        source,
    };
    loop {
        let n = match stdin.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        for line in converter.write(&buffer[..n]) {
            writeln!(stdout, "{line}").map_err(io)?;
        }
        stdout.flush().map_err(io)?;
    }
    for line in converter.close() {
        writeln!(stdout, "{line}").map_err(io)?;
    }
    Ok(())
}
