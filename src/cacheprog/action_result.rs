//! The action → output record as a Bazel `ActionResult` (REAPI v2 protobuf), so that servers
//! which validate `/ac/` entries (bazel-remote does by default) accept and serve it.
//!
//! Only the fields gob writes are declared, with their REAPI field numbers; fields a server
//! adds (bazel-remote fills `execution_metadata.worker`) are skipped when decoding.

/// `build.bazel.remote.execution.v2.Digest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Digest {
    /// Lowercase hex SHA-256 of the blob.
    #[prost(string, tag = "1")]
    pub hash: String,
    /// The blob's size in bytes.
    #[prost(int64, tag = "2")]
    pub size_bytes: i64,
}

/// `build.bazel.remote.execution.v2.OutputFile`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OutputFile {
    /// Relative path of the output.
    #[prost(string, tag = "1")]
    pub path: String,
    /// The CAS blob holding its content.
    #[prost(message, optional, tag = "2")]
    pub digest: Option<Digest>,
}

/// `build.bazel.remote.execution.v2.ActionResult` (the fields gob uses).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ActionResult {
    /// The action's outputs: gob writes exactly one.
    #[prost(message, repeated, tag = "2")]
    pub output_files: Vec<OutputFile>,
    /// Always 0: go only caches successful actions.
    #[prost(int32, tag = "4")]
    pub exit_code: i32,
}

/// The path gob gives the one output of a go action.
pub const OUTPUT_PATH: &str = "go-output";

/// Encodes the record for an action whose output is `output_id` (its SHA-256) of `size` bytes.
pub fn encode(output_id: &[u8; 32], size: u64) -> Vec<u8> {
    use prost::Message;
    ActionResult {
        output_files: vec![OutputFile {
            path: OUTPUT_PATH.to_string(),
            digest: Some(Digest {
                hash: hex(output_id),
                size_bytes: size as i64,
            }),
        }],
        exit_code: 0,
    }
    .encode_to_vec()
}

/// Decodes a record into the output's (SHA-256, size), or says why it is not one of gob's.
pub fn decode(bytes: &[u8]) -> Result<([u8; 32], u64), String> {
    use prost::Message;
    let result = ActionResult::decode(bytes).map_err(|e| format!("not an ActionResult: {e}"))?;
    let file = result
        .output_files
        .iter()
        .find(|f| f.path == OUTPUT_PATH)
        .ok_or_else(|| format!("no output file named {OUTPUT_PATH}"))?;
    let digest = file
        .digest
        .as_ref()
        .ok_or("the output file has no digest")?;
    let hash = parse_hex(&digest.hash).ok_or_else(|| format!("bad digest {:?}", digest.hash))?;
    let size = u64::try_from(digest.size_bytes).map_err(|_| "negative size".to_string())?;
    Ok((hash, size))
}

/// Lowercase hex of `bytes`.
pub use crate::reapi::hex;

/// Parses 64 lowercase hex digits.
pub fn parse_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips() {
        let id = [0xab; 32];
        let bytes = encode(&id, 1234);
        assert_eq!(decode(&bytes), Ok((id, 1234)));
    }

    /// The bytes protoc would write for this message, pinned so the wire format cannot drift:
    /// field 2 (output_files) holding path (1) and digest (2: hash 1, size_bytes 2).
    #[test]
    fn the_encoding_is_reapi_wire_format() {
        let bytes = encode(&[0x01; 32], 5);
        let digest_len = 2 + 64 + 2;
        let file_len = 2 + OUTPUT_PATH.len() + 2 + digest_len;
        assert_eq!(bytes[..2], [0x12, file_len as u8]);
        assert_eq!(bytes[2..4], [0x0a, OUTPUT_PATH.len() as u8]);
        let digest_at = 4 + OUTPUT_PATH.len();
        assert_eq!(
            bytes[digest_at..digest_at + 4],
            [0x12, digest_len as u8, 0x0a, 64]
        );
        assert_eq!(bytes[bytes.len() - 2..], [0x10, 5]);
    }

    #[test]
    fn fields_a_server_adds_are_skipped() {
        // execution_metadata (9) { worker (1): "10.0.0.1" }, as bazel-remote adds it.
        let mut bytes = encode(&[7; 32], 9);
        bytes.extend([0x4a, 10, 0x0a, 8]);
        bytes.extend(b"10.0.0.1");
        assert_eq!(decode(&bytes), Ok(([7; 32], 9)));
    }

    proptest::proptest! {
        /// Whatever a server answers, decoding returns, and a success names 32 bytes.
        #[test]
        fn fuzz_decode_any_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn fuzz_encode_decode_round_trip(id in proptest::array::uniform32(proptest::num::u8::ANY), size in 0u64..1 << 40) {
            proptest::prop_assert_eq!(decode(&encode(&id, size)), Ok((id, size)));
        }
    }

    #[test]
    fn garbage_and_foreign_records_are_errors() {
        assert!(decode(b"\xff\xff\xff").is_err());
        assert!(decode(b"").is_err(), "an empty message has no output");
        use prost::Message;
        let foreign = ActionResult {
            output_files: vec![OutputFile {
                path: "bazel-out/k8/bin/foo".into(),
                digest: None,
            }],
            exit_code: 0,
        };
        assert!(decode(&foreign.encode_to_vec()).is_err());
        let bad_hash = ActionResult {
            output_files: vec![OutputFile {
                path: OUTPUT_PATH.into(),
                digest: Some(Digest {
                    hash: "XYZ".into(),
                    size_bytes: 1,
                }),
            }],
            exit_code: 0,
        };
        assert!(decode(&bad_hash.encode_to_vec()).is_err());
    }
}
