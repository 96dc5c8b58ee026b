//! The CRC-64 helpers exported to JS: `crc64`, `Crc64`, `combineCrc64`; values cross as decimal strings.

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

use super::js_values::{byte_input, sub_view, to_text};
use super::transport::io_turn;
use crate::crc64;
use crate::error::Error;

/// Bytes are copied into wasm memory this many at a time, so memory stays flat for any input size. It is
/// also the stretch the wasm CRC folds in one pass (`crc64::Crc64` on wasm32), so no chunk is staged.
const COPY_CHUNK: u32 = 1 << 20;

/// Feeds a JS `Uint8Array`/`Buffer`/`ArrayBuffer`/string into `state` through a reused buffer.
pub(crate) fn feed(state: &mut crc64::Crc64, data: &JsValue, what: &str) -> Result<(), Error> {
    if let Some(text) = data.as_string() {
        state.update(text.as_bytes());
        return Ok(());
    }
    let Some(bytes) = byte_input(data, false, what)? else {
        return Err(Error::invalid(
            what,
            "expected a Uint8Array, Buffer, ArrayBuffer, typed array view or string",
        ));
    };
    // Nothing runs between the check and the read, so the bytes cannot go away meanwhile.
    feed_bytes(state, &bytes);
    Ok(())
}

/// Feeds a `Uint8Array` chunk by chunk; stops early if its buffer goes away (the caller's length check
/// then tells).
pub(crate) fn feed_bytes(state: &mut crc64::Crc64, bytes: &Uint8Array) {
    let mut buf = Vec::new();
    let len = bytes.length();
    let mut at = 0;
    while at < len {
        match feed_chunk(state, &mut buf, bytes, at, len) {
            Some(next) => at = next,
            None => return,
        }
    }
}

/// As [`feed_bytes`], but an input of several chunks gives the runtime's I/O a turn before each chunk: Node's
/// fetch writes request bodies from this thread, and a part's CRC must not stall the upload running beside it.
/// `None` when the bytes were detached or shrank meanwhile (caller code runs during those turns).
pub(crate) async fn try_feed_bytes_beside_io(
    state: &mut crc64::Crc64,
    bytes: &Uint8Array,
) -> Option<()> {
    let mut buf = Vec::new();
    let len = bytes.length();
    let mut at = 0;
    while at < len {
        if len > COPY_CHUNK {
            io_turn().await;
        }
        at = feed_chunk(state, &mut buf, bytes, at, len)?;
    }
    Some(())
}

/// Copies the chunk of `bytes` (`len` long when checked) at `at` into `buf`, feeds it, and returns where the
/// next chunk starts; `None` when the chunk is no longer there.
fn feed_chunk(
    state: &mut crc64::Crc64,
    buf: &mut Vec<u8>,
    bytes: &Uint8Array,
    at: u32,
    len: u32,
) -> Option<u32> {
    let n = len.saturating_sub(at).min(COPY_CHUNK);
    let chunk = sub_view(bytes, u64::from(at), u64::from(at + n))?;
    if chunk.length() != n {
        return None;
    }
    // Never zeroed: the copy writes what the CRC then reads.
    buf.reserve(n as usize);
    let copied = chunk.copy_to_uninit(&mut buf.spare_capacity_mut()[..n as usize]);
    state.update(copied);
    Some(at + n)
}

/// Parses a CRC given as a decimal string, a bigint or a safe integer number.
pub(crate) fn parse_crc(value: &JsValue, what: &str) -> Result<u64, Error> {
    let text = if let Some(s) = value.as_string() {
        s
    } else if value.is_bigint() {
        to_text(value)
    } else if let Some(n) = value.as_f64() {
        if n.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&n) {
            return Err(Error::invalid(what, "a number CRC must be a safe non-negative integer; pass larger CRCs as decimal strings"));
        }
        return Ok(n as u64);
    } else {
        return Err(Error::invalid(
            what,
            "expected a CRC-64 as a decimal string (as in x-oss-hash-crc64ecma) or a bigint",
        ));
    };
    crc64::parse_decimal(&text).ok_or_else(|| {
        Error::invalid(
            what,
            format!(
                "'{}' is not an unsigned 64-bit decimal integer",
                truncate(&text)
            ),
        )
    })
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

/// CRC-64/XZ (OSS `x-oss-hash-crc64ecma`) of `data`, as a decimal string.
#[wasm_bindgen(js_name = crc64)]
pub fn crc64_js(data: &JsValue) -> Result<String, JsValue> {
    let mut state = crc64::Crc64::new();
    feed(&mut state, data, "data")?;
    Ok(state.value().to_string())
}

/// `crc(A‖B)` from `crc(A)`, `crc(B)` and `len(B)`, all CRCs as decimal strings.
#[wasm_bindgen(js_name = combineCrc64)]
pub fn combine_crc64_js(
    crc_a: &JsValue,
    crc_b: &JsValue,
    len_b: &JsValue,
) -> Result<String, JsValue> {
    let a = parse_crc(crc_a, "crcA")?;
    let b = parse_crc(crc_b, "crcB")?;
    let len = parse_crc(len_b, "lenB").map_err(|_| {
        Error::invalid(
            "lenB",
            "expected a non-negative integer (number, bigint or decimal string)",
        )
    })?;
    Ok(crc64::combine(a, b, len).to_string())
}

/// Streaming CRC-64/XZ: `new Crc64(initCrc?)`, `update(bytes)`, `digest()`.
#[wasm_bindgen(js_name = Crc64)]
#[derive(Debug)]
pub struct Crc64Js {
    state: crc64::Crc64,
}

#[wasm_bindgen(js_class = Crc64)]
impl Crc64Js {
    /// Starts empty, or continuing `initCrc` (the CRC of data that came before).
    #[wasm_bindgen(constructor)]
    pub fn new(init_crc: &JsValue) -> Result<Crc64Js, JsValue> {
        let prior = if init_crc.is_undefined() || init_crc.is_null() {
            0
        } else {
            parse_crc(init_crc, "initCrc")?
        };
        Ok(Self {
            state: crc64::Crc64::continuing(prior),
        })
    }

    /// Feeds bytes (Uint8Array, Buffer, ArrayBuffer, or a string as UTF-8).
    pub fn update(&mut self, data: &JsValue) -> Result<(), JsValue> {
        feed(&mut self.state, data, "data")?;
        Ok(())
    }

    /// The CRC so far, as a decimal string.
    pub fn digest(&self) -> String {
        self.state.value().to_string()
    }

    /// How many bytes were fed.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> f64 {
        self.state.len() as f64
    }
}
