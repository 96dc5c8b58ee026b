//! Caller values in and out: bytes, text and a value's description read without a JS exception reaching
//! wasm, and properties set on the results handed back.

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{Blob, ReadableStreamDefaultReader};

use crate::error::Error;

#[wasm_bindgen(module = "/src/wasm/inputs.js")]
extern "C" {
    #[wasm_bindgen(js_name = byteInput)]
    pub(crate) fn js_byte_input(value: &JsValue, copy: bool) -> Array;
    #[wasm_bindgen(js_name = appendInput)]
    pub(crate) fn js_append_input(value: &JsValue) -> Array;
    #[wasm_bindgen(js_name = subView)]
    pub(crate) fn js_sub_view(bytes: &Uint8Array, start: f64, end: f64) -> JsValue;
    #[wasm_bindgen(js_name = byteLength)]
    pub(crate) fn js_byte_length(bytes: &Uint8Array) -> f64;
    /// Marks a promise's rejection as handled (Node ends the process on an unhandled one).
    #[wasm_bindgen(js_name = quiet)]
    pub(crate) fn quiet(promise: &JsValue);
    // The other readers of caller values, declared here once: one import block per JS file.
    #[wasm_bindgen(js_name = entries)]
    pub(crate) fn js_entries(object: &JsValue, max: u32) -> Array;
    #[wasm_bindgen(js_name = isSignal)]
    pub(crate) fn js_is_signal(value: &JsValue) -> bool;
    #[wasm_bindgen(js_name = pause)]
    pub(crate) fn js_pause(ms: f64, signal: Option<&web_sys::AbortSignal>) -> js_sys::Promise;
    #[wasm_bindgen(js_name = within)]
    pub(crate) fn js_within(
        promise: &js_sys::Promise,
        timeout_ms: Option<f64>,
        signal: Option<&web_sys::AbortSignal>,
    ) -> js_sys::Promise;
}

/// A caller's value as inputs.js sorted it out, without a JS exception reaching wasm.
pub(crate) enum Sorted {
    /// Not a form this call accepts.
    Other,
    /// Bytes, attached and in bounds (a copy when asked, or when the buffer is resizable or shared).
    Bytes(Uint8Array),
    Blob(Blob),
    /// A ReadableStream's reader, taken.
    Stream(ReadableStreamDefaultReader),
    /// A value of an accepted form that cannot be used, and why (e.g. a detached buffer).
    Refused(String),
}

impl Sorted {
    pub(crate) fn from_answer(answer: &Array) -> Self {
        let payload = answer.get(1);
        match answer.get(0).as_f64().map(|t| t as u8) {
            Some(1) => Self::Bytes(payload.unchecked_into()),
            Some(2) => Self::Blob(payload.unchecked_into()),
            Some(3) => Self::Stream(payload.unchecked_into()),
            Some(4) => Self::Refused(payload.as_string().unwrap_or_default()),
            _ => Self::Other,
        }
    }
}

/// A byte value (`Uint8Array`, `Buffer`, `ArrayBuffer`, typed array or `DataView`) as a plain `Uint8Array`,
/// copied when `copy` is set (bytes the caller may reuse at once); `None` when `value` is not bytes.
///
/// # Errors
/// `InvalidArgument` naming `what` for bytes that cannot be read: a detached buffer, a view out of its
/// resizable buffer's bounds, a Proxy posing as a typed array.
pub(crate) fn byte_input(
    value: &JsValue,
    copy: bool,
    what: &str,
) -> Result<Option<Uint8Array>, Error> {
    match Sorted::from_answer(&js_byte_input(value, copy)) {
        Sorted::Bytes(bytes) => Ok(Some(bytes)),
        Sorted::Refused(reason) => Err(Error::invalid(what, reason)),
        _ => Ok(None),
    }
}

/// The length of a `Uint8Array`, exact past 4 GiB.
pub(crate) fn byte_length(bytes: &Uint8Array) -> u64 {
    js_byte_length(bytes) as u64
}

/// `bytes[start..end]` as a view, or `None` when the buffer was detached or shrank since it was checked.
pub(crate) fn sub_view(bytes: &Uint8Array, start: u64, end: u64) -> Option<Uint8Array> {
    let view = js_sub_view(bytes, start as f64, end as f64);
    (!view.is_undefined()).then(|| view.unchecked_into())
}

/// A short description of a JS value for error messages (its type, never its contents).
pub(crate) fn describe(value: &JsValue) -> String {
    if value.is_undefined() {
        return "undefined".into();
    }
    if value.is_null() {
        return "null".into();
    }
    if value.as_string().is_some() {
        return "a string".into();
    }
    if value.as_f64().is_some() {
        return "a number".into();
    }
    if value.is_bigint() {
        return "a bigint".into();
    }
    if value.is_function() {
        return "a function".into();
    }
    let name = js_sys::Reflect::get(value, &"constructor".into())
        .ok()
        .and_then(|c| js_sys::Reflect::get(&c, &"name".into()).ok())
        .and_then(|n| n.as_string())
        .filter(|n| !n.is_empty());
    match name {
        Some(n) => format!("a {n}"),
        None => "an object".into(),
    }
}

#[wasm_bindgen]
extern "C" {
    /// The global `String(value)`: a number, boolean or bigint as JS writes it.
    #[wasm_bindgen(js_name = String)]
    fn js_string(value: &JsValue) -> String;
}

/// `value` as JS's `String(value)` writes it (`7`, `true`, `12345678901234567890` for a bigint).
pub(crate) fn to_text(value: &JsValue) -> String {
    value.as_string().unwrap_or_else(|| js_string(value))
}

/// Sets `key` on a result object.
pub(crate) fn set(target: &JsValue, key: &str, value: impl Into<JsValue>) {
    // Setting a property on a fresh object cannot fail (only frozen or proxied ones refuse).
    let _ = Reflect::set(target, &JsValue::from_str(key), &value.into());
}
