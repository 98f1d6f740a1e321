//! `gob cacheprog`: started by go (GOCACHEPROG), not by people; see [`crate::cacheprog`].

use crate::cacheprog::{Options, remote::RemoteOptions, serve};
use crate::cli::CacheprogArgs;
use crate::error::GobError;
use crate::workspace::remotecache::STATS_ENV;

/// Runs the cache program until go closes it. No signal handlers: a signal ends it at once,
/// which loses nothing (every local file is written whole or not at all).
pub fn run(args: &CacheprogArgs) -> Result<(), GobError> {
    let auth = args.auth_env.as_ref().and_then(|var| match std::env::var(var) {
        Ok(value) => Some((args.auth_header.clone(), value)),
        Err(_) => {
            eprintln!(
                "gob: warning: {var} is not set; remote cache requests go without the {} header",
                args.auth_header
            );
            None
        }
    });
    let options = Options {
        dir: args.dir.clone(),
        remote: args.remote.as_ref().map(|url| RemoteOptions {
            url: url.clone(),
            auth,
            timeout: args.timeout,
            instance: args.instance_name.clone(),
            ca_file: args.ca_file.clone(),
        }),
        read_only: args.read_only,
        stats_file: std::env::var_os(STATS_ENV).map(Into::into),
    };
    crate::exec::runtime()
        .map_err(|source| GobError::Io {
            action: "cannot start the async runtime",
            path: ".".into(),
            source,
        })?
        .block_on(serve(options))
        .map_err(|e| GobError::Failed(format!("cacheprog: {e}")))
}
