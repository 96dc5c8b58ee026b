//! Every HTTP header name the crate sends or reads, as OSS spells it (header names compare case-insensitively).

/// `Authorization`: carries the V1 or V4 signature of a header-signed request.
pub(crate) const AUTHORIZATION: &str = "Authorization";
/// `Cache-Control`.
pub(crate) const CACHE_CONTROL: &str = "Cache-Control";
/// `Content-Disposition`.
pub(crate) const CONTENT_DISPOSITION: &str = "Content-Disposition";
/// `Content-Encoding`.
pub(crate) const CONTENT_ENCODING: &str = "Content-Encoding";
/// `Content-Length`: set by the transport from the body, never by a caller.
pub(crate) const CONTENT_LENGTH: &str = "Content-Length";
/// `Content-MD5`.
pub(crate) const CONTENT_MD5: &str = "Content-MD5";
/// `Content-Type`.
pub(crate) const CONTENT_TYPE: &str = "Content-Type";
/// `Date`: the signing time of V1, and the server's clock in an error answer.
pub(crate) const DATE: &str = "Date";
/// `ETag`.
pub(crate) const ETAG: &str = "ETag";
/// `Expires`.
pub(crate) const EXPIRES: &str = "Expires";
/// `Host`.
pub(crate) const HOST: &str = "Host";
/// `Last-Modified`.
pub(crate) const LAST_MODIFIED: &str = "Last-Modified";
/// `Range`.
pub(crate) const RANGE: &str = "Range";
/// `x-oss-content-sha256`: v4's payload hash (`UNSIGNED-PAYLOAD`).
pub(crate) const X_OSS_CONTENT_SHA256: &str = "x-oss-content-sha256";
/// `x-oss-date`: v4's signing time.
pub(crate) const X_OSS_DATE: &str = "x-oss-date";
/// `x-oss-delete-marker`. `true` when the answer concerns a delete marker (versioned buckets).
pub(crate) const X_OSS_DELETE_MARKER: &str = "x-oss-delete-marker";
/// `x-oss-ec`: oSS's detailed error code.
pub(crate) const X_OSS_EC: &str = "x-oss-ec";
/// `x-oss-err`: a base64 error document on bodiless answers (HEAD).
pub(crate) const X_OSS_ERR: &str = "x-oss-err";
/// `x-oss-hash-crc64ecma`: the whole object's CRC-64/XZ (ECMA-182), as a decimal.
pub(crate) const X_OSS_HASH_CRC64ECMA: &str = "x-oss-hash-crc64ecma";
/// `x-oss-meta-`: the prefix of user metadata headers.
pub(crate) const X_OSS_META_PREFIX: &str = "x-oss-meta-";
/// `x-oss-next-append-position`: the object's length after an append: where the next one starts.
pub(crate) const X_OSS_NEXT_APPEND_POSITION: &str = "x-oss-next-append-position";
/// `x-oss-object-acl`.
pub(crate) const X_OSS_OBJECT_ACL: &str = "x-oss-object-acl";
/// `x-oss-object-type`. `Normal`, `Appendable`, `Multipart` or `Symlink`.
pub(crate) const X_OSS_OBJECT_TYPE: &str = "x-oss-object-type";
/// `x-oss-request-id`.
pub(crate) const X_OSS_REQUEST_ID: &str = "x-oss-request-id";
/// `x-oss-sealed-time`: when SealAppendObject ended the object.
pub(crate) const X_OSS_SEALED_TIME: &str = "x-oss-sealed-time";
/// `x-oss-security-token`: the STS token of temporary credentials.
pub(crate) const X_OSS_SECURITY_TOKEN: &str = "x-oss-security-token";
/// `x-oss-server-side-data-encryption`.
pub(crate) const X_OSS_SERVER_SIDE_DATA_ENCRYPTION: &str = "x-oss-server-side-data-encryption";
/// `x-oss-server-side-encryption`.
pub(crate) const X_OSS_SERVER_SIDE_ENCRYPTION: &str = "x-oss-server-side-encryption";
/// `x-oss-server-side-encryption-key-id`.
pub(crate) const X_OSS_SERVER_SIDE_ENCRYPTION_KEY_ID: &str = "x-oss-server-side-encryption-key-id";
/// `x-oss-storage-class`.
pub(crate) const X_OSS_STORAGE_CLASS: &str = "x-oss-storage-class";
/// `x-oss-tagging`.
pub(crate) const X_OSS_TAGGING: &str = "x-oss-tagging";
/// `x-oss-version-id`.
pub(crate) const X_OSS_VERSION_ID: &str = "x-oss-version-id";
