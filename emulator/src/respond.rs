//! Building responses: the headers every OSS response carries, CORS, and rendered errors.

use std::io;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use oss_append::{ServiceError, SigningTime};

use crate::errors::OssError;

/// Every response body.
pub type RespBody = BoxBody<Bytes, io::Error>;

/// A body of `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> RespBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub fn empty() -> RespBody {
    Empty::new().map_err(|never| match never {}).boxed()
}

/// What a response needs to know about its request.
#[derive(Clone, Debug)]
pub struct RespCtx {
    /// `x-oss-request-id`.
    pub request_id: String,
    /// The server's now, unix milliseconds.
    pub now_ms: i64,
    /// `<HostId>`: the host the client addressed.
    pub host_id: String,
    /// The request's `Origin`, for CORS.
    pub origin: Option<String>,
    /// HEAD requests get no body; errors go in `x-oss-err`.
    pub is_head: bool,
}

/// What an operation asks the connection to do.
#[derive(Debug)]
pub enum Reply {
    /// Send this response.
    Ok(Response<RespBody>),
    /// Send this error; `drain` when the request body may still hold unread bytes.
    Err {
        /// The error.
        error: OssError,
        /// Whether the body is still unread.
        drain: bool,
    },
    /// Close the connection without a response.
    Close,
}

impl Reply {
    /// An error answered before the body was read.
    pub fn unread(error: OssError) -> Self {
        Self::Err { error, drain: true }
    }

    /// An error answered once the body was read.
    pub fn read(error: OssError) -> Self {
        Self::Err {
            error,
            drain: false,
        }
    }
}

/// Sets a header, skipping values HTTP cannot carry.
pub fn set(resp: &mut Response<RespBody>, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        resp.headers_mut().insert(n, v);
    }
}

/// An answer with `status` and no body.
pub fn empty_response(status: StatusCode) -> Response<RespBody> {
    let mut r = Response::new(empty());
    *r.status_mut() = status;
    set(&mut r, "content-length", "0");
    r
}

/// Adds the headers of every OSS response and, for cross-origin requests, the CORS ones.
pub fn finish(
    mut resp: Response<RespBody>,
    ctx: &RespCtx,
    expose: &[String],
) -> Response<RespBody> {
    set(&mut resp, "server", "AliyunOSS");
    set(
        &mut resp,
        "date",
        &SigningTime::from_unix_millis(ctx.now_ms).http_date(),
    );
    set(&mut resp, "x-oss-request-id", &ctx.request_id);
    if let Some(origin) = &ctx.origin {
        set(&mut resp, "access-control-allow-origin", origin);
        set(&mut resp, "vary", "Origin");
        set(
            &mut resp,
            "access-control-allow-methods",
            "GET, PUT, POST, DELETE, HEAD",
        );
        if !expose.is_empty() {
            set(
                &mut resp,
                "access-control-expose-headers",
                &expose.join(", "),
            );
        }
    }
    resp
}

/// The CORS preflight answer: everything allowed, requested headers echoed (before [`finish`]).
pub fn preflight(request_headers: Option<&str>) -> Response<RespBody> {
    let mut resp = Response::new(empty());
    set(&mut resp, "content-length", "0");
    if let Some(h) = request_headers {
        set(&mut resp, "access-control-allow-headers", h);
    }
    set(&mut resp, "access-control-max-age", "86400");
    resp
}

/// Renders `err` as OSS does (before [`finish`]): an XML body, or for HEAD no body and the XML
/// base64-encoded in `x-oss-err`; `x-oss-ec` carries the EC either way.
pub fn error(err: &OssError, ctx: &RespCtx) -> Response<RespBody> {
    let service = ServiceError {
        status: err.status,
        code: err.code.clone(),
        message: err.message.clone(),
        request_id: Some(ctx.request_id.clone()),
        host_id: Some(ctx.host_id.clone()),
        ec: err.ec.map(str::to_owned),
        server_time: err.server_time().map(str::to_owned),
        details: err
            .details
            .iter()
            .filter(|(k, _)| k != "ServerTime")
            .cloned()
            .collect(),
        ..ServiceError::default()
    };
    let xml = oss_append::xml::error_document(&service);
    let mut resp = if ctx.is_head {
        let mut r = Response::new(empty());
        set(&mut r, "x-oss-err", &STANDARD.encode(xml.as_bytes()));
        set(&mut r, "content-length", "0");
        r
    } else {
        let len = xml.len();
        let mut r = Response::new(full(xml));
        set(&mut r, "content-type", "application/xml");
        set(&mut r, "content-length", &len.to_string());
        r
    };
    *resp.status_mut() =
        hyper::StatusCode::from_u16(err.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(ec) = &err.ec {
        set(&mut resp, "x-oss-ec", ec);
    }
    for (k, v) in &err.headers {
        set(&mut resp, k, v);
    }
    resp
}

/// A JSON response (control plane).
pub fn json(status: u16, value: &serde_json::Value) -> Response<RespBody> {
    let body = serde_json::to_vec_pretty(value).unwrap_or_default();
    let len = body.len();
    let mut r = Response::new(full(body));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    set(&mut r, "content-type", "application/json");
    set(&mut r, "content-length", &len.to_string());
    r
}
