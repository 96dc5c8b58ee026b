//! Reads an append's input part by part: Blob slices, byte-array windows or stream chunks, with CRC.

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, ReadableStreamDefaultReader};

use super::crc::{feed_bytes, try_feed_bytes_beside_io};
use super::js_error::to_js_error;
use super::js_values::{
    byte_input, byte_length, describe, js_append_input, quiet, sub_view, Sorted,
};
use super::timer::{settle_within, Unsettled};
use super::transport::{js_message, Body};
use crate::crc64::Crc64;
use crate::error::Error;
use crate::validate::next_part_range;

/// What `append` accepts, in words, for the error on anything else.
pub(crate) const ACCEPTED: &str =
    "a Blob or File, a Uint8Array or Node Buffer, an ArrayBuffer (or typed array view), a ReadableStream of \
     Uint8Array, and in Node also a file path or a Readable stream";

/// One part ready to send: the body, its length and the CRC-64 of its bytes alone.
pub(crate) struct Part {
    pub(crate) body: Body,
    pub(crate) len: u64,
    pub(crate) crc: u64,
}

/// An append input consumed front to back.
pub(crate) enum Source {
    Bytes {
        bytes: Uint8Array,
        /// 64-bit: a byte array may pass 4 GiB, where a 32-bit length would wrap.
        at: u64,
        total: u64,
    },
    Blob {
        blob: Blob,
        at: f64,
        /// The buffer parts are read into for their CRC, reused from part to part (blob.js).
        scratch: JsValue,
        signal: Option<web_sys::AbortSignal>,
        /// How long one part's read may take: a file on a stalled disk or share may never answer.
        read_timeout_ms: Option<u64>,
    },
    Stream {
        reader: ReadableStreamDefaultReader,
        pending: Option<Uint8Array>,
        done: bool,
        /// Ends a wait for the next chunk: a stream may never yield one.
        signal: Option<web_sys::AbortSignal>,
    },
}

#[wasm_bindgen(module = "/src/wasm/blob.js")]
extern "C" {
    #[wasm_bindgen(js_name = readBlob)]
    fn read_blob(blob: &Blob, scratch: &JsValue) -> js_sys::Promise;
}

/// What an appender may take from `write(data)`: bytes that cannot be read are refused here, with nothing
/// queued; resizable or shared buffers become a copy; everything else passes through as it came.
///
/// # Errors
/// An `InvalidArgument` JS error naming `data` (e.g. a detached buffer).
pub(crate) fn writable_data(data: &JsValue) -> Result<JsValue, JsValue> {
    match byte_input(data, false, "data") {
        Ok(Some(bytes)) => Ok(bytes.into()),
        Ok(None) => match Sorted::from_answer(&js_append_input(data)) {
            Sorted::Refused(reason) => Err(to_js_error(&Error::invalid("data", reason), None)),
            _ => Ok(data.clone()),
        },
        Err(e) => Err(to_js_error(&e, None)),
    }
}

/// The error for bytes that went away while they were being read.
pub(crate) fn changed_under_us(what: &str) -> Error {
    Error::invalid(
        what,
        "its buffer was detached or shrank while it was being read; keep the bytes of an input unchanged until \
         the call settles (as with a fetch body), or pass a copy",
    )
}

impl Source {
    /// Recognizes the input type.
    ///
    /// # Errors
    /// `InvalidArgument` naming what is accepted, or why an input of an accepted type cannot be read.
    pub(crate) fn from_js(file: &JsValue) -> Result<Self, Error> {
        match Sorted::from_answer(&js_append_input(file)) {
            Sorted::Bytes(bytes) => Ok(Self::Bytes {
                total: byte_length(&bytes),
                bytes,
                at: 0,
            }),
            Sorted::Blob(blob) => Ok(Self::Blob {
                blob,
                at: 0.0,
                scratch: JsValue::UNDEFINED,
                signal: None,
                read_timeout_ms: None,
            }),
            Sorted::Stream(reader) => Ok(Self::Stream {
                reader,
                pending: None,
                done: false,
                signal: None,
            }),
            Sorted::Refused(reason) => Err(Error::invalid("file", reason)),
            Sorted::Other => Err(Error::invalid(
                "file",
                format!("{} is not accepted; pass {ACCEPTED}", describe(file)),
            )),
        }
    }

    /// Lets `signal` end a wait for a stream's next chunk or a Blob part's bytes (with `Aborted`), and bounds a
    /// Blob part's read by `timeout_ms`, the call's request timeout. A stream's wait has no time limit: a live
    /// source may be quiet for as long as it likes.
    pub(crate) fn watch(&mut self, signal: Option<&web_sys::AbortSignal>, timeout_ms: u64) {
        match self {
            Self::Stream {
                signal: watched, ..
            } => *watched = signal.cloned(),
            Self::Blob {
                signal: watched,
                read_timeout_ms,
                ..
            } => {
                *watched = signal.cloned();
                *read_timeout_ms = Some(timeout_ms);
            }
            Self::Bytes { .. } => {}
        }
    }

    /// The total length when it is known up front (not for streams).
    pub(crate) fn total(&self) -> Option<u64> {
        match self {
            Self::Bytes { total, .. } => Some(*total),
            Self::Blob { blob, .. } => Some(blob.size() as u64),
            Self::Stream { .. } => None,
        }
    }

    /// The MIME type a Blob or File carries, if any.
    pub(crate) fn mime(&self) -> Option<String> {
        match self {
            Self::Blob { blob, .. } => Some(blob.type_()).filter(|t| t.contains('/')),
            _ => None,
        }
    }

    /// Reads the next part of at most `max` bytes; `None` once the input is exhausted.
    pub(crate) async fn next_part(&mut self, max: u64) -> Result<Option<Part>, Error> {
        match self {
            Self::Bytes { bytes, at, total } => {
                let Some((start, end)) = next_part_range(*at, *total, max) else {
                    return Ok(None);
                };
                let window = sub_view(bytes, start, end).ok_or_else(|| changed_under_us("file"))?;
                *at = end;
                let mut crc = Crc64::new();
                try_feed_bytes_beside_io(&mut crc, &window)
                    .await
                    .ok_or_else(|| changed_under_us("file"))?;
                Ok(Some(Part {
                    len: crc.len(),
                    crc: crc.value(),
                    body: Body::Bytes(window),
                }))
            }
            Self::Blob {
                blob,
                at,
                scratch,
                signal,
                read_timeout_ms,
            } => {
                let size = blob.size();
                if *at >= size {
                    return Ok(None);
                }
                let end = size.min(*at + max as f64);
                let slice = blob
                    .slice_with_f64_and_f64(*at, end)
                    .map_err(|e| read_error(&e))?;
                let bytes: Uint8Array = settle_within(
                    &read_blob(&slice, scratch),
                    *read_timeout_ms,
                    signal.as_ref(),
                )
                .await
                .map_err(unsettled_read)?
                .unchecked_into();
                let mut crc = Crc64::new();
                try_feed_bytes_beside_io(&mut crc, &bytes)
                    .await
                    .ok_or_else(|| changed_under_us("file"))?;
                *scratch = bytes.buffer().into();
                *at = end;
                // The slice itself is the body: the runtime streams it without another copy of ours.
                Ok(Some(Part {
                    len: crc.len(),
                    crc: crc.value(),
                    body: Body::Blob(slice),
                }))
            }
            Self::Stream {
                reader,
                pending,
                done,
                signal,
            } => {
                let chunks = js_sys::Array::new();
                let mut crc = Crc64::new();
                while crc.len() < max {
                    let chunk = match pending.take() {
                        Some(c) => c,
                        None if *done => break,
                        None => match read_chunk(reader, signal.as_ref()).await? {
                            Some(c) => c,
                            None => {
                                *done = true;
                                break;
                            }
                        },
                    };
                    let room = max - crc.len();
                    let take = if u64::from(chunk.length()) > room {
                        *pending = Some(chunk.subarray(room as u32, chunk.length()));
                        chunk.subarray(0, room as u32)
                    } else {
                        chunk
                    };
                    feed_bytes(&mut crc, &take);
                    chunks.push(&take);
                }
                if crc.is_empty() {
                    return Ok(None);
                }
                let body = if chunks.length() == 1 {
                    Body::Bytes(chunks.get(0).unchecked_into())
                } else {
                    Body::Bytes(concat(&chunks, crc.len() as u32))
                };
                Ok(Some(Part {
                    len: crc.len(),
                    crc: crc.value(),
                    body,
                }))
            }
        }
    }

    /// Releases a stream that will not be read to the end.
    pub(crate) fn cancel(&self) {
        if let Self::Stream {
            reader,
            done: false,
            ..
        } = self
        {
            // The stream may have failed already; its cancel() then rejects, which must not end Node.
            quiet(&reader.cancel());
        }
    }
}

async fn read_chunk(
    reader: &ReadableStreamDefaultReader,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<Option<Uint8Array>, Error> {
    loop {
        // On an abort the read may still be pending; cancel() releases it when the append fails.
        let result = settle_within(&reader.read(), None, signal)
            .await
            .map_err(unsettled_read)?;
        let done = js_sys::Reflect::get(&result, &"done".into()).map_err(|e| read_error(&e))?;
        if done.is_truthy() {
            return Ok(None);
        }
        let value = js_sys::Reflect::get(&result, &"value".into()).map_err(|e| read_error(&e))?;
        // A copy: a stream may hand out one buffer and refill it for the next chunk, and the part is sent
        // only once it is complete.
        let Some(chunk) = byte_input(&value, true, "file")? else {
            return Err(Error::invalid(
                "file",
                format!(
                    "the stream yielded {}; a ReadableStream must yield Uint8Array chunks",
                    describe(&value)
                ),
            ));
        };
        if chunk.length() > 0 {
            return Ok(Some(chunk));
        }
    }
}

fn concat(chunks: &js_sys::Array, total: u32) -> Uint8Array {
    let out = Uint8Array::new_with_length(total);
    let mut at = 0;
    for c in chunks.iter() {
        let c: Uint8Array = c.unchecked_into();
        out.set(&c, at);
        at += c.length();
    }
    out
}

/// A read that ended without its value: the abort as it is, a failure as a read error, a read past its time limit
/// as a request error naming the limit.
fn unsettled_read(unsettled: Unsettled) -> Error {
    match unsettled {
        Unsettled::Aborted(e) => e,
        Unsettled::Rejected(e) => read_error(&e),
        Unsettled::TimedOut(ms) => Error::Request {
            message: format!(
                "reading the input did not finish within {ms} ms (the request timeout)"
            ),
        },
    }
}

fn read_error(e: &JsValue) -> Error {
    Error::Request {
        message: format!("reading the input failed: {}", js_message(e)),
    }
}
