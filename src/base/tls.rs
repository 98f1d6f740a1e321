//! The one TLS crypto provider gob ships: ring, for the HTTP cache client (reqwest) and the
//! gRPC clients (tonic, whose `tls-ring` feature picks it by itself). ring builds in seconds;
//! aws-lc, the rustls default, builds a C library from source and doubled gob's build time.

/// Makes ring the process-wide rustls provider; reqwest (built without a provider) panics on
/// its first TLS client otherwise. Idempotent: a second call finds it installed.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
