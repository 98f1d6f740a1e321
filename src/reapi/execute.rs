//! Running one action on the cluster: for a cacheable action, its earlier result from the
//! action cache; else upload what the server lacks (input root, Command, Action), `Execute`, follow the operation stream to its end (once more through
//! `WaitExecution` when the stream breaks), then fetch stdout and stderr from the CAS.
//! Every way this can fail outside the action itself is a [`ExecFailure`] with its kind, so
//! the caller can fall back to running the action locally.

use std::collections::BTreeMap;
use std::time::Duration;

use bazel_remote_apis::build::bazel::remote::execution::v2::{
    Action, ActionResult, Command, Digest, ExecuteRequest, ExecuteResponse, GetActionResultRequest,
    Platform, WaitExecutionRequest, action_cache_client::ActionCacheClient,
    command::EnvironmentVariable, execution_client::ExecutionClient, platform::Property,
};
use bazel_remote_apis::google::longrunning::{Operation, operation};
use bazel_remote_apis::google::protobuf;
use prost::Message;

use super::cas::{Blob, Lookup};
use super::tree::InputRoot;
use super::{CallError, Client, message_blob};

/// One command to run remotely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionSpec {
    /// argv; the program relative to the working directory.
    pub arguments: Vec<String>,
    /// The environment, sorted by name.
    pub env: BTreeMap<String, String>,
    /// The working directory relative to the input root (empty: the root).
    pub working_directory: String,
    /// Platform properties the worker must offer.
    pub platform: BTreeMap<String, String>,
    /// The longest the action may run.
    pub timeout: Option<Duration>,
    /// Never serve this action from, or store it in, the action cache.
    pub do_not_cache: bool,
    /// Files the action writes that come back (relative to its working directory).
    pub output_paths: Vec<String>,
}

/// What an action wrote to stdout or stderr: inline in the result, or a blob in the CAS
/// (read with [`Client::read_output`], as a stream).
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The bytes, as the result held them.
    Inline(Vec<u8>),
    /// The blob that holds them.
    Stored(Digest),
}

/// An action that ran (or whose earlier result the cache served).
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// The process's exit code.
    pub exit_code: i32,
    /// What it wrote to stdout.
    pub stdout: Output,
    /// What it wrote to stderr.
    pub stderr: Output,
    /// The action cache served an earlier result.
    pub cached: bool,
    /// The output files it wrote, by path, as CAS blobs.
    pub files: Vec<(String, Digest)>,
    /// The server stopped it at its timeout.
    pub timed_out: bool,
    /// The worker that ran it, as the server names it.
    pub worker: String,
    /// Seconds from the start to the end of its execution on the worker, when stated.
    pub elapsed: Option<f64>,
}

/// Why an action could not be run remotely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The server cannot be reached, or refuses us (auth): nothing will run remotely.
    Unreachable,
    /// No worker offers the action's platform.
    NoWorker,
    /// The operation was lost: the worker died, the stream ended without a result.
    Lost,
    /// The result names outputs the CAS does not have.
    MissingOutputs,
}

/// A remote-execution failure (not a failure of the command itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecFailure {
    /// Its kind.
    pub kind: FailureKind,
    /// What happened.
    pub message: String,
}

impl std::fmt::Display for ExecFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ExecFailure {
    /// A failure of `kind`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> ExecFailure {
        ExecFailure {
            kind,
            message: message.into(),
        }
    }

    /// A failed upload or read: unreachable when the server could not be talked to.
    fn from_call(error: CallError, otherwise: FailureKind) -> ExecFailure {
        let kind = match error.code {
            Some(
                tonic::Code::Unavailable
                | tonic::Code::Unauthenticated
                | tonic::Code::PermissionDenied
                | tonic::Code::Unimplemented
                | tonic::Code::DeadlineExceeded,
            ) => FailureKind::Unreachable,
            _ => otherwise,
        };
        ExecFailure::new(kind, error.message)
    }
}

/// The Command message of `spec`.
pub fn command_of(spec: &ActionSpec) -> Command {
    Command {
        arguments: spec.arguments.clone(),
        environment_variables: spec
            .env
            .iter()
            .map(|(name, value)| EnvironmentVariable {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        working_directory: spec.working_directory.clone(),
        output_paths: spec.output_paths.clone(),
        ..Command::default()
    }
}

fn platform_of(spec: &ActionSpec) -> Option<Platform> {
    (!spec.platform.is_empty()).then(|| Platform {
        properties: spec
            .platform
            .iter()
            .map(|(name, value)| Property {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
    })
}

/// The Action message of `spec` over `input_root` and `command`.
pub fn action_of(spec: &ActionSpec, input_root: &Digest, command: &Digest) -> Action {
    Action {
        command_digest: Some(command.clone()),
        input_root_digest: Some(input_root.clone()),
        timeout: spec.timeout.map(|t| protobuf::Duration {
            seconds: t.as_secs() as i64,
            nanos: t.subsec_nanos() as i32,
        }),
        do_not_cache: spec.do_not_cache,
        platform: platform_of(spec),
        ..Action::default()
    }
}

impl Client {
    /// Runs `spec` over `root` remotely and returns what it did.
    pub async fn execute(
        &self,
        spec: &ActionSpec,
        root: InputRoot,
    ) -> Result<Finished, ExecFailure> {
        let capabilities = self
            .capabilities()
            .await
            .map_err(|e| ExecFailure::from_call(e, FailureKind::Unreachable))?;
        if !capabilities.execution {
            return Err(ExecFailure::new(
                FailureKind::NoWorker,
                "the server does not execute actions (GetCapabilities: exec_enabled is false)",
            ));
        }
        let (command_digest, command) = message_blob(&command_of(spec));
        let (action_digest, action) = message_blob(&action_of(spec, &root.digest, &command_digest));
        if !spec.do_not_cache
            && let Some(result) = self.cached_result(&action_digest).await
        {
            let response = ExecuteResponse {
                result: Some(result),
                cached_result: true,
                ..ExecuteResponse::default()
            };
            return self.finished(response).await;
        }
        let mut blobs = root.blobs;
        blobs.push((command_digest, Blob::Bytes(command)));
        blobs.push((action_digest.clone(), Blob::Bytes(action)));
        self.upload_missing(blobs)
            .await
            .map_err(|e| ExecFailure::from_call(e, FailureKind::Unreachable))?;
        let running = self.run_operation(&action_digest, spec.do_not_cache);
        let response = match spec.timeout {
            // A server that takes the call and never answers must not hang the run: the
            // action's own timeout, plus the time any other call may take.
            Some(timeout) => {
                let limit = timeout + self.call_timeout();
                tokio::time::timeout(limit, running).await.map_err(|_| {
                    ExecFailure::new(
                        FailureKind::Lost,
                        format!(
                            "no result from the cluster within {:.1}s (the action's timeout plus [exec] timeout)",
                            limit.as_secs_f64()
                        ),
                    )
                })??
            }
            None => running.await?,
        };
        self.finished(response).await
    }

    /// The action cache's result for `action`, if it has a successful one (schedulers such
    /// as Buildbarn's leave this lookup to the client, as Bazel does it).
    async fn cached_result(&self, action: &Digest) -> Option<ActionResult> {
        let mut client = ActionCacheClient::new(self.channel());
        let request = self.request(GetActionResultRequest {
            instance_name: self.instance().to_string(),
            action_digest: Some(action.clone()),
            inline_stdout: true,
            inline_stderr: true,
            ..GetActionResultRequest::default()
        });
        let result = self
            .bounded("GetActionResult", client.get_action_result(request))
            .await
            .ok()?
            .into_inner();
        (result.exit_code == 0).then_some(result)
    }

    async fn run_operation(
        &self,
        action: &Digest,
        do_not_cache: bool,
    ) -> Result<ExecuteResponse, ExecFailure> {
        let mut client = ExecutionClient::new(self.channel());
        let request = self.request(ExecuteRequest {
            instance_name: self.instance().to_string(),
            skip_cache_lookup: do_not_cache,
            action_digest: Some(action.clone()),
            ..ExecuteRequest::default()
        });
        let stream = self
            .bounded("Execute", client.execute(request))
            .await
            .map_err(|e| ExecFailure::from_call(e, FailureKind::Unreachable))?
            .into_inner();
        let mut name = String::new();
        match follow(stream, &mut name).await {
            Ok(response) => return Ok(response),
            Err(failure) if failure.kind != FailureKind::Lost || name.is_empty() => {
                return Err(failure);
            }
            Err(_) => {}
        }
        // The stream broke while the action ran: ask for the same operation once more.
        let request = self.request(WaitExecutionRequest { name: name.clone() });
        let stream = self
            .bounded("WaitExecution", client.wait_execution(request))
            .await
            .map_err(|e| ExecFailure::new(FailureKind::Lost, e.message))?
            .into_inner();
        follow(stream, &mut name).await
    }

    /// The result of a finished operation, with stdout and stderr read from the CAS.
    async fn finished(&self, response: ExecuteResponse) -> Result<Finished, ExecFailure> {
        let status = response.status.unwrap_or_default();
        let timed_out = status.code == tonic::Code::DeadlineExceeded as i32;
        let result = match (status.code, response.result) {
            (0, Some(result)) => result,
            (_, Some(result)) if timed_out => result,
            (code, _) => return Err(status_failure(code, &status.message, &response.message)),
        };
        let output = |raw: &[u8], digest: Option<&Digest>| match digest {
            Some(digest) if raw.is_empty() && digest.size_bytes > 0 => {
                Output::Stored(digest.clone())
            }
            _ => Output::Inline(raw.to_vec()),
        };
        let stdout = output(&result.stdout_raw, result.stdout_digest.as_ref());
        let stderr = output(&result.stderr_raw, result.stderr_digest.as_ref());
        let files = result
            .output_files
            .iter()
            .filter_map(|f| Some((f.path.clone(), f.digest.clone()?)))
            .collect();
        Ok(Finished {
            files,
            exit_code: result.exit_code,
            stdout,
            stderr,
            cached: response.cached_result,
            timed_out,
            worker: worker_of(&result),
            elapsed: elapsed_of(&result),
        })
    }

    /// Hands an action's output to `sink` as it arrives (never held whole), checked against
    /// its digest.
    pub async fn read_output(
        &self,
        output: &Output,
        sink: &mut (dyn FnMut(&[u8]) + Send),
    ) -> Result<(), ExecFailure> {
        let digest = match output {
            Output::Inline(bytes) => {
                sink(bytes);
                return Ok(());
            }
            Output::Stored(digest) => digest,
        };
        match self.read_chunks(digest, sink).await {
            Ok(Lookup::Found(())) => Ok(()),
            Ok(Lookup::Missing) => Err(ExecFailure::new(
                FailureKind::MissingOutputs,
                format!(
                    "the result names output cas/{} that the CAS does not have",
                    digest.hash
                ),
            )),
            Ok(Lookup::Corrupt(why)) => Err(ExecFailure::new(FailureKind::MissingOutputs, why)),
            Err(e) => Err(ExecFailure::from_call(e, FailureKind::MissingOutputs)),
        }
    }
}

/// Follows an operation stream to its last message; `name` gets the operation's name.
async fn follow(
    mut stream: tonic::codec::Streaming<Operation>,
    name: &mut String,
) -> Result<ExecuteResponse, ExecFailure> {
    loop {
        let operation = match stream.message().await {
            Ok(Some(operation)) => operation,
            Ok(None) => {
                return Err(ExecFailure::new(
                    FailureKind::Lost,
                    format!("operation {name}: the stream ended before the action finished"),
                ));
            }
            Err(status) => {
                let message = format!("operation {name}: {:?} {}", status.code(), status.message());
                let kind = match (status.code(), name.is_empty()) {
                    (tonic::Code::FailedPrecondition, _) => FailureKind::NoWorker,
                    (_, true) => FailureKind::Unreachable,
                    (_, false) => FailureKind::Lost,
                };
                return Err(ExecFailure::new(kind, message.trim_end()));
            }
        };
        if !operation.name.is_empty() {
            *name = operation.name.clone();
        }
        if !operation.done {
            continue;
        }
        return match operation.result {
            Some(operation::Result::Response(any)) => ExecuteResponse::decode(&*any.value)
                .map_err(|e| ExecFailure::new(FailureKind::Lost, format!("operation {name}: {e}"))),
            Some(operation::Result::Error(status)) => {
                Err(status_failure(status.code, &status.message, ""))
            }
            None => Err(ExecFailure::new(
                FailureKind::Lost,
                format!("operation {name}: done without a result"),
            )),
        };
    }
}

/// The failure a non-OK execution status stands for.
fn status_failure(code: i32, message: &str, server_message: &str) -> ExecFailure {
    let code = tonic::Code::from_i32(code);
    let kind = match code {
        tonic::Code::FailedPrecondition if message.contains("No workers") => FailureKind::NoWorker,
        tonic::Code::FailedPrecondition => FailureKind::MissingOutputs,
        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => FailureKind::Unreachable,
        _ => FailureKind::Lost,
    };
    let text = [message, server_message]
        .iter()
        .filter(|m| !m.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    ExecFailure::new(
        kind,
        format!("{code:?}: {text}")
            .trim_end_matches(": ")
            .to_string(),
    )
}

fn worker_of(result: &ActionResult) -> String {
    result
        .execution_metadata
        .as_ref()
        .map(|m| m.worker.clone())
        .unwrap_or_default()
}

fn elapsed_of(result: &ActionResult) -> Option<f64> {
    let metadata = result.execution_metadata.as_ref()?;
    let seconds = |t: &protobuf::Timestamp| t.seconds as f64 + f64::from(t.nanos) / 1e9;
    let start = metadata.execution_start_timestamp.as_ref()?;
    let end = metadata.execution_completed_timestamp.as_ref()?;
    Some((seconds(end) - seconds(start)).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ActionSpec {
        ActionSpec {
            arguments: vec!["./api.test".into(), "-test.v=test2json".into()],
            env: BTreeMap::from([("Z".into(), "1".into()), ("A".into(), "2".into())]),
            working_directory: "pkg/api".into(),
            platform: BTreeMap::from([
                ("container-image".into(), "docker://img".into()),
                ("OSFamily".into(), "linux".into()),
            ]),
            timeout: Some(Duration::from_millis(61_500)),
            do_not_cache: true,
            output_paths: Vec::new(),
        }
    }

    #[test]
    fn command_and_action_sort_env_and_platform_by_name() {
        let command = command_of(&spec());
        let names: Vec<&str> = command
            .environment_variables
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(names, ["A", "Z"]);
        assert_eq!(command.working_directory, "pkg/api");
        let digest = Digest::default();
        let action = action_of(&spec(), &digest, &digest);
        let platform = action.platform.unwrap();
        let keys: Vec<&str> = platform
            .properties
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(
            keys,
            ["OSFamily", "container-image"],
            "sorted by name, as REAPI requires"
        );
        let timeout = action.timeout.unwrap();
        assert_eq!((timeout.seconds, timeout.nanos), (61, 500_000_000));
        assert!(action.do_not_cache);
    }

    #[test]
    fn statuses_map_to_failure_kinds() {
        let no_worker = status_failure(9, "No workers exist for instance name prefix \"\"", "");
        assert_eq!(no_worker.kind, FailureKind::NoWorker);
        let missing = status_failure(9, "Failed to obtain input file", "");
        assert_eq!(missing.kind, FailureKind::MissingOutputs);
        let lost = status_failure(14, "Worker w1 disappeared while task was executing", "");
        assert_eq!(lost.kind, FailureKind::Lost);
        assert_eq!(
            lost.message,
            "Unavailable: Worker w1 disappeared while task was executing"
        );
        assert_eq!(status_failure(16, "", "").kind, FailureKind::Unreachable);
    }
}
