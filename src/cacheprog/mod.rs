//! `gob cacheprog`: a GOCACHEPROG program that keeps go's build cache in a local store and
//! shares it through a Bazel HTTP remote cache.
//!
//! A get is answered from the local store, else from the remote (record, then the verified
//! body, both saved locally); a put is stored locally and answered at once, and uploaded in
//! the background (unless read-only); close waits for the uploads. The remote only ever
//! helps: its first failure turns it off for this process with one warning (see
//! [`health`]), corrupt entries count as misses, and go never sees a remote error.

pub mod action_result;
pub mod grpc;
pub mod health;
pub mod local;
pub mod protocol;
pub mod remote;
pub mod stats;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, UNIX_EPOCH};

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use health::Health;
use local::{Entry, LocalStore};
use protocol::{Request, Response, read_request};
use remote::{Lookup, Remote, RemoteOptions};
use stats::Stats;

/// go's action IDs are SHA-256 sums (cmd/go/internal/cache: `HashSize`).
const ACTION_ID_LEN: usize = 32;

/// Uploads in flight at once.
const MAX_UPLOADS: usize = 8;
/// Bytes of bodies waiting for upload at most; a put beyond it is not uploaded (a machine
/// that misses it uploads it later), so a slow remote cannot grow the cacheprog's memory.
const MAX_QUEUED_BYTES: usize = 256 << 20;
/// How long `close` waits for the uploads still running, in multiples of the timeout.
const CLOSE_WAIT_TIMEOUTS: u32 = 3;

/// What `gob cacheprog` was told on its command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// The local store's directory.
    pub dir: PathBuf,
    /// The remote, if any.
    pub remote: Option<RemoteOptions>,
    /// Read from the remote, never write to it.
    pub read_only: bool,
    /// Append this process's counts here at close (gob's summary reads them).
    pub stats_file: Option<PathBuf>,
}

/// What every request handler shares.
struct Shared {
    local: LocalStore,
    /// Bodies this process uploaded (or is uploading): each goes up once.
    uploaded: std::sync::Mutex<std::collections::HashSet<[u8; 32]>>,
    /// The remote client; `None` without a remote, or when it could not be set up.
    remote: Option<Remote>,
    /// Whether the remote works; present whenever a remote is configured.
    health: Option<Health>,
    stats: Stats,
    uploads: Semaphore,
    /// Bytes of bodies queued or being uploaded.
    queued_bytes: std::sync::atomic::AtomicUsize,
}

impl Shared {
    /// The remote, while it works.
    fn remote(&self) -> Option<&Remote> {
        self.remote
            .as_ref()
            .filter(|_| self.health.as_ref().is_some_and(Health::usable))
    }

    fn remote_failed(&self, error: String) {
        if let Some(health) = &self.health {
            health.failed(&error);
        }
    }
}

/// Serves go on stdin/stdout until close or end of input.
pub async fn serve(options: Options) -> Result<(), String> {
    let local = LocalStore::open(&options.dir)
        .map_err(|e| format!("cannot open the cache dir {}: {e}", options.dir.display()))?;
    // A remote that cannot even be set up (an auth value that is no valid header) is one
    // more remote failure: one warning, and the local store alone, like an unreachable one.
    let health = options
        .remote
        .as_ref()
        .map(|remote| Health::new(&local, &remote.url));
    let remote = match (&options.remote, &health) {
        (Some(remote_options), Some(health)) if health.usable() => {
            match Remote::new(remote_options) {
                Ok(remote) => Some(remote),
                Err(error) => {
                    health.failed(&error);
                    None
                }
            }
        }
        _ => None,
    };
    let shared = Arc::new(Shared {
        local,
        remote,
        health,
        stats: Stats::default(),
        uploaded: Default::default(),
        uploads: Semaphore::new(MAX_UPLOADS),
        queued_bytes: Default::default(),
    });
    // stdin is read by a thread of its own (tokio's would hop to a blocking thread for every
    // line) that answers from the local store itself: a warm lookup costs no task and no
    // thread hop. The runtime does the remote's work; answers go straight to stdout.
    respond(Response::capabilities());
    let (work_tx, mut work) = mpsc::unbounded_channel();
    let reader = {
        let shared = shared.clone();
        let upload = !options.read_only;
        move || read_requests(&shared, &work_tx, upload)
    };
    std::thread::spawn(reader);
    let mut gets = JoinSet::new();
    let mut uploads = JoinSet::new();
    let mut close_id = None;
    while let Some(next) = work.recv().await {
        while gets.try_join_next().is_some() || uploads.try_join_next().is_some() {}
        match next {
            Work::Fetch(request) => {
                let shared = shared.clone();
                gets.spawn(async move { respond(fetch_or_miss(&shared, &request).await) });
            }
            Work::Upload(stored) => {
                let size = stored.body.len();
                let queued = shared.queued_bytes.fetch_add(size, Ordering::Relaxed);
                if queued + size > MAX_QUEUED_BYTES && queued > 0 {
                    shared.queued_bytes.fetch_sub(size, Ordering::Relaxed);
                    continue;
                }
                uploads.spawn(upload(shared.clone(), stored));
            }
            Work::Close(id) => {
                close_id = Some(id);
                break;
            }
            Work::Unreadable(error) => return Err(error),
        }
    }
    gets.join_all().await;
    // A remote that takes uploads slowly must not hold go's close (and the build) forever.
    let close_wait = options
        .remote
        .as_ref()
        .map_or(Duration::ZERO, |r| r.timeout * CLOSE_WAIT_TIMEOUTS);
    let pending = uploads.len();
    if tokio::time::timeout(close_wait, uploads.join_all())
        .await
        .is_err()
    {
        shared.remote_failed(format!(
            "uploads still running {}s after go closed the cache ({pending} queued then): not waiting longer",
            close_wait.as_secs()
        ));
    }
    shared.local.trim_if_due();
    let remote_error = shared.health.as_ref().and_then(Health::error);
    if let Some(path) = &options.stats_file {
        shared.stats.append_to(path, remote_error);
    }
    if let Some(id) = close_id {
        respond(Response {
            id,
            ..Response::default()
        });
    }
    Ok(())
}

/// Writes `response` to stdout as one line, from whichever thread has it: the locked
/// stdout keeps lines whole, and its line buffering flushes each at its newline.
fn respond(response: Response) {
    use std::io::Write;
    let _ = std::io::stdout()
        .lock()
        .write_all(response.to_line().as_bytes());
}

fn hit(id: i64, entry: &Entry) -> Response {
    let time = entry.time.duration_since(UNIX_EPOCH).ok().map(|d| {
        chrono::DateTime::from_timestamp_nanos(d.as_nanos() as i64)
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    });
    Response {
        id,
        output_id: entry.output_id.to_vec(),
        size: entry.size,
        time,
        disk_path: entry.path.display().to_string(),
        ..Response::default()
    }
}

fn miss(id: i64) -> Response {
    Response {
        id,
        miss: true,
        ..Response::default()
    }
}

/// What the request reader hands to the runtime.
enum Work {
    /// A get the local store could not answer.
    Fetch(Request),
    /// A stored put to send to the remote.
    Upload(Upload),
    /// go said close (with this request ID).
    Close(i64),
    /// stdin held something that is not a request.
    Unreadable(String),
}

/// Reads requests until close or end of input: answers local hits and puts at once, hands
/// misses and uploads to the runtime.
fn read_requests(shared: &Shared, work: &mpsc::UnboundedSender<Work>, upload: bool) {
    let mut input = std::io::stdin().lock();
    loop {
        let request = match read_request(&mut input) {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(error) => {
                let _ = work.send(Work::Unreadable(error.to_string()));
                return;
            }
        };
        let handed = match request.command.as_str() {
            "get" | "put" if request.action_id.len() != ACTION_ID_LEN => {
                respond(Response {
                    id: request.id,
                    err: format!(
                        "gob cacheprog: ActionID has {} bytes, not {ACTION_ID_LEN}",
                        request.action_id.len()
                    ),
                    ..Response::default()
                });
                Ok(())
            }
            // Answered from the record alone (go checks the body itself); the body's
            // check and the mtime refreshes follow while go reads the answer.
            "get" => match shared.local.lookup(&request.action_id) {
                Some(entry) => {
                    respond(hit(request.id, &entry));
                    // A body found missing now is a miss to go too.
                    if shared.local.keep(&request.action_id, &entry) {
                        shared.stats.count(&shared.stats.local_hits);
                    } else {
                        shared.stats.count(&shared.stats.misses);
                    }
                    Ok(())
                }
                None => work.send(Work::Fetch(request)),
            },
            "put" => match put(shared, request) {
                Some(stored) if upload && shared.remote().is_some() => {
                    work.send(Work::Upload(stored))
                }
                _ => Ok(()),
            },
            "close" => {
                let _ = work.send(Work::Close(request.id));
                return;
            }
            other => {
                respond(Response {
                    id: request.id,
                    err: format!("gob cacheprog: unknown command {other:?}"),
                    ..Response::default()
                });
                Ok(())
            }
        };
        if handed.is_err() {
            return;
        }
    }
}

/// Answers a get the local store missed: from the remote, or a miss.
async fn fetch_or_miss(shared: &Shared, request: &Request) -> Response {
    let found = match shared.remote() {
        None => None,
        Some(remote) => match fetch_from(remote, &shared.local, &request.action_id).await {
            Ok(Lookup::Found(entry)) => Some(entry),
            Ok(Lookup::Missing) => None,
            Ok(Lookup::Corrupt(why)) => {
                shared.stats.corrupt(why);
                None
            }
            Err(error) => {
                shared.remote_failed(error);
                None
            }
        },
    };
    match found {
        Some(entry) => {
            shared.stats.count(&shared.stats.remote_hits);
            hit(request.id, &entry)
        }
        None => {
            shared.stats.count(&shared.stats.misses);
            miss(request.id)
        }
    }
}

/// The record, then the body unless the store has it; both verified before they are stored.
async fn fetch_from(
    remote: &Remote,
    local: &LocalStore,
    action: &[u8],
) -> Result<Lookup<Entry>, remote::RemoteError> {
    let (output_id, size) = match remote.record(action).await? {
        Lookup::Found(record) => record,
        Lookup::Missing => return Ok(Lookup::Missing),
        Lookup::Corrupt(why) => return Ok(Lookup::Corrupt(why)),
    };
    let stored = if local.output(&output_id, size).is_some() {
        local.record(action, &output_id, size)
    } else if size == 0 {
        local.put(action, &output_id, b"").map(drop)
    } else {
        match remote.blob(&output_id, size).await? {
            Lookup::Found(body) => local.put(action, &output_id, &body).map(drop),
            Lookup::Missing => return Ok(Lookup::Missing),
            Lookup::Corrupt(why) => return Ok(Lookup::Corrupt(why)),
        }
    };
    Ok(match stored.map(|()| local.get(action)) {
        Ok(Some(entry)) => Lookup::Found(entry),
        Ok(None) => Lookup::Missing,
        Err(why) => Lookup::Corrupt(why),
    })
}

/// A put that was stored locally: what an upload sends.
struct Upload {
    action: Vec<u8>,
    output_id: [u8; 32],
    body: Vec<u8>,
}

/// Answers a put: verified and stored locally; returns it for the upload that may follow.
fn put(shared: &Shared, request: Request) -> Option<Upload> {
    let error = |err: String| {
        respond(Response {
            id: request.id,
            err: format!("gob cacheprog: {err}"),
            ..Response::default()
        });
        None
    };
    let Ok(output_id) = <[u8; 32]>::try_from(request.output_id.as_slice()) else {
        return error("put without a 32-byte OutputID".into());
    };
    match shared
        .local
        .put(&request.action_id, &output_id, &request.body)
    {
        Ok(entry) => {
            shared.stats.count(&shared.stats.puts);
            respond(Response {
                id: request.id,
                disk_path: entry.path.display().to_string(),
                ..Response::default()
            });
            Some(Upload {
                action: request.action_id,
                output_id,
                body: request.body,
            })
        }
        Err(err) => error(err),
    }
}

/// Uploads one put, unless the remote has failed meanwhile.
async fn upload(shared: Arc<Shared>, stored: Upload) {
    let size = stored.body.len();
    send(&shared, stored).await;
    shared.queued_bytes.fetch_sub(size, Ordering::Relaxed);
}

/// Sends one stored put, when the remote still works.
async fn send(shared: &Shared, stored: Upload) {
    let Ok(_permit) = shared.uploads.acquire().await else {
        return;
    };
    let Some(remote) = shared.remote() else {
        return;
    };
    // The empty blob is never fetched (see fetch_from), and a body another action of this
    // process already sent need not go again; the record always goes.
    let send_body = !stored.body.is_empty()
        && shared
            .uploaded
            .lock()
            .is_ok_and(|mut sent| sent.insert(stored.output_id));
    let size = stored.body.len() as u64;
    let body = send_body.then_some(stored.body);
    match remote
        .upload(&stored.action, &stored.output_id, size, body)
        .await
    {
        Ok(()) => shared.stats.count(&shared.stats.uploads),
        Err(error) => shared.remote_failed(error),
    }
}
