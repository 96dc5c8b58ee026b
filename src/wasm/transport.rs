//! One HTTP exchange through the global `fetch`, with a timeout and the caller's AbortSignal.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Blob, RequestCache, RequestInit, Response};

use super::timer::Timeout;
use crate::error::Error;
use crate::request::Headers;

#[wasm_bindgen]
extern "C" {
    // The global `fetch`, not `window.fetch`: the same binding works in windows, workers and Node.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &RequestInit) -> js_sys::Promise;
}

/// What goes out as the request body (cheap to clone: JS handles).
#[derive(Clone)]
pub(crate) enum Body {
    Empty,
    Bytes(Uint8Array),
    Blob(Blob),
}

impl Body {
    fn as_js(&self) -> Option<JsValue> {
        match self {
            Body::Empty => None,
            // Chromium uploads a Blob body several times faster than the same bytes as a typed array, so
            // in browsers bytes go out as an untyped Blob (no type: fetch adds no Content-Type to sign).
            Body::Bytes(b) if in_browser() => {
                Blob::new_with_u8_array_sequence(&js_sys::Array::of1(b))
                    .ok()
                    .map(JsValue::from)
                    .or_else(|| Some(b.clone().into()))
            }
            Body::Bytes(b) => Some(b.clone().into()),
            Body::Blob(b) => Some(b.clone().into()),
        }
    }
}

/// Whether this runs in a browser window or worker (not Node).
fn in_browser() -> bool {
    thread_local! {
        static IN_BROWSER: bool = {
            let global = js_sys::global();
            global.dyn_ref::<web_sys::Window>().is_some() || global.dyn_ref::<web_sys::WorkerGlobalScope>().is_some()
        };
    }
    IN_BROWSER.with(|b| *b)
}

/// A response with every header the runtime lets us read and the body, read whole.
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) headers: Headers,
    pub(crate) body: Uint8Array,
}

impl HttpResponse {
    pub(crate) fn body_bytes(&self) -> Vec<u8> {
        self.body.to_vec()
    }
}

/// Sends one request. The timeout covers the whole exchange, body included.
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
) -> Result<HttpResponse, Error> {
    if let Some(s) = signal {
        if s.aborted() {
            return Err(aborted(s));
        }
    }
    let controller = AbortController::new().map_err(|e| network(&e))?;
    let timed_out = Rc::new(Cell::new(false));
    let _timer = {
        let controller = controller.clone();
        let timed_out = Rc::clone(&timed_out);
        Timeout::start(timeout_ms, move || {
            timed_out.set(true);
            controller.abort();
        })
    };
    let _link = signal.map(|s| AbortLink::new(s, &controller));

    let init = RequestInit::new();
    init.set_method(method);
    init.set_signal(Some(&controller.signal()));
    // A growing object must never be read from an HTTP cache. Only reads get no-store: with it, fetch adds
    // `Cache-Control: no-cache`, which a PUT or a first append would store as a creation attribute.
    if method == "GET" || method == "HEAD" {
        init.set_cache(RequestCache::NoStore);
    }
    let js_headers = web_sys::Headers::new().map_err(|e| network(&e))?;
    for (name, value) in headers.iter() {
        js_headers
            .append(name, value)
            .map_err(|e| Error::invalid(format!("header {name}"), js_message(&e)))?;
    }
    init.set_headers(&js_headers);
    if let Some(b) = body.as_js() {
        init.set_body(&b);
    }

    let outcome = async {
        let response: Response = JsFuture::from(global_fetch(url, &init)).await?.dyn_into()?;
        let status = response.status();
        let mut read = Headers::new();
        for entry in js_sys::try_iter(&response.headers())?.into_iter().flatten() {
            let pair: js_sys::Array = entry?.dyn_into()?;
            if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                read.set(k, v);
            }
        }
        let buffer = JsFuture::from(response.array_buffer()?).await?;
        Ok::<_, JsValue>(HttpResponse {
            status,
            headers: read,
            body: Uint8Array::new(&buffer),
        })
    }
    .await;

    outcome.map_err(|e| {
        if let Some(s) = signal.filter(|s| s.aborted()) {
            aborted(s)
        } else if timed_out.get() {
            Error::Timeout { timeout_ms }
        } else {
            network(&e)
        }
    })
}

fn aborted(signal: &AbortSignal) -> Error {
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
    Error::Request {
        message: js_message(e),
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

/// Forwards an abort of the caller's signal to our controller for as long as it lives.
pub(crate) struct AbortLink {
    signal: AbortSignal,
    callback: Closure<dyn FnMut()>,
}

impl AbortLink {
    pub(crate) fn new(signal: &AbortSignal, controller: &AbortController) -> Self {
        let controller = controller.clone();
        let callback = Closure::<dyn FnMut()>::new(move || controller.abort());
        let _ = signal.add_event_listener_with_callback("abort", callback.as_ref().unchecked_ref());
        Self {
            signal: signal.clone(),
            callback,
        }
    }
}

impl Drop for AbortLink {
    fn drop(&mut self) {
        let _ = self
            .signal
            .remove_event_listener_with_callback("abort", self.callback.as_ref().unchecked_ref());
    }
}
