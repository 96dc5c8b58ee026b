//! The OSS errors the emulator answers with: status, code, message, EC and the extra fields OSS adds.

/// One OSS error response before it is rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OssError {
    /// HTTP status.
    pub status: u16,
    /// `<Code>`.
    pub code: String,
    /// `<Message>`.
    pub message: String,
    /// `<EC>` and the `x-oss-ec` header.
    pub ec: Option<&'static str>,
    /// Further `<Error>` children in order (`StringToSign`, `Key`, ...); a `ServerTime` detail is
    /// rendered where OSS puts it.
    pub details: Vec<(String, String)>,
    /// Extra response headers (`x-oss-next-append-position` on a 409).
    pub headers: Vec<(String, String)>,
}

impl OssError {
    /// An error with no EC, details or extra headers.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            ec: None,
            details: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Sets the EC.
    #[must_use]
    pub fn ec(mut self, ec: &'static str) -> Self {
        self.ec = Some(ec);
        self
    }

    /// Adds an `<Error>` child.
    #[must_use]
    pub fn detail(mut self, name: &str, value: impl Into<String>) -> Self {
        self.details.push((name.to_owned(), value.into()));
        self
    }

    /// The `ServerTime` detail, when there is one.
    pub fn server_time(&self) -> Option<&str> {
        self.details
            .iter()
            .find(|(k, _)| k == "ServerTime")
            .map(|(_, v)| v.as_str())
    }

    /// Adds a response header.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// 400 InvalidArgument with `<ArgumentName>`/`<ArgumentValue>`.
    pub fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> Self {
        Self::new(400, "InvalidArgument", message)
            .detail("ArgumentName", name)
            .detail("ArgumentValue", value)
    }

    /// 404 NoSuchKey.
    pub fn no_such_key(key: &str) -> Self {
        Self::new(404, "NoSuchKey", "The specified key does not exist.")
            .detail("Key", key)
            .ec("0026-00000001")
    }

    /// 404 NoSuchBucket.
    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new(404, "NoSuchBucket", "The specified bucket does not exist.")
            .detail("BucketName", bucket)
            .ec("0015-00000101")
    }

    /// 409 PositionNotEqualToLength with the object's length in `x-oss-next-append-position`.
    pub fn position_not_equal(length: u64) -> Self {
        Self::new(
            409,
            "PositionNotEqualToLength",
            "Position is not equal to file length",
        )
        .ec("0026-00000016")
        .header("x-oss-next-append-position", length.to_string())
    }

    /// 409 ObjectNotAppendable.
    pub fn not_appendable() -> Self {
        Self::new(409, "ObjectNotAppendable", "The object is not appendable").ec("0026-00000017")
    }

    /// 403 AccessDenied.
    pub fn access_denied(message: impl Into<String>, ec: &'static str) -> Self {
        Self::new(403, "AccessDenied", message).ec(ec)
    }

    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message).ec("0001-00000001")
    }

    /// 400 RequestTimeout: the body stalled.
    pub fn request_timeout() -> Self {
        Self::new(
            400,
            "RequestTimeout",
            "Your socket connection to the server was not read from or written to within the timeout period.",
        )
        .ec("0002-00000017")
    }

    /// 400 EntityTooLarge: the object would pass the size limit.
    pub fn too_large(limit: u64) -> Self {
        Self::new(
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size.",
        )
        .detail("MaxSizeAllowed", limit.to_string())
        .ec("0026-00000005")
    }

    /// 400 IncompleteBody: fewer bytes than Content-Length arrived.
    pub fn incomplete_body() -> Self {
        Self::new(
            400,
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        )
        .ec("0016-00000303")
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        )
        .detail("Method", method)
        .detail("ResourceType", "Object")
        .ec("0016-00000101")
    }

    /// 501 NotImplemented.
    pub fn not_implemented(what: &str) -> Self {
        Self::new(
            501,
            "NotImplemented",
            format!("{what} is not implemented by the emulator."),
        )
    }
}
