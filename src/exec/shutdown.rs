//! Stop requests for the whole run. The first SIGINT, SIGTERM, SIGHUP (the terminal closed)
//! or SIGQUIT asks every running child to stop (SIGTERM to its process group, SIGKILL after
//! the grace period) and no new child starts; a second signal kills at once. Children run in
//! process groups of their own, so the terminal's signals reach only gob: without this a
//! closed terminal would leave test binaries running, re-parented to init.
//!
//! tokio's signal handler replaces the default action for the life of the process, so once
//! [`install`] ran, gob itself survives the signal and ends through the normal paths, printing
//! what finished.

use std::sync::OnceLock;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// The grace period when none is configured.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// Where the run stands with respect to stop requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopState {
    /// No signal received.
    Running,
    /// The first signal (SIGINT or SIGTERM) arrived: stop gracefully.
    Stopping(i32),
    /// A second signal arrived: kill now. Carries the first signal, which sets the exit code.
    Killing(i32),
}

impl StopState {
    /// The first signal received, if any.
    pub fn signal(self) -> Option<i32> {
        match self {
            StopState::Running => None,
            StopState::Stopping(sig) | StopState::Killing(sig) => Some(sig),
        }
    }

    /// The state after one more signal `sig` (a real signal after a [`cancel`] is a first
    /// signal: it sets the exit code).
    fn after(self, sig: i32) -> StopState {
        match self {
            StopState::Running | StopState::Stopping(CANCEL) => StopState::Stopping(sig),
            StopState::Stopping(first) | StopState::Killing(first) => StopState::Killing(first),
        }
    }
}

struct Shutdown {
    state: watch::Sender<StopState>,
    grace: Duration,
}

static SHUTDOWN: OnceLock<Shutdown> = OnceLock::new();

fn shutdown() -> &'static Shutdown {
    SHUTDOWN.get_or_init(|| Shutdown {
        state: watch::Sender::new(StopState::Running),
        grace: DEFAULT_GRACE,
    })
}

/// Takes over SIGINT, SIGTERM, SIGHUP and SIGQUIT for the rest of the process; call once,
/// inside the runtime.
pub fn install(grace: Duration) -> std::io::Result<()> {
    let _ = SHUTDOWN.set(Shutdown {
        state: watch::Sender::new(StopState::Running),
        grace,
    });
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut quit = signal(SignalKind::quit())?;
    tokio::spawn(async move {
        loop {
            let sig = tokio::select! {
                _ = interrupt.recv() => libc::SIGINT,
                _ = terminate.recv() => libc::SIGTERM,
                _ = hangup.recv() => libc::SIGHUP,
                _ = quit.recv() => libc::SIGQUIT,
            };
            let state = &shutdown().state;
            state.send_modify(|s| *s = s.after(sig));
            let message = match *state.borrow() {
                StopState::Stopping(_) => format!(
                    "\ngob: {}: stopping; running processes get {} to exit (signal again to kill them now)",
                    signal_name(sig),
                    humanize(shutdown().grace)
                ),
                _ => format!("\ngob: {}: killing running processes", signal_name(sig)),
            };
            // Not eprintln!: after SIGHUP the terminal is gone and a failed write would panic.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{message}");
        }
    });
    Ok(())
}

/// The "signal" of a stop that [`cancel`] asked for: no signal arrived.
pub const CANCEL: i32 = 0;

/// Stops what runs as the first signal does (SIGTERM to each child's group, SIGKILL after
/// the grace period), without a signal: how a watch cancels a run a save made stale.
pub fn cancel() {
    shutdown().state.send_modify(|s| {
        if *s == StopState::Running {
            *s = StopState::Stopping(CANCEL);
        }
    });
}

/// Ends a [`cancel`]: children may start again. False when a real signal arrived, which
/// stays.
pub fn resume() -> bool {
    let state = &shutdown().state;
    state.send_if_modified(|s| match s.signal() {
        Some(CANCEL) => {
            *s = StopState::Running;
            true
        }
        _ => false,
    });
    state.borrow().signal().is_none()
}

/// The first stop signal received so far, if any.
pub fn requested() -> Option<i32> {
    shutdown().state.borrow().signal()
}

/// The grace period between SIGTERM and SIGKILL.
pub(super) fn grace() -> Duration {
    shutdown().grace
}

/// Resolves when a stop is requested (at once if one was); returns the signal.
pub async fn stopped() -> i32 {
    let mut rx = subscribe();
    stop_requested(&mut rx).await
}

/// A receiver of stop-state changes.
pub(super) fn subscribe() -> watch::Receiver<StopState> {
    shutdown().state.subscribe()
}

/// Resolves when a stop is requested; returns the signal.
pub(super) async fn stop_requested(rx: &mut watch::Receiver<StopState>) -> i32 {
    let first = rx
        .wait_for(|s| *s != StopState::Running)
        .await
        .map(|state| state.signal());
    match first {
        Ok(sig) => sig.unwrap_or(libc::SIGTERM),
        Err(_) => std::future::pending().await,
    }
}

/// Resolves when a kill is requested (a second signal).
pub(super) async fn kill_requested(rx: &mut watch::Receiver<StopState>) {
    if rx
        .wait_for(|s| matches!(s, StopState::Killing(_)))
        .await
        .is_err()
    {
        std::future::pending::<()>().await;
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        libc::SIGQUIT => "SIGQUIT",
        _ => "SIGINT",
    }
}

fn humanize(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_signal_kills_and_keeps_the_first() {
        let s = StopState::Running.after(libc::SIGTERM);
        assert_eq!(s, StopState::Stopping(libc::SIGTERM));
        let s = s.after(libc::SIGINT);
        assert_eq!(s, StopState::Killing(libc::SIGTERM));
        assert_eq!(s.after(libc::SIGINT).signal(), Some(libc::SIGTERM));
        assert_eq!(StopState::Running.signal(), None);
    }

    #[test]
    fn a_signal_after_a_cancel_is_the_first_signal() {
        let s = StopState::Stopping(CANCEL).after(libc::SIGINT);
        assert_eq!(s, StopState::Stopping(libc::SIGINT));
    }
}
