//! Remote execution against a hostile or broken server, which a real cluster cannot play: a
//! fake REAPI server in a few lines of tonic that takes an `Execute` and never answers, or
//! answers with a stdout blob of 64 MiB. gob must bound the wait (the action's timeout plus
//! `[exec] timeout`, then run the binary here) and must not hold such an output in memory.

use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bazel_remote_apis::build::bazel::remote::execution::v2 as reapi;
use bazel_remote_apis::google::bytestream;
use bazel_remote_apis::google::longrunning::{Operation, operation};
use futures_util::stream::{self, Stream};
use prost::Message;
use tonic::{Request, Response, Status};

use crate::support::{Workspace, events, gob_command};

/// What the fake does when asked to execute.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Takes the call and never sends an operation.
    Silent,
    /// Answers at once: exit 0, and a stdout of [`HUGE`] bytes in the CAS.
    HugeStdout,
}

/// The size of the huge stdout: lines of 100 bytes.
const HUGE: u64 = 64 << 20;

fn huge_line() -> Vec<u8> {
    let mut line = vec![b'x'; 99];
    line.push(b'\n');
    line
}

/// The digest of the huge stdout.
fn huge_digest() -> reapi::Digest {
    use sha2::Digest as _;
    let line = huge_line();
    let mut hasher = sha2::Sha256::new();
    for _ in 0..HUGE / line.len() as u64 {
        hasher.update(&line);
    }
    hasher.update(&line[..(HUGE % line.len() as u64) as usize]);
    let hash = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    reapi::Digest {
        hash,
        size_bytes: HUGE as i64,
    }
}

#[derive(Clone)]
struct Fake {
    mode: Mode,
    digest: Arc<reapi::Digest>,
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl reapi::capabilities_server::Capabilities for Fake {
    async fn get_capabilities(
        &self,
        _: Request<reapi::GetCapabilitiesRequest>,
    ) -> Result<Response<reapi::ServerCapabilities>, Status> {
        let sha256 = reapi::digest_function::Value::Sha256 as i32;
        Ok(Response::new(reapi::ServerCapabilities {
            cache_capabilities: Some(reapi::CacheCapabilities {
                digest_functions: vec![sha256],
                max_batch_total_size_bytes: 4 << 20,
                ..Default::default()
            }),
            execution_capabilities: Some(reapi::ExecutionCapabilities {
                digest_function: sha256,
                exec_enabled: true,
                ..Default::default()
            }),
            ..Default::default()
        }))
    }
}

#[tonic::async_trait]
impl reapi::execution_server::Execution for Fake {
    type ExecuteStream = BoxStream<Operation>;
    type WaitExecutionStream = BoxStream<Operation>;

    async fn execute(
        &self,
        _: Request<reapi::ExecuteRequest>,
    ) -> Result<Response<Self::ExecuteStream>, Status> {
        if self.mode == Mode::Silent {
            return Ok(Response::new(Box::pin(stream::pending())));
        }
        let response = reapi::ExecuteResponse {
            result: Some(reapi::ActionResult {
                exit_code: 0,
                stdout_digest: Some((*self.digest).clone()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let done = Operation {
            name: "operations/huge".into(),
            done: true,
            result: Some(operation::Result::Response(prost_types_any(&response))),
            ..Default::default()
        };
        Ok(Response::new(Box::pin(stream::iter([Ok(done)]))))
    }

    async fn wait_execution(
        &self,
        _: Request<reapi::WaitExecutionRequest>,
    ) -> Result<Response<Self::WaitExecutionStream>, Status> {
        Ok(Response::new(Box::pin(stream::pending())))
    }
}

fn prost_types_any(response: &reapi::ExecuteResponse) -> bazel_remote_apis::google::protobuf::Any {
    bazel_remote_apis::google::protobuf::Any {
        type_url: "type.googleapis.com/build.bazel.remote.execution.v2.ExecuteResponse".into(),
        value: response.encode_to_vec(),
    }
}

#[tonic::async_trait]
impl reapi::content_addressable_storage_server::ContentAddressableStorage for Fake {
    async fn find_missing_blobs(
        &self,
        _: Request<reapi::FindMissingBlobsRequest>,
    ) -> Result<Response<reapi::FindMissingBlobsResponse>, Status> {
        Ok(Response::new(reapi::FindMissingBlobsResponse::default()))
    }
    async fn batch_update_blobs(
        &self,
        _: Request<reapi::BatchUpdateBlobsRequest>,
    ) -> Result<Response<reapi::BatchUpdateBlobsResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn batch_read_blobs(
        &self,
        _: Request<reapi::BatchReadBlobsRequest>,
    ) -> Result<Response<reapi::BatchReadBlobsResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }
    type GetTreeStream = BoxStream<reapi::GetTreeResponse>;
    async fn get_tree(
        &self,
        _: Request<reapi::GetTreeRequest>,
    ) -> Result<Response<Self::GetTreeStream>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn split_blob(
        &self,
        _: Request<reapi::SplitBlobRequest>,
    ) -> Result<Response<reapi::SplitBlobResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }
    type GetChunkMappingStream = BoxStream<reapi::GetChunkMappingResponse>;
    async fn get_chunk_mapping(
        &self,
        _: Request<reapi::GetChunkMappingRequest>,
    ) -> Result<Response<Self::GetChunkMappingStream>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn splice_blob(
        &self,
        _: Request<reapi::SpliceBlobRequest>,
    ) -> Result<Response<reapi::SpliceBlobResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn register_chunk_mapping(
        &self,
        _: Request<tonic::Streaming<reapi::RegisterChunkMappingRequest>>,
    ) -> Result<Response<reapi::RegisterChunkMappingResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }
}

#[tonic::async_trait]
impl bytestream::byte_stream_server::ByteStream for Fake {
    type ReadStream = BoxStream<bytestream::ReadResponse>;

    async fn read(
        &self,
        _: Request<bytestream::ReadRequest>,
    ) -> Result<Response<Self::ReadStream>, Status> {
        // The huge stdout in chunks of 64 KiB (655 lines and a part), made as they go.
        let line = huge_line();
        let chunk = 64 << 10;
        let chunks = stream::unfold(0u64, move |sent| {
            let line = line.clone();
            async move {
                if sent >= HUGE {
                    return None;
                }
                let n = chunk.min(HUGE - sent);
                let data: Vec<u8> = (sent..sent + n)
                    .map(|i| line[(i % line.len() as u64) as usize])
                    .collect();
                Some((Ok(bytestream::ReadResponse { data }), sent + n))
            }
        });
        Ok(Response::new(Box::pin(chunks)))
    }

    async fn write(
        &self,
        _: Request<tonic::Streaming<bytestream::WriteRequest>>,
    ) -> Result<Response<bytestream::WriteResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }

    async fn query_write_status(
        &self,
        _: Request<bytestream::QueryWriteStatusRequest>,
    ) -> Result<Response<bytestream::QueryWriteStatusResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }
}

/// Starts the fake on a loopback port; it serves until the test process ends.
fn start(mode: Mode) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let digest = Arc::new(match mode {
        Mode::HugeStdout => huge_digest(),
        Mode::Silent => reapi::Digest::default(),
    });
    let fake = Fake { mode, digest };
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
            tonic::transport::Server::builder()
                .add_service(reapi::capabilities_server::CapabilitiesServer::new(
                    fake.clone(),
                ))
                .add_service(reapi::execution_server::ExecutionServer::new(fake.clone()))
                .add_service(
                    reapi::content_addressable_storage_server::ContentAddressableStorageServer::new(
                        fake.clone(),
                    ),
                )
                .add_service(bytestream::byte_stream_server::ByteStreamServer::new(fake))
                .serve_with_incoming(incoming)
                .await
                .unwrap();
        });
    });
    format!("grpc://127.0.0.1:{port}")
}

/// A workspace with one integration package and `[exec]` on the fake at `url`.
fn workspace(url: &str, exec_timeout: &str) -> Workspace {
    Workspace::fixture(
        "affected",
        &format!(
            "[test.integ]\npackages = [\"./pkga\"]\ninteg = true\ntimeout = \"1s\"\n\n[exec]\nremote = \"{url}\"\ntimeout = \"{exec_timeout}\"\n"
        ),
    )
}

/// Runs `cmd`, killing it after `limit`; returns (exit code, stdout, stderr, its own peak
/// RSS in KiB: `VmHWM`, sampled while it runs, so go's compile, a child, does not count),
/// or `None` when it had to be killed.
#[allow(clippy::zombie_processes)] // reaped with wait4 below, which std cannot see
fn run_measured(cmd: &mut Command, limit: Duration) -> Option<(i32, String, String, i64)> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reading_out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut text);
        text
    });
    let reading_err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut text);
        text
    });
    let started = Instant::now();
    let mut status = 0;
    // SAFETY: rusage is plain data filled by wait4 for the child this test spawned.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut peak = 0;
    loop {
        let status_file =
            std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if let Some(hwm) = status_file.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
            let kib: i64 = hwm
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .unwrap_or(0);
            peak = peak.max(kib);
        }
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if done == pid {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let code = match libc::WIFEXITED(status) {
        true => libc::WEXITSTATUS(status),
        false => -1,
    };
    Some((
        code,
        reading_out.join().unwrap(),
        reading_err.join().unwrap(),
        peak,
    ))
}

#[test]
fn a_server_that_takes_an_execute_and_never_answers_does_not_hang_the_run() {
    let url = start(Mode::Silent);
    let ws = workspace(&url, "2s");
    let started = Instant::now();
    let mut cmd = ws.gob(&["test", "--integ", "--json"]);
    let Some((code, stdout, stderr, _)) = run_measured(&mut cmd, Duration::from_secs(90)) else {
        panic!("gob waited for the silent server for 90s");
    };
    assert_eq!(code, 0, "{stderr}");
    let fallback = events(&stdout, "gob-remote-fallback");
    assert_eq!(fallback.len(), 1, "{stdout}");
    assert!(
        fallback[0]["Reason"]
            .as_str()
            .unwrap()
            .contains("no result from the cluster within"),
        "{fallback:?}"
    );
    assert!(
        stdout.contains("\"Action\":\"pass\",\"Package\":\"example.com/aff/pkga\""),
        "ran here"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let mut strict = ws.gob(&["test", "--integ", "--remote-exec-strict"]);
    let (code, stdout, _, _) = run_measured(&mut strict, Duration::from_secs(90)).unwrap();
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("remote execution failed: no result from the cluster"),
        "{stdout}"
    );
}

#[test]
fn a_huge_stdout_from_the_cluster_is_read_as_a_stream_and_kept_bounded() {
    let url = start(Mode::HugeStdout);
    let ws = workspace(&url, "60s");
    let mut cmd = gob_command();
    cmd.current_dir(ws.dir())
        .args(["test", "--integ", "--json"])
        .env("MALLOC_ARENA_MAX", "2");
    let (code, stdout, stderr, peak) = run_measured(&mut cmd, Duration::from_secs(300)).unwrap();
    eprintln!(
        "gob's peak RSS with a 64 MiB remote stdout: {} MiB",
        peak / 1024
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        events(&stdout, "gob-remote-fallback").is_empty(),
        "{stderr}"
    );
    assert!(
        stdout.contains("lines of output omitted"),
        "the omission is said"
    );
    let peak_mib = peak / 1024;
    assert!(peak_mib < 48, "gob held {peak_mib} MiB for a 64 MiB output");
}
