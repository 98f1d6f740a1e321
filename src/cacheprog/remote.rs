//! The remote: the Bazel HTTP protocol here, REAPI over gRPC in [`super::grpc`]. The HTTP protocol: `GET`/`PUT` of `<base>/cas/<sha256>` (content) and
//! `<base>/ac/<key>` (action results), as bazel-remote, nginx with WebDAV and most CI caches
//! serve it. Every read is verified; any answer that is not a clean hit, a 404 or a
//! success is an [`RemoteError`] (the caller stops using the remote).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};

use super::action_result::{self, hex};

/// How to reach the remote.
pub use crate::reapi::ServerOptions as RemoteOptions;
/// What a read found.
pub use crate::reapi::cas::Lookup;

/// The remote failed (unreachable, timed out, refused, server error).
pub type RemoteError = String;

/// A client of one remote cache: the Bazel HTTP protocol or REAPI over gRPC.
#[derive(Debug)]
pub enum Remote {
    /// `http://` or `https://`.
    Http(HttpRemote),
    /// `grpc://` or `grpcs://`.
    Grpc(super::grpc::GrpcRemote),
}

impl Remote {
    /// A client for `options` (no request is made yet).
    pub fn new(options: &RemoteOptions) -> Result<Remote, String> {
        if options.url.starts_with("grpc://") || options.url.starts_with("grpcs://") {
            return super::grpc::GrpcRemote::new(options).map(Remote::Grpc);
        }
        HttpRemote::new(options).map(Remote::Http)
    }

    /// The output (SHA-256, size) recorded for `action`.
    pub async fn record(&self, action: &[u8]) -> Result<Lookup<([u8; 32], u64)>, RemoteError> {
        match self {
            Remote::Http(r) => r.record(action).await,
            Remote::Grpc(r) => r.record(action).await,
        }
    }

    /// The body whose SHA-256 is `output_id`, checked against it and `size`.
    pub async fn blob(
        &self,
        output_id: &[u8; 32],
        size: u64,
    ) -> Result<Lookup<Vec<u8>>, RemoteError> {
        match self {
            Remote::Http(r) => r.blob(output_id, size).await,
            Remote::Grpc(r) => r.blob(output_id, size).await,
        }
    }

    /// Uploads a body (unless `None`: already sent), then the record naming it.
    pub async fn upload(
        &self,
        action: &[u8],
        output_id: &[u8; 32],
        size: u64,
        body: Option<Vec<u8>>,
    ) -> Result<(), RemoteError> {
        match self {
            Remote::Http(r) => r.upload(action, output_id, size, body).await,
            Remote::Grpc(r) => r.upload(action, output_id, size, body).await,
        }
    }
}

/// The most an `/ac/` record may take (gob's records are under 200 bytes).
const MAX_RECORD: u64 = 64 * 1024;

/// A client of a Bazel HTTP cache.
#[derive(Debug, Clone)]
pub struct HttpRemote {
    client: std::sync::OnceLock<reqwest::Client>,
    headers: HeaderMap,
    base: String,
    timeout: Duration,
}

impl HttpRemote {
    /// A client for `options` (no request is made yet).
    pub fn new(options: &RemoteOptions) -> Result<HttpRemote, String> {
        let mut headers = HeaderMap::new();
        if let Some((name, value)) = &options.auth {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|e| format!("bad header name {name:?}: {e}"))?;
            let mut value = HeaderValue::try_from(value.as_str())
                .map_err(|e| format!("bad value for header {name}: {e}"))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        Ok(HttpRemote {
            client: std::sync::OnceLock::new(),
            headers,
            base: options.url.trim_end_matches('/').to_string(),
            timeout: options.timeout,
        })
    }

    /// The HTTP client, made on first use: setting up TLS costs milliseconds that a build
    /// whose lookups all hit locally need not pay.
    fn client(&self) -> Result<&reqwest::Client, RemoteError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        crate::base::tls::install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .default_headers(self.headers.clone())
            .redirect(same_origin_redirects())
            .connect_timeout(self.timeout)
            .read_timeout(self.timeout);
        if self.base.starts_with("http://") {
            // Plain HTTP (redirects stay on this origin): loading the system's root
            // certificates would cost every go call milliseconds for nothing.
            builder = builder.tls_certs_only(std::iter::empty());
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot create an HTTP client: {e}"))?;
        Ok(self.client.get_or_init(|| client))
    }

    fn url(&self, kind: &str, key: &str) -> String {
        format!("{}/{kind}/{key}", self.base)
    }

    fn short<'u>(&self, url: &'u str) -> &'u str {
        url.strip_prefix(&self.base).unwrap_or(url)
    }

    /// GETs `url`, keeping at most `cap` bytes of the answer (one more shows it was longer:
    /// a corrupt entry, never a reason to hold an unbounded answer), within a deadline for
    /// the whole read: the timeout, plus one more for every 8 MiB expected.
    async fn get(&self, url: &str, cap: u64) -> Result<Option<Vec<u8>>, RemoteError> {
        let deadline = self.timeout * (1 + u32::try_from(cap >> 23).unwrap_or(u32::MAX - 1));
        let read = async {
            let mut response = self
                .client()?
                .get(url)
                .send()
                .await
                .map_err(|e| describe("GET", self.short(url), &e))?;
            match response.status() {
                StatusCode::OK => {}
                StatusCode::NOT_FOUND => return Ok(None),
                status => return Err(format!("GET {}: HTTP {status}", self.short(url))),
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| describe("GET", self.short(url), &e))?
            {
                let room = (cap + 1).saturating_sub(body.len() as u64) as usize;
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() as u64 > cap {
                    break;
                }
            }
            Ok(Some(body))
        };
        tokio::time::timeout(deadline, read)
            .await
            .unwrap_or_else(|_| Err(format!("GET {}: timed out", self.short(url))))
    }

    async fn put(&self, url: &str, body: Vec<u8>) -> Result<(), RemoteError> {
        let response = self
            .client()?
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .await
            .map_err(|e| describe("PUT", self.short(url), &e))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            let text = response.text().await.unwrap_or_default();
            let text = text.trim().chars().take(200).collect::<String>();
            Err(format!("PUT {}: HTTP {status} {text}", self.short(url)))
        }
    }

    /// The output (SHA-256, size) recorded for `action`.
    pub async fn record(&self, action: &[u8]) -> Result<Lookup<([u8; 32], u64)>, RemoteError> {
        let url = self.url("ac", &hex(action));
        Ok(match self.get(&url, MAX_RECORD).await? {
            None => Lookup::Missing,
            Some(bytes) => match action_result::decode(&bytes) {
                Ok(record) => Lookup::Found(record),
                Err(why) => Lookup::Corrupt(format!("{url}: {why}")),
            },
        })
    }

    /// The body whose SHA-256 is `output_id`, checked against it and `size`.
    pub async fn blob(
        &self,
        output_id: &[u8; 32],
        size: u64,
    ) -> Result<Lookup<Vec<u8>>, RemoteError> {
        let url = self.url("cas", &hex(output_id));
        Ok(match self.get(&url, size).await? {
            None => Lookup::Missing,
            Some(body) if body.len() as u64 != size => Lookup::Corrupt(format!(
                "{url}: {} bytes, the record says {size}",
                body.len()
            )),
            Some(body) if Sha256::digest(&body).as_slice() != output_id => {
                Lookup::Corrupt(format!("{url}: the content does not match its SHA-256"))
            }
            Some(body) => Lookup::Found(body),
        })
    }

    /// Uploads a body (unless `None`: already sent), then the record naming it (in this
    /// order, so a record never names a blob the server lacks).
    pub async fn upload(
        &self,
        action: &[u8],
        output_id: &[u8; 32],
        size: u64,
        body: Option<Vec<u8>>,
    ) -> Result<(), RemoteError> {
        if let Some(body) = body {
            self.put(&self.url("cas", &hex(output_id)), body).await?;
        }
        let record = action_result::encode(output_id, size);
        self.put(&self.url("ac", &hex(action)), record).await
    }
}

/// Redirects are followed only within the remote's origin (scheme, host and port): reqwest
/// drops only `Authorization` on a cross-origin redirect, and a custom auth header (e.g.
/// `x-api-key`) would reach the other host.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let origin = attempt.previous().first().map(reqwest::Url::origin);
        if attempt.previous().len() > 5 {
            attempt.error("more than 5 redirects")
        } else if origin.as_ref() == Some(&attempt.url().origin()) {
            attempt.follow()
        } else {
            let to = crate::base::redact::credentials(attempt.url().as_str());
            attempt.error(format!(
                "redirected to another origin ({to}), not followed: the auth header must not leave the remote"
            ))
        }
    })
}

/// One short line for a failed request: the method, the path below the base URL (the
/// warning names the base) and the root cause (reqwest's own message says little).
fn describe(method: &str, path: &str, error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    if error.is_timeout() {
        format!("{method} {path}: timed out")
    } else {
        format!("{method} {path}: {cause}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A loopback server answering every request with a 200 and `body`, one `step`-sized
    /// piece every `pause`.
    fn serve(body: Vec<u8>, step: usize, pause: Duration) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let Ok(mut stream) = stream else { continue };
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes());
                for piece in body.chunks(step) {
                    if stream.write_all(piece).is_err() {
                        break;
                    }
                    std::thread::sleep(pause);
                }
            }
        });
        url
    }

    fn remote(url: String, timeout: Duration) -> HttpRemote {
        HttpRemote::new(&RemoteOptions {
            url,
            auth: None,
            timeout,
            instance: String::new(),
            ca_file: None,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_huge_answer_to_a_record_read_is_corrupt_not_held() {
        let url = serve(vec![b'x'; 50 << 20], 1 << 20, Duration::ZERO);
        let found = remote(url, Duration::from_secs(10))
            .record(&[1; 32])
            .await
            .unwrap();
        assert!(matches!(found, Lookup::Corrupt(_)), "{found:?}");
    }

    #[tokio::test]
    async fn a_server_dripping_bytes_costs_one_deadline_not_one_per_read() {
        let url = serve(vec![b'x'; 100], 1, Duration::from_millis(200));
        let started = std::time::Instant::now();
        let error = remote(url, Duration::from_secs(1))
            .blob(&[2; 32], 100)
            .await
            .unwrap_err();
        assert!(error.contains("timed out"), "{error}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }
}
