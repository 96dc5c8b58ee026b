//! Request signing for OSS: V1 (HMAC-SHA1) and V4 (OSS4-HMAC-SHA256), in headers or presigned queries.

/// Which OSS signature algorithm to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigningVersion {
    /// `OSS ak:signature` with HMAC-SHA1.
    V1,
    /// `OSS4-HMAC-SHA256` with a dated, regional scope.
    V4,
}

/// Everything besides the request, the credentials and the time that a signature depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningConfig {
    /// The algorithm.
    pub version: SigningVersion,
    /// The bare region id for the V4 scope (`cn-hangzhou`, or the CloudBox id); unused by V1.
    pub region: String,
    /// The V4 scope product: `oss`, or `oss-cloudbox` for CloudBox.
    pub product: String,
    /// Extra header names to include in a V4 signature (`AdditionalHeaders`).
    pub additional_headers: Vec<String>,
}
