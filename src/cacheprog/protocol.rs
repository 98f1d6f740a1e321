//! The GOCACHEPROG wire protocol (cmd/go/internal/cacheprog): JSON lines on stdin/stdout.
//!
//! go sends one [`Request`] per line; a `put` with `BodySize > 0` is followed by a line that
//! holds the body as a base64 JSON string. gob answers with one [`Response`] per line, in any
//! order, echoing the request's ID. `[]byte` fields are base64 strings in Go's JSON.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::io::BufRead;

/// The commands gob implements, announced in the first message.
pub const KNOWN_COMMANDS: [&str; 3] = ["get", "put", "close"];

/// One request from go, with its body already read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    /// Echoed in the response.
    #[serde(rename = "ID")]
    pub id: i64,
    /// `get`, `put` or `close`.
    pub command: String,
    /// The cache key (get, put).
    #[serde(rename = "ActionID", default, with = "base64_bytes")]
    pub action_id: Vec<u8>,
    /// The SHA-256 of the body (put).
    #[serde(rename = "OutputID", default, with = "base64_bytes")]
    pub output_id: Vec<u8>,
    /// Length of the body that follows (put).
    #[serde(default)]
    pub body_size: u64,
    /// The body (put), read from the line after the request.
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// One response to go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    /// The request's ID (0 for the capabilities message).
    #[serde(rename = "ID")]
    pub id: i64,
    /// An error go reports for this request.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub err: String,
    /// Only in the first message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub known_commands: Vec<String>,
    /// A get found nothing.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub miss: bool,
    /// A get hit's output ID.
    #[serde(
        rename = "OutputID",
        skip_serializing_if = "Vec::is_empty",
        with = "base64_bytes"
    )]
    pub output_id: Vec<u8>,
    /// A get hit's body size.
    #[serde(skip_serializing_if = "is_zero")]
    pub size: u64,
    /// When the entry was stored (RFC 3339), for go's expiry logic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Absolute path of a local file holding the body (get hit, put).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub disk_path: String,
}

impl Response {
    /// The capabilities message gob writes first.
    pub fn capabilities() -> Response {
        Response {
            known_commands: KNOWN_COMMANDS.iter().map(|c| c.to_string()).collect(),
            ..Response::default()
        }
    }

    /// The response line, newline included.
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A request stream that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// stdin failed.
    #[error("reading requests: {0}")]
    Io(#[from] std::io::Error),
    /// A line is not a request.
    #[error("bad request {line:?}: {detail}")]
    BadRequest {
        /// The line (cut short).
        line: String,
        /// Why.
        detail: String,
    },
}

/// Reads the next request (and its body); `None` at end of input.
pub fn read_request(input: &mut impl BufRead) -> Result<Option<Request>, ProtocolError> {
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let bad = |line: &str, detail: String| ProtocolError::BadRequest {
        line: line.chars().take(200).collect(),
        detail,
    };
    let mut request: Request =
        serde_json::from_str(&line).map_err(|e| bad(&line, e.to_string()))?;
    if request.command == "put" && request.body_size > 0 {
        // go's json.Encoder ends the request with a newline and go adds one more.
        let mut body_line = String::new();
        while body_line.trim().is_empty() {
            body_line.clear();
            if input.read_line(&mut body_line)? == 0 {
                return Err(bad(&line, "no body after a put with BodySize".into()));
            }
        }
        let encoded = body_line
            .trim()
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .ok_or_else(|| bad(&body_line, "the body is not a JSON string".into()))?;
        request.body = STANDARD
            .decode(encoded)
            .map_err(|e| bad(&body_line, format!("the body is not base64: {e}")))?;
        if request.body.len() as u64 != request.body_size {
            return Err(bad(
                &line,
                format!(
                    "BodySize {} but the body has {} bytes",
                    request.body_size,
                    request.body.len()
                ),
            ));
        }
    }
    Ok(Some(request))
}

/// serde for Go's `[]byte` JSON (base64, `null` for nil).
mod base64_bytes {
    use super::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map_or(Ok(Vec::new()), |t| {
            STANDARD.decode(t).map_err(serde::de::Error::custom)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> Result<Vec<Request>, ProtocolError> {
        let mut input = text.as_bytes();
        let mut requests = Vec::new();
        while let Some(r) = read_request(&mut input)? {
            requests.push(r);
        }
        Ok(requests)
    }

    /// The exact lines go's ProgCache writes (cache/prog.go: json.Encoder's line, another
    /// newline, then the body).
    #[test]
    fn reads_what_go_writes() {
        let action = STANDARD.encode([1u8; 32]);
        let output = STANDARD.encode([2u8; 32]);
        let text = format!(
            "{{\"ID\":1,\"Command\":\"get\",\"ActionID\":\"{action}\"}}\n\n\
             {{\"ID\":2,\"Command\":\"put\",\"ActionID\":\"{action}\",\"OutputID\":\"{output}\",\"BodySize\":5}}\n\n\
             \"aGVsbG8=\"\n\
             {{\"ID\":3,\"Command\":\"put\",\"ActionID\":\"{action}\",\"OutputID\":\"{output}\"}}\n\n\
             {{\"ID\":4,\"Command\":\"close\"}}\n\n"
        );
        let requests = read_all(&text).unwrap();
        assert_eq!(requests.len(), 4);
        assert_eq!(requests[0].action_id, vec![1u8; 32]);
        assert_eq!(requests[1].body, b"hello");
        assert_eq!(requests[1].output_id, vec![2u8; 32]);
        assert!(requests[2].body.is_empty(), "BodySize 0 has no body line");
        assert_eq!(requests[3].command, "close");
    }

    #[test]
    fn a_short_or_malformed_body_is_an_error() {
        let short = "{\"ID\":1,\"Command\":\"put\",\"BodySize\":9}\n\"aGVsbG8=\"\n";
        assert!(read_all(short).is_err());
        let bare = "{\"ID\":1,\"Command\":\"put\",\"BodySize\":5}\naGVsbG8=\n";
        assert!(read_all(bare).is_err());
        assert!(read_all("not json\n").is_err());
    }

    proptest::proptest! {
        /// Any input is requests or an error, never a panic; a body is never longer than said.
        #[test]
        fn fuzz_request_stream(text in "(\\{\"ID\":[0-9]{1,3},\"Command\":\"(get|put|close|x)\"(,\"BodySize\":[0-9]{1,2})?(,\"ActionID\":\"[A-Za-z0-9+/=]{0,8}\")?\\}\n\n?(\"[A-Za-z0-9+/=]{0,12}\"\n)?|\\PC{0,20}\n){0,6}") {
            if let Ok(requests) = read_all(&text) {
                for r in requests {
                    proptest::prop_assert!(r.body.len() as u64 == r.body_size || r.body.is_empty());
                }
            }
        }
    }

    #[test]
    fn responses_leave_out_empty_fields() {
        assert_eq!(
            Response::capabilities().to_line(),
            "{\"ID\":0,\"KnownCommands\":[\"get\",\"put\",\"close\"]}\n"
        );
        let miss = Response {
            id: 7,
            miss: true,
            ..Response::default()
        };
        assert_eq!(miss.to_line(), "{\"ID\":7,\"Miss\":true}\n");
        let hit = Response {
            id: 8,
            output_id: vec![0xff; 2],
            size: 3,
            disk_path: "/c/o".into(),
            ..Response::default()
        };
        assert_eq!(
            hit.to_line(),
            "{\"ID\":8,\"OutputID\":\"//8=\",\"Size\":3,\"DiskPath\":\"/c/o\"}\n"
        );
    }
}
