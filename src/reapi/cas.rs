//! The content-addressable storage: which blobs the server lacks (`FindMissingBlobs`),
//! uploads (`BatchUpdateBlobs` for small blobs, ByteStream `Write` above the batch limit) and
//! verified reads (`BatchReadBlobs` or ByteStream `Read`, capped at the stated size).

use std::path::PathBuf;

use bazel_remote_apis::build::bazel::remote::execution::v2::{
    BatchReadBlobsRequest, BatchUpdateBlobsRequest, Digest, FindMissingBlobsRequest,
    batch_update_blobs_request,
    content_addressable_storage_client::ContentAddressableStorageClient,
};
use bazel_remote_apis::google::bytestream::{
    ReadRequest, WriteRequest, byte_stream_client::ByteStreamClient,
};
use sha2::{Digest as _, Sha256};

use super::{CallError, Client, hex};

/// ByteStream writes send a body in chunks of this size.
const CHUNK: usize = 1024 * 1024;

/// What a read found.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<T> {
    /// A verified entry.
    Found(T),
    /// Not there.
    Missing,
    /// There, but not what it claims to be: ignored.
    Corrupt(String),
}

/// Where the bytes of a blob to upload are.
#[derive(Debug, Clone)]
pub enum Blob {
    /// In memory.
    Bytes(Vec<u8>),
    /// In a file.
    File(PathBuf),
}

impl Blob {
    fn bytes(self) -> Result<Vec<u8>, CallError> {
        match self {
            Blob::Bytes(bytes) => Ok(bytes),
            Blob::File(path) => std::fs::read(&path)
                .map_err(|e| CallError::local(format!("cannot read {}: {e}", path.display()))),
        }
    }
}

impl Client {
    /// The digests among `digests` the server lacks.
    pub async fn find_missing(&self, digests: Vec<Digest>) -> Result<Vec<Digest>, CallError> {
        if digests.is_empty() {
            return Ok(Vec::new());
        }
        let mut cas = ContentAddressableStorageClient::new(self.channel());
        let request = self.request(FindMissingBlobsRequest {
            instance_name: self.instance().to_string(),
            blob_digests: digests,
            ..FindMissingBlobsRequest::default()
        });
        Ok(self
            .bounded("FindMissingBlobs", cas.find_missing_blobs(request))
            .await?
            .into_inner()
            .missing_blob_digests)
    }

    /// Uploads `blobs`: small ones together in batches under the server's limit, large ones
    /// one ByteStream write each.
    pub async fn upload(&self, blobs: Vec<(Digest, Blob)>) -> Result<(), CallError> {
        let limit = self.capabilities().await?.batch_limit;
        let mut batch: Vec<batch_update_blobs_request::Request> = Vec::new();
        let mut batch_bytes = 0u64;
        for (digest, blob) in blobs {
            let size = digest.size_bytes as u64;
            if size > limit {
                self.write_stream(&digest, blob.bytes()?).await?;
                continue;
            }
            if batch_bytes + size > limit {
                self.batch_update(std::mem::take(&mut batch)).await?;
                batch_bytes = 0;
            }
            batch_bytes += size;
            batch.push(batch_update_blobs_request::Request {
                digest: Some(digest),
                data: blob.bytes()?,
                ..Default::default()
            });
        }
        if !batch.is_empty() {
            self.batch_update(batch).await?;
        }
        Ok(())
    }

    /// Uploads the blobs of `blobs` the server lacks.
    pub async fn upload_missing(&self, blobs: Vec<(Digest, Blob)>) -> Result<(), CallError> {
        let missing = self
            .find_missing(blobs.iter().map(|(d, _)| d.clone()).collect())
            .await?;
        let wanted: std::collections::HashSet<&str> =
            missing.iter().map(|d| d.hash.as_str()).collect();
        let mut sent = std::collections::HashSet::new();
        let blobs = blobs
            .into_iter()
            .filter(|(d, _)| wanted.contains(d.hash.as_str()) && sent.insert(d.hash.clone()))
            .collect();
        self.upload(blobs).await
    }

    async fn batch_update(
        &self,
        requests: Vec<batch_update_blobs_request::Request>,
    ) -> Result<(), CallError> {
        let mut cas = ContentAddressableStorageClient::new(self.channel());
        let request = self.request(BatchUpdateBlobsRequest {
            instance_name: self.instance().to_string(),
            requests,
            ..BatchUpdateBlobsRequest::default()
        });
        let response = self
            .bounded("BatchUpdateBlobs", cas.batch_update_blobs(request))
            .await?
            .into_inner();
        for answer in response.responses {
            let code = answer.status.as_ref().map_or(0, |s| s.code);
            if code != 0 {
                let hash = answer.digest.map(|d| d.hash).unwrap_or_default();
                return Err(CallError::local(format!(
                    "BatchUpdateBlobs cas/{hash}: status {code}"
                )));
            }
        }
        Ok(())
    }

    /// A ByteStream write of a large blob, in [`CHUNK`]s.
    async fn write_stream(&self, digest: &Digest, body: Vec<u8>) -> Result<(), CallError> {
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
        let mut client = ByteStreamClient::new(self.channel());
        let request = self.request(tokio_stream::iter(chunks));
        let committed = self
            .bounded("ByteStream.Write", client.write(request))
            .await?
            .into_inner()
            .committed_size;
        if committed != total as i64 && committed != -1 {
            return Err(CallError::local(format!(
                "ByteStream.Write: {committed} of {total} bytes committed"
            )));
        }
        Ok(())
    }

    /// The blob `digest` names, checked against it.
    pub async fn read(&self, digest: &Digest) -> Result<Lookup<Vec<u8>>, CallError> {
        let size = u64::try_from(digest.size_bytes).unwrap_or(0);
        let mut body = Vec::with_capacity(size.min(64 << 20) as usize);
        let found = self
            .read_chunks(digest, &mut |chunk| body.extend_from_slice(chunk))
            .await?;
        Ok(match found {
            Lookup::Found(()) => Lookup::Found(body),
            Lookup::Missing => Lookup::Missing,
            Lookup::Corrupt(why) => Lookup::Corrupt(why),
        })
    }

    /// Hands the blob `digest` names to `sink` chunk by chunk as it arrives (a large one
    /// through ByteStream, never held whole), checking its size and SHA-256 as it goes: a
    /// blob that turns out not to match is `Corrupt`, after `sink` saw what came.
    pub async fn read_chunks(
        &self,
        digest: &Digest,
        sink: &mut (dyn FnMut(&[u8]) + Send),
    ) -> Result<Lookup<()>, CallError> {
        let limit = self.capabilities().await?.batch_limit;
        let size = u64::try_from(digest.size_bytes).unwrap_or(0);
        let name = format!("cas/{}", digest.hash);
        if size == 0 {
            return Ok(Lookup::Found(()));
        }
        let mut hasher = Sha256::new();
        let mut seen: u64 = 0;
        let mut take = |chunk: &[u8]| {
            hasher.update(chunk);
            seen += chunk.len() as u64;
            sink(chunk);
        };
        if size <= limit {
            let mut client = ContentAddressableStorageClient::new(self.channel());
            let request = self.request(BatchReadBlobsRequest {
                instance_name: self.instance().to_string(),
                digests: vec![digest.clone()],
                ..BatchReadBlobsRequest::default()
            });
            let response = self
                .bounded("BatchReadBlobs", client.batch_read_blobs(request))
                .await?
                .into_inner();
            let Some(answer) = response.responses.into_iter().next() else {
                return Ok(Lookup::Corrupt(format!("{name}: an empty batch answer")));
            };
            match answer.status.map_or(0, |s| s.code) {
                0 if answer.data.len() as u64 == size
                    && hex(&Sha256::digest(&answer.data)) == digest.hash =>
                {
                    take(&answer.data)
                }
                0 => {
                    return Ok(Lookup::Corrupt(format!(
                        "{name}: the content does not match its digest"
                    )));
                }
                5 => return Ok(Lookup::Missing),
                code => {
                    return Err(CallError::local(format!(
                        "BatchReadBlobs {name}: status {code}"
                    )));
                }
            }
            return Ok(Lookup::Found(()));
        }
        if !self.read_stream(digest, size, &mut take).await? {
            return Ok(Lookup::Missing);
        }
        Ok(if seen != size {
            Lookup::Corrupt(format!(
                "{name}: {seen} bytes or more, the digest says {size}"
            ))
        } else if hex(&hasher.finalize()) != digest.hash {
            Lookup::Corrupt(format!("{name}: the content does not match its SHA-256"))
        } else {
            Lookup::Found(())
        })
    }

    /// A ByteStream read of a large blob into `take`, chunk by chunk, no further than one
    /// byte past `size`; false when the server has none.
    async fn read_stream(
        &self,
        digest: &Digest,
        size: u64,
        take: &mut (dyn FnMut(&[u8]) + Send),
    ) -> Result<bool, CallError> {
        let mut client = ByteStreamClient::new(self.channel());
        let resource = self.resource(&format!("blobs/{}/{size}", digest.hash));
        let request = self.request(ReadRequest {
            resource_name: resource,
            read_offset: 0,
            read_limit: 0,
        });
        let read = async {
            let mut stream = match client.read(request).await {
                Ok(response) => response.into_inner(),
                Err(status) if status.code() == tonic::Code::NotFound => return Ok(false),
                Err(status) => return Err(status),
            };
            let mut seen: u64 = 0;
            loop {
                match stream.message().await {
                    Ok(Some(chunk)) => {
                        let room = (size + 1).saturating_sub(seen) as usize;
                        let part = &chunk.data[..chunk.data.len().min(room)];
                        seen += part.len() as u64;
                        take(part);
                        if seen > size {
                            // Longer than the digest says: corrupt; read no further.
                            return Ok(true);
                        }
                    }
                    Ok(None) => return Ok(true),
                    Err(status) if status.code() == tonic::Code::NotFound && seen == 0 => {
                        return Ok(false);
                    }
                    Err(status) => return Err(status),
                }
            }
        };
        self.bounded("ByteStream.Read", read).await
    }
}
