//! One HTTP exchange through the global `fetch` (transport.js), with a timeout and the caller's AbortSignal.

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Blob};

use crate::error::Error;
use crate::http::Headers;
use crate::response::MAX_PARSED_BODY_BYTES;

#[wasm_bindgen(module = "/src/wasm/transport.js")]
extern "C" {
    #[wasm_bindgen(js_name = send)]
    fn js_send(
        method: &str,
        url: &str,
        headers: &str,
        body: JsValue,
        timeout_ms: f64,
        signal: Option<AbortSignal>,
        simple: bool,
        body_limit: f64,
    ) -> js_sys::Promise;
    #[wasm_bindgen(js_name = inBrowser)]
    fn js_in_browser() -> bool;
    #[wasm_bindgen(js_name = streamsBodies)]
    fn js_streams_bodies() -> bool;
    #[wasm_bindgen(js_name = ioTurn)]
    fn js_io_turn() -> js_sys::Promise;
}

/// Gives the runtime's own I/O a turn of the event loop (see transport.js).
pub(crate) async fn io_turn() {
    // It never rejects.
    let _ = JsFuture::from(js_io_turn()).await;
}

/// Whether this runtime enforces CORS (a browser page or worker, not Node): where `querySign: 'auto'`
/// signs appends in their query.
pub(crate) fn in_browser() -> bool {
    js_in_browser()
}

/// Whether request bodies may go out as streams ([`Body::Pieces`]): Node, not a page.
pub(crate) fn streams_bodies() -> bool {
    js_streams_bodies()
}

/// What goes out as the request body (cheap to clone: JS handles).
#[derive(Clone)]
pub(crate) enum Body {
    Empty,
    Bytes(Uint8Array),
    Blob(Blob),
    /// Byte arrays sent one after another as a stream of known length (Node only: browsers cannot stream a
    /// request body over HTTP/1.1). Node's fetch copies a byte-array body twice; a stream goes out as it is.
    Pieces(js_sys::Array),
}

impl Body {
    fn into_js(self) -> JsValue {
        match self {
            Body::Empty => JsValue::UNDEFINED,
            Body::Bytes(b) => b.into(),
            Body::Blob(b) => b.into(),
            Body::Pieces(p) => p.into(),
        }
    }
}

/// A response with every header the runtime lets us read and its body: whole for a successful GET, else
/// at most [`MAX_PARSED_BODY_BYTES`].
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) headers: Headers,
    /// The same headers as a JS object with lower-case names: ali-oss's `res.headers`.
    pub(crate) headers_object: Object,
    pub(crate) body: Uint8Array,
}

impl HttpResponse {
    pub(crate) fn body_bytes(&self) -> Vec<u8> {
        self.body.to_vec()
    }
}

/// Sends one request. The timeout covers the whole exchange, body included. Only a successful GET's body
/// is read whole; any other is read up to [`MAX_PARSED_BODY_BYTES`] (it is only ever parsed as an error).
/// `simple`: the request is query-signed and must stay a CORS simple request, so its body goes out without
/// a Content-Type.
///
/// # Errors
/// `Aborted` when `signal` fired, `Timeout` when `timeout_ms` passed, `Request` for network failures.
pub(crate) async fn send(
    method: &str,
    url: &str,
    headers: &Headers,
    body: Body,
    timeout_ms: u64,
    signal: Option<&AbortSignal>,
    simple: bool,
) -> Result<HttpResponse, Error> {
    if let Some(s) = signal {
        if s.aborted() {
            return Err(aborted(s));
        }
    }
    let mut lines = String::new();
    for (name, value) in headers.iter() {
        for part in [name, "\n", value, "\n"] {
            lines.push_str(part);
        }
    }
    let promise = js_send(
        method,
        url,
        &lines,
        body.into_js(),
        timeout_ms as f64,
        signal.cloned(),
        simple,
        f64::from(MAX_PARSED_BODY_BYTES),
    );
    match JsFuture::from(promise).await {
        Ok(answer) => Ok(read_answer(&answer.unchecked_into())),
        Err(failure) => Err(if let Some(s) = signal.filter(|s| s.aborted()) {
            aborted(s)
        } else if Reflect::get(&failure, &"timedOut".into()).is_ok_and(|t| t.is_truthy()) {
            Error::Timeout { timeout_ms }
        } else {
            network(&Reflect::get(&failure, &"error".into()).unwrap_or(failure))
        }),
    }
}

/// Reads transport.js's `[status, headerLines, headersObject, body]`.
fn read_answer(answer: &js_sys::Array) -> HttpResponse {
    let mut headers = Headers::new();
    let lines = answer.get(1).as_string().unwrap_or_default();
    let mut fields = lines.split('\n');
    while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
        headers.set(name, value);
    }
    HttpResponse {
        status: answer.get(0).as_f64().unwrap_or(0.0) as u16,
        headers,
        headers_object: answer.get(2).unchecked_into(),
        body: answer.get(3).unchecked_into(),
    }
}

/// `Aborted`, with the signal's reason when it gave one of its own.
pub(crate) fn aborted(signal: &AbortSignal) -> Error {
    let reason = signal.reason();
    let text = if reason.is_undefined() {
        None
    } else if let Some(s) = reason.as_string() {
        Some(s)
    } else {
        Reflect::get(&reason, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
    };
    Error::Aborted {
        reason: text.filter(|t| !t.is_empty() && t != "This operation was aborted"),
    }
}

fn network(e: &JsValue) -> Error {
    // A runtime may quote the URL it failed on; a query-signed one must not show its signature.
    Error::Request {
        message: crate::redact::redact_query_auth(&js_message(e)),
    }
}

/// The message of a thrown JS value, with its `cause` (Node's fetch puts the socket error there).
pub(crate) fn js_message(e: &JsValue) -> String {
    let get = |v: &JsValue, k: &str| {
        Reflect::get(v, &k.into())
            .ok()
            .filter(|x| !x.is_undefined() && !x.is_null())
    };
    let mut message = get(e, "message")
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into());
    if let Some(cause) = get(e, "cause") {
        let code = get(&cause, "code").and_then(|c| c.as_string());
        let text = get(&cause, "message").and_then(|c| c.as_string());
        match (code, text) {
            (Some(c), Some(t)) => message = format!("{message} ({c}: {t})"),
            (None, Some(t)) => message = format!("{message} ({t})"),
            (Some(c), None) => message = format!("{message} ({c})"),
            (None, None) => {}
        }
    }
    message
}
