//! A client of a Remote Execution API (REAPI v2) server over gRPC, as BuildBuddy, Buildbarn,
//! EngFlow, NativeLink and bazel-remote serve it: the channel (grpc:// or grpcs:// with the
//! system roots and an optional CA file), the auth header sent as metadata, the server's
//! capabilities asked once, the CAS ([`cas`]), input trees ([`tree`]) and Execute
//! ([`execute`]). The remote cache (cacheprog) and remote test execution share it.

pub mod cas;
pub mod execute;
pub mod tree;

use std::path::PathBuf;
use std::time::Duration;

use bazel_remote_apis::build::bazel::remote::execution::v2::{
    Digest, GetCapabilitiesRequest, capabilities_client::CapabilitiesClient, digest_function,
};
use sha2::{Digest as _, Sha256};
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// How to reach a server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The URL: `grpc://host:port` or `grpcs://host:port` (the remote cache also takes the
    /// Bazel HTTP protocol's `http://` and `https://`).
    pub url: String,
    /// An extra header (name, value) sent with every request, e.g. `x-buildbuddy-api-key`.
    pub auth: Option<(String, String)>,
    /// Connect timeout and the longest a call may take as a whole (for the cache's HTTP
    /// protocol: the longest wait for the next bytes of an answer).
    pub timeout: Duration,
    /// REAPI instance name.
    pub instance: String,
    /// A PEM file of CA certificates trusted besides the system's (grpcs:// only).
    pub ca_file: Option<PathBuf>,
}

/// A failed call: which, and gRPC's status code when the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// The status code, or `None` when the failure was gob's (a timeout, a bad answer).
    pub code: Option<tonic::Code>,
    /// What failed, for people.
    pub message: String,
}

impl CallError {
    /// A failure found by gob itself, not a status from the server.
    pub fn local(message: impl Into<String>) -> CallError {
        CallError {
            code: None,
            message: message.into(),
        }
    }

    fn status(call: &str, status: &tonic::Status) -> CallError {
        let code = status.code();
        let message = match code {
            tonic::Code::DeadlineExceeded => format!("{call}: timed out"),
            _ => format!("{call}: {code:?} {}", status.message())
                .trim_end()
                .to_string(),
        };
        CallError {
            code: Some(code),
            message,
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<CallError> for String {
    fn from(error: CallError) -> String {
        error.message
    }
}

/// What the server said it can do, asked once.
#[derive(Debug, Clone, Copy)]
pub struct Capabilities {
    /// The largest total of blobs in one batch call.
    pub batch_limit: u64,
    /// Whether the server executes actions.
    pub execution: bool,
}

/// The largest batch when the server states no limit (gRPC's default message limit is 4 MiB;
/// leave room for the envelope).
const DEFAULT_BATCH_LIMIT: u64 = 4 * 1024 * 1024 - 64 * 1024;

/// A client of one REAPI server. The channel connects on first use.
#[derive(Debug)]
pub struct Client {
    channel: Channel,
    instance: String,
    auth: Option<(AsciiMetadataKey, AsciiMetadataValue)>,
    timeout: Duration,
    capabilities: tokio::sync::OnceCell<Capabilities>,
}

impl Client {
    /// A client for `options`; nothing is sent yet.
    pub fn new(options: &ServerOptions) -> Result<Client, String> {
        let (scheme, rest) = options
            .url
            .split_once("://")
            .ok_or_else(|| format!("{} is not a URL", options.url))?;
        let tls = match scheme {
            "grpc" => false,
            "grpcs" => true,
            other => return Err(format!("unknown scheme {other}:// (grpc:// or grpcs://)")),
        };
        let http = format!("{}://{rest}", if tls { "https" } else { "http" });
        let mut endpoint = Endpoint::from_shared(http)
            .map_err(|e| format!("bad remote {}: {e}", options.url))?
            .connect_timeout(options.timeout);
        if tls {
            let mut config = ClientTlsConfig::new().with_native_roots();
            if let Some(ca) = &options.ca_file {
                let pem = std::fs::read(ca)
                    .map_err(|e| format!("cannot read ca_file {}: {e}", ca.display()))?;
                config = config.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint
                .tls_config(config)
                .map_err(|e| format!("TLS for {}: {e}", options.url))?;
        }
        let auth = match &options.auth {
            None => None,
            Some((name, value)) => {
                let key = AsciiMetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes())
                    .map_err(|e| format!("bad header name {name:?}: {e}"))?;
                let mut value = AsciiMetadataValue::try_from(value.as_str())
                    .map_err(|e| format!("bad value for header {name}: {e}"))?;
                value.set_sensitive(true);
                Some((key, value))
            }
        };
        Ok(Client {
            channel: endpoint.connect_lazy(),
            instance: options.instance.clone(),
            auth,
            timeout: options.timeout,
            capabilities: tokio::sync::OnceCell::new(),
        })
    }

    /// The instance name requests carry.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The channel, for a service client.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// `message` as a request carrying the auth header.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some((key, value)) = &self.auth {
            request.metadata_mut().insert(key.clone(), value.clone());
        }
        request
    }

    /// The longest one call may take.
    pub fn call_timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs one call (named `call` in errors) bounded by the timeout as a whole.
    pub async fn bounded<T>(
        &self,
        call: &str,
        future: impl std::future::Future<Output = Result<T, tonic::Status>>,
    ) -> Result<T, CallError> {
        match tokio::time::timeout(self.timeout, future).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(status)) => Err(CallError::status(call, &status)),
            Err(_) => Err(CallError {
                code: Some(tonic::Code::DeadlineExceeded),
                message: format!("{call}: timed out after {:?}", self.timeout),
            }),
        }
    }

    /// The server's capabilities; asks `GetCapabilities` the first time. A server that
    /// does not take SHA-256 digests is an error.
    pub async fn capabilities(&self) -> Result<Capabilities, CallError> {
        self.capabilities
            .get_or_try_init(|| async {
                let mut client = CapabilitiesClient::new(self.channel());
                let request = self.request(GetCapabilitiesRequest {
                    instance_name: self.instance.clone(),
                });
                let capabilities = self
                    .bounded("GetCapabilities", client.get_capabilities(request))
                    .await?
                    .into_inner();
                let sha256 = digest_function::Value::Sha256 as i32;
                let cache = capabilities.cache_capabilities.unwrap_or_default();
                if !cache.digest_functions.is_empty() && !cache.digest_functions.contains(&sha256) {
                    return Err(CallError::local(
                        "GetCapabilities: the server does not take SHA-256 digests",
                    ));
                }
                let execution = capabilities
                    .execution_capabilities
                    .is_some_and(|e| e.exec_enabled);
                let batch_limit = match u64::try_from(cache.max_batch_total_size_bytes) {
                    Ok(limit) if limit > 0 => limit.min(DEFAULT_BATCH_LIMIT),
                    _ => DEFAULT_BATCH_LIMIT,
                };
                Ok(Capabilities {
                    batch_limit,
                    execution,
                })
            })
            .await
            .copied()
    }

    /// A ByteStream resource name below the instance.
    pub fn resource(&self, rest: &str) -> String {
        match self.instance.is_empty() {
            true => rest.to_string(),
            false => format!("{}/{rest}", self.instance),
        }
    }
}

/// The SHA-256 digest of `bytes`.
pub fn digest_of(bytes: &[u8]) -> Digest {
    Digest {
        hash: hex(&Sha256::digest(bytes)),
        size_bytes: bytes.len() as i64,
    }
}

pub use crate::base::hash::hex;

/// The digest of a protobuf message's encoding, with the encoding.
pub fn message_blob(message: &impl prost::Message) -> (Digest, Vec<u8>) {
    let bytes = message.encode_to_vec();
    (digest_of(&bytes), bytes)
}
