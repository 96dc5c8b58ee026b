//! Reads JS option objects into core types, with errors that name the option and what it accepts.

use std::cell::RefCell;

use js_sys::{Array, Function, JsString, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::crc::parse_crc;
use super::js_values::{describe, js_entries, js_is_signal, to_text};
use crate::error::Error;
use crate::http::Headers;
use crate::requests::WriteOptions;
use crate::validate::{self, IntegerInput, MAX_HEADER_BYTES, MAX_KEY_BYTES, MAX_USER_HEADERS};

/// The longest text option read, in UTF-16 units: far above any real value (an STS token is a few KB), and a
/// bound on what a runaway string costs before it is refused.
const MAX_OPTION_CHARS: u32 = 64 * 1024;

/// `value` as a Rust string when it is a JS string of at most `max` UTF-16 units; `Ok(None)` when it is not
/// a string. The length is checked before anything is copied into wasm.
///
/// # Errors
/// `InvalidArgument` naming `what` for a longer string.
pub(crate) fn bounded_text(value: &JsValue, what: &str, max: u32) -> Result<Option<String>, Error> {
    let Some(text) = value.dyn_ref::<JsString>() else {
        return Ok(None);
    };
    let len = text.length();
    if len > max {
        return Err(Error::invalid(
            what,
            format!("it is {len} characters long; at most {max} characters are accepted"),
        ));
    }
    Ok(text.as_string())
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

    /// The raw value of `key`, or `None` when absent, `undefined` or `null` (or when reading it throws).
    pub(crate) fn raw(&self, key: &'static str) -> Option<JsValue> {
        self.get(key).ok().flatten()
    }

    /// As [`raw`](Self::raw), but a getter or Proxy trap that throws is an error naming the option.
    fn get(&self, key: &'static str) -> Result<Option<JsValue>, Error> {
        let Some(object) = self.object else {
            return Ok(None);
        };
        let value = with_js_key(key, |k| Reflect::get(object, k)).map_err(|e| {
            Error::invalid(
                self.name(key),
                format!("reading it threw: {}", super::transport::js_message(&e)),
            )
        })?;
        Ok(Some(value).filter(|v| !v.is_undefined() && !v.is_null()))
    }

    pub(crate) fn string(&self, key: &'static str) -> Result<Option<String>, Error> {
        match self.get(key)? {
            None => Ok(None),
            Some(v) => bounded_text(&v, &self.name(key), MAX_OPTION_CHARS)?
                .map(Some)
                .ok_or_else(|| {
                    Error::invalid(
                        self.name(key),
                        format!("expected a string, got {}", describe(&v)),
                    )
                }),
        }
    }

    pub(crate) fn boolean(&self, key: &'static str) -> Result<Option<bool>, Error> {
        match self.get(key)? {
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
        self.get(key)?
            .map(|v| integer_input(&v, &self.name(key)))
            .transpose()
    }

    pub(crate) fn function(&self, key: &'static str) -> Result<Option<Function>, Error> {
        match self.get(key)? {
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
        match self.get(key)? {
            None => Ok(None),
            // A Proxy passes `instanceof` but not the platform's own checks, which would throw later.
            Some(v) if js_is_signal(&v) => Ok(Some(v.unchecked_into())),
            Some(v) => Err(Error::invalid(
                self.name(key),
                format!("expected an AbortSignal, got {}", describe(&v)),
            )),
        }
    }

    /// A plain object's own `[name, value]` entries in property order, at most [`MAX_USER_HEADERS`]; names
    /// are bounded in length.
    pub(crate) fn entries(&self, key: &'static str) -> Result<Vec<(String, JsValue)>, Error> {
        let Some(v) = self.get(key)? else {
            return Ok(Vec::new());
        };
        if !v.is_object() || v.is_function() {
            return Err(Error::invalid(
                self.name(key),
                format!(
                    "expected a plain object of names to values, got {}",
                    describe(&v)
                ),
            ));
        }
        // Read in JS, counted before anything is copied: a Proxy or a getter may throw, and a runaway object
        // is refused whole.
        let answer = js_entries(&v, MAX_USER_HEADERS as u32);
        if !answer.get(0).is_truthy() {
            return Err(Error::invalid(
                self.name(key),
                answer.get(1).as_string().unwrap_or_default(),
            ));
        }
        let entries: Array = answer.get(1).unchecked_into();
        let mut out = Vec::with_capacity(entries.length() as usize);
        for entry in entries.iter() {
            let entry: Array = entry.unchecked_into();
            let name = bounded_text(&entry.get(0), &self.name(key), MAX_HEADER_BYTES as u32)?
                .unwrap_or_default();
            out.push((name, entry.get(1)));
        }
        Ok(out)
    }

    /// A plain object of string-convertible values, as `[name, value]` pairs in property order; `null` and
    /// `undefined` values are left out.
    pub(crate) fn pairs(&self, key: &'static str) -> Result<Vec<(String, String)>, Error> {
        let mut out = Vec::new();
        for (name, value) in self.entries(key)? {
            if value.is_undefined() || value.is_null() {
                continue;
            }
            let what = format!("{}.{name}", self.name(key));
            out.push((name, scalar_text(&value, &what)?));
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
        self.get("initCrc64")?
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
    let Some(text) = name.dyn_ref::<JsString>() else {
        return Err(Error::invalid(
            "name",
            "expected the object name as a string, e.g. 'rec/a.webm'",
        ));
    };
    // A UTF-16 unit is at least one UTF-8 byte, so a longer name is refused before it is copied (one
    // leading '/' is dropped later, hence the +1).
    let units = text.length();
    if units as usize > MAX_KEY_BYTES + 1 {
        return Err(Error::invalid(
            "name",
            format!("it is {units} characters long; an object name of 1 to 1023 bytes of UTF-8 is accepted"),
        ));
    }
    // Lone surrogates arrive as U+FFFD; only then are the UTF-16 units read (one call each) to tell them from
    // a real U+FFFD.
    let mut name = text.as_string().unwrap_or_default();
    if name.chars().any(|c| c == '\u{FFFD}') {
        name = validate::decode_name(&text.iter().collect::<Vec<u16>>())?;
    }
    validate::normalize_key(&name)
}

/// A string (at most [`MAX_HEADER_BYTES`] long), number, boolean or bigint as text.
///
/// # Errors
/// `InvalidArgument` naming `what` for anything else, or a longer string.
pub(crate) fn scalar_text(value: &JsValue, what: &str) -> Result<String, Error> {
    if let Some(s) = bounded_text(value, what, MAX_HEADER_BYTES as u32)? {
        Ok(s)
    } else if value.as_f64().is_some() || value.as_bool().is_some() || value.is_bigint() {
        Ok(to_text(value))
    } else {
        Err(Error::invalid(
            what,
            format!("expected a string or number, got {}", describe(value)),
        ))
    }
}

/// A JS number, numeric string or bigint as the core's integer input.
pub(crate) fn integer_input(value: &JsValue, what: &str) -> Result<IntegerInput, Error> {
    if let Some(n) = value.as_f64() {
        Ok(IntegerInput::Number(n))
    } else if let Some(s) = bounded_text(value, what, MAX_OPTION_CHARS)? {
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
