//! Turns the core's `Error` into a JS `Error` shaped like ali-oss's, with the fields ali-oss drops.

use wasm_bindgen::prelude::*;

use super::js_values::set;
use crate::error::Error;

/// A JS `Error` with `name`, `code`, `status`, `requestId`, `hostId`, `ecCode`, and for appends
/// `nextAppendPosition` / `crc64` (decimal strings). `params` describes the request without its body.
pub(crate) fn to_js_error(error: &Error, params: Option<&JsValue>) -> JsValue {
    let message = match error {
        // ali-oss puts OSS's own Message in `message`; keep that for drop-in compatibility.
        Error::Service(e) if !e.message.is_empty() => e.message.clone(),
        other => other.to_string(),
    };
    // An input of the wrong type is a TypeError, as JS APIs report it; `code` still says InvalidArgument.
    let js: js_sys::Error = match error {
        Error::InvalidArgument { what, .. } if what == "file" || what == "data" => {
            js_sys::TypeError::new(&message).unchecked_into()
        }
        _ => {
            let js = js_sys::Error::new(&message);
            js.set_name(&error.name());
            js
        }
    };
    let target: &JsValue = js.as_ref();
    set(target, "code", error.code());
    if let Some(status) = error.status() {
        set(target, "status", status);
    }
    if let Some(id) = error.request_id() {
        set(target, "requestId", id);
    }
    match error {
        Error::Service(e) => {
            if let Some(v) = &e.host_id {
                set(target, "hostId", v.as_str());
            }
            if let Some(v) = &e.ec {
                set(target, "ecCode", v.as_str());
            }
            if let Some(v) = &e.server_time {
                set(target, "serverTime", v.as_str());
            }
            if let Some(v) = e.next_append_position {
                set(target, "nextAppendPosition", v.to_string());
            }
            if let Some(v) = e.crc64 {
                set(target, "crc64", v.to_string());
            }
        }
        Error::CrcMismatch {
            next_position,
            local,
            server,
            ..
        } => {
            set(target, "nextAppendPosition", next_position.to_string());
            set(target, "crc64", server.to_string());
            set(target, "localCrc64", local.to_string());
            set(target, "serverCrc64", server.to_string());
        }
        Error::GaveUp { last, .. } => set(target, "cause", to_js_error(last, None)),
        Error::MissingExposedHeader { missing, .. } => {
            let list: js_sys::Array = missing.iter().map(|h| JsValue::from_str(h)).collect();
            set(target, "missingHeaders", list);
        }
        _ => {}
    }
    if let Some(p) = params {
        set(target, "params", p.clone());
    }
    js.into()
}

impl From<Error> for JsValue {
    fn from(error: Error) -> Self {
        to_js_error(&error, None)
    }
}
