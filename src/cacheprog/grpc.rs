//! The Remote Execution API (REAPI v2) over gRPC, as BuildBuddy, Buildbarn, EngFlow,
//! NativeLink and bazel-remote serve it: go's action IDs map to ActionCache entries (an
//! `ActionResult` whose one output file names the body, as on the HTTP path), bodies live in
//! the CAS. Small blobs go through `BatchReadBlobs` / `BatchUpdateBlobs`, large ones through
//! ByteStream `Read` / `Write`; an upload first asks `FindMissingBlobs`. The channel connects
//! on first use and `GetCapabilities` is asked once, then (SHA-256 and the batch limit), so a
//! build whose lookups all hit locally never talks to the server.

use bazel_remote_apis::build::bazel::remote::execution::v2::{
    ActionResult, BatchReadBlobsRequest, BatchUpdateBlobsRequest, Digest, FindMissingBlobsRequest,
    GetActionResultRequest, GetCapabilitiesRequest, OutputFile, UpdateActionResultRequest,
    action_cache_client::ActionCacheClient, batch_update_blobs_request,
    capabilities_client::CapabilitiesClient,
    content_addressable_storage_client::ContentAddressableStorageClient, digest_function,
};
use bazel_remote_apis::google::bytestream::{
    ReadRequest, WriteRequest, byte_stream_client::ByteStreamClient,
};
use sha2::{Digest as _, Sha256};
use std::path::Path;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use super::action_result::{OUTPUT_PATH, hex, parse_hex};
use super::remote::{Lookup, RemoteError, RemoteOptions};

/// The largest blob sent or read in one batch request when the server states no limit
/// (gRPC's default message limit is 4 MiB; leave room for the envelope).
const DEFAULT_BATCH_LIMIT: u64 = 4 * 1024 * 1024 - 64 * 1024;
/// ByteStream writes send the body in chunks of this size.
const CHUNK: usize = 1024 * 1024;

/// A client of one REAPI server.
#[derive(Debug)]
pub struct GrpcRemote {
    channel: Channel,
    instance: String,
    auth: Option<(AsciiMetadataKey, AsciiMetadataValue)>,
    /// The batch limit, once `GetCapabilities` answered.
    batch_limit: tokio::sync::OnceCell<u64>,
}

impl GrpcRemote {
    /// A client for `options` (`grpc://` or `grpcs://`); nothing is sent yet.
    pub fn new(
        options: &RemoteOptions,
        instance: &str,
        ca_file: Option<&Path>,
    ) -> Result<GrpcRemote, String> {
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
            .connect_timeout(options.timeout)
            .timeout(options.timeout);
        if tls {
            let mut config = ClientTlsConfig::new().with_native_roots();
            if let Some(ca) = ca_file {
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
        Ok(GrpcRemote {
            channel: endpoint.connect_lazy(),
            instance: instance.to_string(),
            auth,
            batch_limit: tokio::sync::OnceCell::new(),
        })
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some((key, value)) = &self.auth {
            request.metadata_mut().insert(key.clone(), value.clone());
        }
        request
    }

    fn failed(&self, what: &str, status: &tonic::Status) -> RemoteError {
        let message = status.message();
        match status.code() {
            tonic::Code::DeadlineExceeded => format!("{what}: timed out"),
            code => format!("{what}: {code:?} {message}").trim_end().to_string(),
        }
    }

    /// The server's batch limit; asks `GetCapabilities` the first time.
    async fn batch_limit(&self) -> Result<u64, RemoteError> {
        self.batch_limit
            .get_or_try_init(|| async {
                let mut client = CapabilitiesClient::new(self.channel.clone());
                let request = self.request(GetCapabilitiesRequest {
                    instance_name: self.instance.clone(),
                });
                let capabilities = client
                    .get_capabilities(request)
                    .await
                    .map_err(|s| self.failed("GetCapabilities", &s))?
                    .into_inner();
                let cache = capabilities
                    .cache_capabilities
                    .ok_or("GetCapabilities: the server has no cache")?;
                let sha256 = digest_function::Value::Sha256 as i32;
                if !cache.digest_functions.is_empty() && !cache.digest_functions.contains(&sha256) {
                    return Err("GetCapabilities: the server does not take SHA-256 digests".into());
                }
                Ok(match u64::try_from(cache.max_batch_total_size_bytes) {
                    Ok(limit) if limit > 0 => limit.min(DEFAULT_BATCH_LIMIT),
                    _ => DEFAULT_BATCH_LIMIT,
                })
            })
            .await
            .copied()
    }

    /// The ActionCache key of a go action ID: its hex, with the size of the ID.
    fn action_digest(action: &[u8]) -> Digest {
        Digest {
            hash: hex(action),
            size_bytes: action.len() as i64,
        }
    }

    fn blob_digest(output_id: &[u8; 32], size: u64) -> Digest {
        Digest {
            hash: hex(output_id),
            size_bytes: size as i64,
        }
    }

    /// The output (SHA-256, size) recorded for `action`.
    pub async fn record(&self, action: &[u8]) -> Result<Lookup<([u8; 32], u64)>, RemoteError> {
        self.batch_limit().await?;
        let mut client = ActionCacheClient::new(self.channel.clone());
        let request = self.request(GetActionResultRequest {
            instance_name: self.instance.clone(),
            action_digest: Some(Self::action_digest(action)),
            ..GetActionResultRequest::default()
        });
        let result = match client.get_action_result(request).await {
            Ok(response) => response.into_inner(),
            Err(status) if status.code() == tonic::Code::NotFound => return Ok(Lookup::Missing),
            Err(status) => return Err(self.failed("GetActionResult", &status)),
        };
        let key = hex(action);
        let Some(file) = result.output_files.iter().find(|f| f.path == OUTPUT_PATH) else {
            return Ok(Lookup::Corrupt(format!(
                "ac/{key}: no output file named {OUTPUT_PATH}"
            )));
        };
        let parsed = file.digest.as_ref().and_then(|d| {
            let size = u64::try_from(d.size_bytes).ok()?;
            Some((parse_hex(&d.hash)?, size))
        });
        Ok(match parsed {
            Some(record) => Lookup::Found(record),
            None => Lookup::Corrupt(format!("ac/{key}: a bad digest")),
        })
    }

    /// The body whose SHA-256 is `output_id`, read whole and checked against it and `size`;
    /// a server sending more than `size` bytes is cut off.
    pub async fn blob(
        &self,
        output_id: &[u8; 32],
        size: u64,
    ) -> Result<Lookup<Vec<u8>>, RemoteError> {
        let limit = self.batch_limit().await?;
        let digest = Self::blob_digest(output_id, size);
        let name = format!("cas/{}", digest.hash);
        let body = if size <= limit {
            let mut client = ContentAddressableStorageClient::new(self.channel.clone());
            let request = self.request(BatchReadBlobsRequest {
                instance_name: self.instance.clone(),
                digests: vec![digest],
                ..BatchReadBlobsRequest::default()
            });
            let response = client
                .batch_read_blobs(request)
                .await
                .map_err(|s| self.failed("BatchReadBlobs", &s))?
                .into_inner();
            let Some(answer) = response.responses.into_iter().next() else {
                return Ok(Lookup::Corrupt(format!("{name}: an empty batch answer")));
            };
            match answer.status.map_or(0, |s| s.code) {
                0 => answer.data,
                5 => return Ok(Lookup::Missing),
                code => return Err(format!("BatchReadBlobs {name}: status {code}")),
            }
        } else {
            match self.read_stream(output_id, size).await? {
                Some(body) => body,
                None => return Ok(Lookup::Missing),
            }
        };
        Ok(if body.len() as u64 != size {
            Lookup::Corrupt(format!(
                "{name}: {} bytes, the record says {size}",
                body.len()
            ))
        } else if Sha256::digest(&body).as_slice() != output_id {
            Lookup::Corrupt(format!("{name}: the content does not match its SHA-256"))
        } else {
            Lookup::Found(body)
        })
    }

    /// A ByteStream read of a large blob; `None` when the server has none.
    async fn read_stream(
        &self,
        output_id: &[u8; 32],
        size: u64,
    ) -> Result<Option<Vec<u8>>, RemoteError> {
        let mut client = ByteStreamClient::new(self.channel.clone());
        let resource = self.resource(&format!("blobs/{}/{size}", hex(output_id)));
        let request = self.request(ReadRequest {
            resource_name: resource,
            read_offset: 0,
            read_limit: 0,
        });
        let mut stream = match client.read(request).await {
            Ok(response) => response.into_inner(),
            Err(status) if status.code() == tonic::Code::NotFound => return Ok(None),
            Err(status) => return Err(self.failed("ByteStream.Read", &status)),
        };
        let mut body = Vec::with_capacity(size.min(64 << 20) as usize);
        loop {
            match stream.message().await {
                Ok(Some(chunk)) => {
                    if body.len() as u64 + chunk.data.len() as u64 > size {
                        // Longer than the record says: corrupt; read no further.
                        body.extend_from_slice(&chunk.data[..(size as usize - body.len())]);
                        body.push(0);
                        return Ok(Some(body));
                    }
                    body.extend_from_slice(&chunk.data);
                }
                Ok(None) => return Ok(Some(body)),
                Err(status) if status.code() == tonic::Code::NotFound => return Ok(None),
                Err(status) => return Err(self.failed("ByteStream.Read", &status)),
            }
        }
    }

    fn resource(&self, rest: &str) -> String {
        match self.instance.is_empty() {
            true => rest.to_string(),
            false => format!("{}/{rest}", self.instance),
        }
    }

    /// Uploads a body (unless `None`: already sent) when the CAS lacks it, then the record
    /// naming it (in this order, so a record never names a blob the server lacks).
    pub async fn upload(
        &self,
        action: &[u8],
        output_id: &[u8; 32],
        size: u64,
        body: Option<Vec<u8>>,
    ) -> Result<(), RemoteError> {
        let limit = self.batch_limit().await?;
        let digest = Self::blob_digest(output_id, size);
        if let Some(body) = body {
            let mut cas = ContentAddressableStorageClient::new(self.channel.clone());
            let request = self.request(FindMissingBlobsRequest {
                instance_name: self.instance.clone(),
                blob_digests: vec![digest.clone()],
                ..FindMissingBlobsRequest::default()
            });
            let missing = cas
                .find_missing_blobs(request)
                .await
                .map_err(|s| self.failed("FindMissingBlobs", &s))?
                .into_inner()
                .missing_blob_digests;
            if !missing.is_empty() {
                if size <= limit {
                    let request = self.request(BatchUpdateBlobsRequest {
                        instance_name: self.instance.clone(),
                        requests: vec![batch_update_blobs_request::Request {
                            digest: Some(digest.clone()),
                            data: body,
                            ..Default::default()
                        }],
                        ..BatchUpdateBlobsRequest::default()
                    });
                    let response = cas
                        .batch_update_blobs(request)
                        .await
                        .map_err(|s| self.failed("BatchUpdateBlobs", &s))?
                        .into_inner();
                    if let Some(code) = response
                        .responses
                        .iter()
                        .filter_map(|r| r.status.as_ref())
                        .map(|s| s.code)
                        .find(|&c| c != 0)
                    {
                        return Err(format!(
                            "BatchUpdateBlobs cas/{}: status {code}",
                            digest.hash
                        ));
                    }
                } else {
                    self.write_stream(&digest, body).await?;
                }
            }
        }
        let mut ac = ActionCacheClient::new(self.channel.clone());
        let request = self.request(UpdateActionResultRequest {
            instance_name: self.instance.clone(),
            action_digest: Some(Self::action_digest(action)),
            action_result: Some(ActionResult {
                output_files: vec![OutputFile {
                    path: OUTPUT_PATH.to_string(),
                    digest: Some(digest),
                    ..OutputFile::default()
                }],
                ..ActionResult::default()
            }),
            ..UpdateActionResultRequest::default()
        });
        ac.update_action_result(request)
            .await
            .map_err(|s| self.failed("UpdateActionResult", &s))?;
        Ok(())
    }

    /// A ByteStream write of a large blob, in [`CHUNK`]s.
    async fn write_stream(&self, digest: &Digest, body: Vec<u8>) -> Result<(), RemoteError> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let uuid = format!("gob-{}-{n}", std::process::id());
        let resource = self.resource(&format!(
            "uploads/{uuid}/blobs/{}/{}",
            digest.hash, digest.size_bytes
        ));
        let total = body.len();
        let chunks: Vec<WriteRequest> = body
            .chunks(CHUNK)
            .enumerate()
            .map(|(i, chunk)| WriteRequest {
                resource_name: if i == 0 {
                    resource.clone()
                } else {
                    String::new()
                },
                write_offset: (i * CHUNK) as i64,
                finish_write: (i + 1) * CHUNK >= total,
                data: chunk.to_vec(),
            })
            .collect();
        let mut client = ByteStreamClient::new(self.channel.clone());
        let request = self.request(tokio_stream_of(chunks));
        let committed = client
            .write(request)
            .await
            .map_err(|s| self.failed("ByteStream.Write", &s))?
            .into_inner()
            .committed_size;
        if committed != total as i64 && committed != -1 {
            return Err(format!(
                "ByteStream.Write: {committed} of {total} bytes committed"
            ));
        }
        Ok(())
    }
}

/// A stream of `items` for a client-streaming call.
fn tokio_stream_of<T: Send + 'static>(items: Vec<T>) -> impl tokio_stream::Stream<Item = T> {
    tokio_stream::iter(items)
}
