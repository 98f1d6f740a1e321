//! A child's process group: signalling it, stopping it (SIGTERM, the grace period, SIGKILL)
//! and clearing out what is left of it after the child itself exited.

use std::time::Duration;

use tokio::process::Child;
use tokio::sync::watch;

use super::shutdown::{self, StopState, kill_requested};

/// How often gob looks whether a group still has members.
const POLL: Duration = Duration::from_millis(20);

/// The process group a child leads (spawned with `process_group(0)`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Group(Option<i32>);

impl Group {
    /// The group of `child`; read before the child is reaped.
    pub(super) fn of(child: &Child) -> Group {
        Group(child.id().map(|pid| pid as i32))
    }

    /// Sends `sig` to every member; false when the group has none left.
    fn signal(self, sig: i32) -> bool {
        match self.0 {
            // SAFETY: kill(2) on a process group gob created for its own child.
            Some(pgid) => unsafe { libc::kill(-pgid, sig) == 0 },
            None => false,
        }
    }

    /// True while any process of the group is alive. A zombie is not: an orphan that exited
    /// stays a member until its new parent reaps it, and some container inits (or none, when
    /// gob is PID 1) never do. go leaves one behind each call that used a GOCACHEPROG.
    fn exists(self) -> bool {
        match self.0 {
            Some(pgid) if self.signal(0) => live_member(pgid).unwrap_or(true),
            _ => false,
        }
    }

    /// Asks the group to exit: SIGTERM, plus SIGCONT so a stopped member sees it.
    fn terminate(self) {
        self.signal(libc::SIGTERM);
        self.signal(libc::SIGCONT);
    }

    /// Resolves when the group has no members left.
    async fn gone(self) {
        while self.exists() {
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Whether a process that is not a zombie has process group `pgid` (from /proc; `None`
/// where there is no /proc).
fn live_member(pgid: i32) -> Option<bool> {
    let entries = std::fs::read_dir("/proc").ok()?;
    Some(entries.flatten().any(|entry| {
        let is_pid = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        is_pid
            && std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|stat| parse_stat(&stat))
                .is_some_and(|(state, group)| group == pgid && !matches!(state, 'Z' | 'X'))
    }))
}

/// (state, process group) from a /proc/PID/stat line: `pid (comm) state ppid pgrp …`; comm
/// may hold spaces and parentheses, so the fields are read after the last `)`.
fn parse_stat(stat: &str) -> Option<(char, i32)> {
    let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    Some((state, fields.next()?.parse().ok()?))
}

/// Stops a running child and its group: SIGTERM, then SIGKILL once the grace period passed
/// or a second signal arrived; returns when the child is reaped.
pub(super) async fn stop(child: &mut Child, group: Group, rx: &mut watch::Receiver<StopState>) {
    let exited_and_gone = async {
        let _ = child.wait().await;
        group.gone().await;
    };
    terminate(group, rx, exited_and_gone).await;
    let _ = child.wait().await;
}

/// After the child exited on its own: processes it left in its group (a server a test
/// started and forgot, a grandchild holding the output pipe) get SIGTERM, then SIGKILL after
/// the grace period, so nothing of the run outlives it and no pipe stays open.
pub(super) async fn clear_leftovers(group: Group, rx: &mut watch::Receiver<StopState>) {
    if group.exists() {
        terminate(group, rx, group.gone()).await;
    }
}

/// SIGTERM to `group`; SIGKILL unless `ended` resolves within the grace period and before a
/// second signal.
async fn terminate(
    group: Group,
    rx: &mut watch::Receiver<StopState>,
    ended: impl std::future::Future<Output = ()>,
) {
    group.terminate();
    tokio::select! {
        () = ended => return,
        () = tokio::time::sleep(shutdown::grace()) => {}
        () = kill_requested(rx) => {}
    }
    group.signal(libc::SIGKILL);
}

/// Asks a hung child (a Go test binary) for its goroutines: SIGQUIT to the child alone (with
/// SIGCONT, should it be stopped), on which the Go runtime prints every goroutine's stack and
/// exits; waits up to `wait` for that. Its group is stopped after, as always.
pub(super) async fn quit(child: &mut Child, wait: Duration) {
    if let Some(pid) = child.id() {
        // SAFETY: kill(2) on the child gob spawned and has not reaped.
        unsafe {
            libc::kill(pid as i32, libc::SIGQUIT);
            libc::kill(pid as i32, libc::SIGCONT);
        }
    }
    let _ = tokio::time::timeout(wait, child.wait()).await;
}

/// Kills a child at once (a converter whose input never ended) and reaps it.
pub(super) async fn kill(child: &mut Child, group: Group) {
    group.signal(libc::SIGKILL);
    let _ = child.wait().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names() {
        assert_eq!(parse_stat("42 (go) S 1 42 42 0 -1"), Some(('S', 42)));
        assert_eq!(parse_stat("43 (a) b (c)) Z 42 42 42 0"), Some(('Z', 42)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_is_a_live_member_of_its_group() {
        let pgid = unsafe { libc::getpgrp() };
        assert_eq!(live_member(pgid), Some(true));
        assert_eq!(live_member(i32::MAX), Some(false));
    }
}
