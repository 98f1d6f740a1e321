//! The Bazel HTTP remote-cache protocol: `GET`/`PUT` of `<base>/cas/<sha256>` (content) and
//! `<base>/ac/<key>` (action results), as bazel-remote, nginx with WebDAV and most CI caches
//! serve it. Every read is verified; any answer that is not a clean hit, a 404 or a
//! success is an [`RemoteError`] (the caller stops using the remote).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};

use super::action_result::{self, hex};

/// How to reach the remote.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// Base URL, e.g. `http://cache:9090` or `https://host/prefix`.
    pub url: String,
    /// An extra request header (name, value), e.g. `Authorization: Bearer …`.
    pub auth: Option<(String, String)>,
    /// Connect timeout and the longest wait for the next bytes of an answer.
    pub timeout: Duration,
}

/// The remote failed (unreachable, timed out, refused, server error).
pub type RemoteError = String;

/// What a read found.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<T> {
    /// A verified entry.
    Found(T),
    /// Not there (404).
    Missing,
    /// There, but not what it claims to be: ignored.
    Corrupt(String),
}

/// A client of one remote cache.
#[derive(Debug, Clone)]
pub struct Remote {
    client: reqwest::Client,
    base: String,
}

impl Remote {
    /// A client for `options` (no request is made yet).
    pub fn new(options: &RemoteOptions) -> Result<Remote, String> {
        let mut headers = HeaderMap::new();
        if let Some((name, value)) = &options.auth {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|e| format!("bad header name {name:?}: {e}"))?;
            let mut value = HeaderValue::try_from(value.as_str())
                .map_err(|e| format!("bad value for header {name}: {e}"))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .redirect(same_origin_redirects())
            .connect_timeout(options.timeout)
            .read_timeout(options.timeout)
            .build()
            .map_err(|e| format!("cannot create an HTTP client: {e}"))?;
        Ok(Remote {
            client,
            base: options.url.trim_end_matches('/').to_string(),
        })
    }

    fn url(&self, kind: &str, key: &str) -> String {
        format!("{}/{kind}/{key}", self.base)
    }

    fn short<'u>(&self, url: &'u str) -> &'u str {
        url.strip_prefix(&self.base).unwrap_or(url)
    }

    async fn get(&self, url: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| describe("GET", self.short(url), &e))?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(None),
            status => return Err(format!("GET {}: HTTP {status}", self.short(url))),
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| describe("GET", self.short(url), &e))?;
        Ok(Some(body.to_vec()))
    }

    async fn put(&self, url: &str, body: Vec<u8>) -> Result<(), RemoteError> {
        let response = self
            .client
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
        Ok(match self.get(&url).await? {
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
        Ok(match self.get(&url).await? {
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
