//! The remote cache over REAPI (gRPC): go's action IDs map to ActionCache entries (an
//! `ActionResult` whose one output file names the body, as on the HTTP path), bodies live in
//! the CAS ([`crate::reapi`] does the transfers). The channel connects on first use and
//! `GetCapabilities` is asked once, so a build whose lookups all hit locally never talks to
//! the server.

use bazel_remote_apis::build::bazel::remote::execution::v2::{
    ActionResult, Digest, GetActionResultRequest, OutputFile, UpdateActionResultRequest,
    action_cache_client::ActionCacheClient,
};

use super::action_result::{OUTPUT_PATH, hex, parse_hex};
use crate::reapi::Client;
use crate::reapi::ServerOptions as RemoteOptions;
use crate::reapi::cas::Blob;
use crate::reapi::cas::Lookup;

/// A client of one REAPI server, as a cache of go's actions.
#[derive(Debug)]
pub struct GrpcRemote {
    client: Client,
}

impl GrpcRemote {
    /// A client for `options` (`grpc://` or `grpcs://`); nothing is sent yet.
    pub fn new(options: &RemoteOptions) -> Result<GrpcRemote, String> {
        Client::new(options).map(|client| GrpcRemote { client })
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
    pub async fn record(&self, action: &[u8]) -> Result<Lookup<([u8; 32], u64)>, String> {
        let client = &self.client;
        client.capabilities().await?;
        let mut ac = ActionCacheClient::new(client.channel());
        let request = client.request(GetActionResultRequest {
            instance_name: client.instance().to_string(),
            action_digest: Some(Self::action_digest(action)),
            ..GetActionResultRequest::default()
        });
        let result = match client
            .bounded("GetActionResult", ac.get_action_result(request))
            .await
        {
            Ok(response) => response.into_inner(),
            Err(e) if e.code == Some(tonic::Code::NotFound) => return Ok(Lookup::Missing),
            Err(e) => return Err(e.into()),
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
    pub async fn blob(&self, output_id: &[u8; 32], size: u64) -> Result<Lookup<Vec<u8>>, String> {
        Ok(self
            .client
            .read(&Self::blob_digest(output_id, size))
            .await?)
    }

    /// Uploads a body (unless `None`: already sent) when the CAS lacks it, then the record
    /// naming it (in this order, so a record never names a blob the server lacks).
    pub async fn upload(
        &self,
        action: &[u8],
        output_id: &[u8; 32],
        size: u64,
        body: Option<Vec<u8>>,
    ) -> Result<(), String> {
        let client = &self.client;
        let digest = Self::blob_digest(output_id, size);
        if let Some(body) = body {
            client
                .upload_missing(vec![(digest.clone(), Blob::Bytes(body))])
                .await?;
        }
        let mut ac = ActionCacheClient::new(client.channel());
        let request = client.request(UpdateActionResultRequest {
            instance_name: client.instance().to_string(),
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
        client
            .bounded("UpdateActionResult", ac.update_action_result(request))
            .await?;
        Ok(())
    }
}
