//! Reads JS option objects into core types, with errors that name the option and what it accepts.

use std::cell::RefCell;

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::crc::parse_crc;
use super::source::describe;
use crate::error::Error;
use crate::ops::WriteOptions;
use crate::request::Headers;
use crate::validate::{self, IntegerInput};

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

/// Runs `f` with `key` as a JS string, made once per name: every call reads its options afresh, and copying
/// each name into JS again would cost more than the lookup itself.
fn with_js_key<T>(key: &'static str, f: impl FnOnce(&JsValue) -> T) -> T {
    thread_local! {
        static KEYS: RefCell<Vec<(&'static str, JsValue)>> = const { RefCell::new(Vec::new()) };
    }
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        let at = match keys.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                keys.push((key, JsValue::from_str(key)));
                keys.len() - 1
            }
        };
        f(&keys[at].1)
    })
}

/// A JS options object (or nothing), read field by field.
pub(crate) struct JsOptions<'a> {
    object: Option<&'a JsValue>,
    prefix: &'static str,
}

impl<'a> JsOptions<'a> {
    /// Wraps `value`, which must be an object, `undefined` or `null`. `prefix` names it in errors.
    pub(crate) fn new(value: &'a JsValue, prefix: &'static str) -> Result<Self, Error> {
        if value.is_undefined() || value.is_null() {
            return Ok(Self {
                object: None,
                prefix,
            });
        }
        if !value.is_object() || value.is_function() {
            return Err(Error::invalid(
                prefix,
                format!("expected an options object, got {}", describe(value)),
            ));
        }
        Ok(Self {
            object: Some(value),
            prefix,
        })
    }

    fn name(&self, key: &'static str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    /// The raw value of `key`, or `None` when absent, `undefined` or `null`.
    pub(crate) fn raw(&self, key: &'static str) -> Option<JsValue> {
        let object = self.object?;
        with_js_key(key, |k| Reflect::get(object, k))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    pub(crate) fn string(&self, key: &'static str) -> Result<Option<String>, Error> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => v.as_string().map(Some).ok_or_else(|| {
                Error::invalid(
                    self.name(key),
                    format!("expected a string, got {}", describe(&v)),
                )
            }),
        }
    }

    pub(crate) fn boolean(&self, key: &'static str) -> Result<Option<bool>, Error> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => v.as_bool().map(Some).ok_or_else(|| {
                Error::invalid(
                    self.name(key),
                    format!("expected true or false, got {}", describe(&v)),
                )
            }),
        }
    }

    /// A number, numeric string or bigint, left for the core to range-check.
    pub(crate) fn integer(&self, key: &'static str) -> Result<Option<IntegerInput>, Error> {
        self.raw(key)
            .map(|v| integer_input(&v, &self.name(key)))
            .transpose()
    }

    pub(crate) fn function(&self, key: &'static str) -> Result<Option<Function>, Error> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => v.dyn_into::<Function>().map(Some).map_err(|v| {
                Error::invalid(
                    self.name(key),
                    format!("expected a function, got {}", describe(&v)),
                )
            }),
        }
    }

    pub(crate) fn signal(&self, key: &'static str) -> Result<Option<AbortSignal>, Error> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => v.dyn_into::<AbortSignal>().map(Some).map_err(|v| {
                Error::invalid(
                    self.name(key),
                    format!("expected an AbortSignal, got {}", describe(&v)),
                )
            }),
        }
    }

    /// A plain object of string-convertible values, as `[name, value]` pairs in property order.
    pub(crate) fn pairs(&self, key: &'static str) -> Result<Vec<(String, String)>, Error> {
        let Some(v) = self.raw(key) else {
            return Ok(Vec::new());
        };
        if !v.is_object() || v.is_function() || js_sys::Array::is_array(&v) {
            return Err(Error::invalid(
                self.name(key),
                format!(
                    "expected a plain object of names to values, got {}",
                    describe(&v)
                ),
            ));
        }
        let mut out = Vec::new();
        for entry in Object::entries(v.unchecked_ref()).iter() {
            let entry: js_sys::Array = entry.unchecked_into();
            let name = entry.get(0).as_string().unwrap_or_default();
            let value = entry.get(1);
            if value.is_undefined() || value.is_null() {
                continue;
            }
            let text = if let Some(s) = value.as_string() {
                s
            } else if value.as_f64().is_some() || value.as_bool().is_some() || value.is_bigint() {
                to_text(&value)
            } else {
                return Err(Error::invalid(
                    format!("{}.{name}", self.name(key)),
                    format!("expected a string or number, got {}", describe(&value)),
                ));
            };
            out.push((name, text));
        }
        Ok(out)
    }

    pub(crate) fn headers(&self, key: &'static str) -> Result<Headers, Error> {
        Ok(self.pairs(key)?.into_iter().collect())
    }

    /// `timeout` in ms, or the client's.
    pub(crate) fn timeout_ms(&self, client_default: u64) -> Result<u64, Error> {
        match self.integer("timeout")? {
            Some(t) => validate::parse_timeout_ms(&self.name("timeout"), &t),
            None => Ok(client_default),
        }
    }

    /// `initCrc64`: the object's CRC-64 before the first append, as a decimal string or bigint.
    pub(crate) fn init_crc64(&self) -> Result<Option<u64>, Error> {
        self.raw("initCrc64")
            .map(|v| parse_crc(&v, &self.name("initCrc64")))
            .transpose()
    }

    /// `headers`, `meta` and `mime` (falling back to `default_mime`, e.g. a Blob's type).
    pub(crate) fn write_options(
        &self,
        default_mime: Option<String>,
    ) -> Result<WriteOptions, Error> {
        Ok(WriteOptions {
            headers: self.headers("headers")?,
            meta: self.pairs("meta")?,
            mime: self.string("mime")?.or(default_mime),
        })
    }
}

/// The object key from a JS `name`, checked and normalized (one leading `/` dropped, as ali-oss does).
pub(crate) fn object_key(name: &JsValue) -> Result<String, Error> {
    let name = name.as_string().ok_or_else(|| {
        Error::invalid(
            "name",
            "expected the object name as a string, e.g. 'rec/a.webm'",
        )
    })?;
    validate::normalize_key(&name)
}

/// A JS number, numeric string or bigint as the core's integer input.
pub(crate) fn integer_input(value: &JsValue, what: &str) -> Result<IntegerInput, Error> {
    if let Some(n) = value.as_f64() {
        Ok(IntegerInput::Number(n))
    } else if let Some(s) = value.as_string() {
        Ok(IntegerInput::Text(s))
    } else if value.is_bigint() {
        Ok(IntegerInput::BigInt(to_text(value)))
    } else {
        Err(Error::invalid(
            what,
            format!(
                "expected a number, a decimal string or a bigint, got {}",
                describe(value)
            ),
        ))
    }
}
