//! Reads an append's input part by part: Blob slices, byte-array windows or stream chunks, with CRC.

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableStream, ReadableStreamDefaultReader};

use super::crc::{feed_bytes, feed_bytes_beside_io};
use super::transport::{js_message, Body};
use crate::crc64::Crc64;
use crate::error::Error;

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
        at: u32,
    },
    Blob {
        blob: Blob,
        at: f64,
        /// The buffer parts are read into for their CRC, reused from part to part (blob.js).
        scratch: JsValue,
    },
    Stream {
        reader: ReadableStreamDefaultReader,
        pending: Option<Uint8Array>,
        done: bool,
    },
}

#[wasm_bindgen(module = "/src/wasm/blob.js")]
extern "C" {
    #[wasm_bindgen(js_name = readBlob)]
    fn read_blob(blob: &Blob, scratch: &JsValue) -> js_sys::Promise;
}

impl Source {
    /// Recognizes the input type.
    ///
    /// # Errors
    /// `InvalidArgument` naming what is accepted.
    pub(crate) fn from_js(file: &JsValue) -> Result<Self, Error> {
        if let Some(blob) = file.dyn_ref::<Blob>() {
            return Ok(Self::Blob {
                blob: blob.clone(),
                at: 0.0,
                scratch: JsValue::UNDEFINED,
            });
        }
        if let Some(bytes) = file.dyn_ref::<Uint8Array>() {
            return Ok(Self::Bytes {
                bytes: bytes.clone(),
                at: 0,
            });
        }
        if let Some(buffer) = file.dyn_ref::<ArrayBuffer>() {
            return Ok(Self::Bytes {
                bytes: Uint8Array::new(buffer),
                at: 0,
            });
        }
        if ArrayBuffer::is_view(file) {
            let view: &js_sys::DataView = file.unchecked_ref();
            let bytes = Uint8Array::new_with_byte_offset_and_length(
                &view.buffer(),
                view.byte_offset() as u32,
                view.byte_length() as u32,
            );
            return Ok(Self::Bytes { bytes, at: 0 });
        }
        if let Some(stream) = file.dyn_ref::<ReadableStream>() {
            if stream.locked() {
                return Err(Error::invalid(
                    "file",
                    "the ReadableStream is locked by another reader; pass an unread stream",
                ));
            }
            let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
            return Ok(Self::Stream {
                reader,
                pending: None,
                done: false,
            });
        }
        Err(Error::invalid(
            "file",
            format!("{} is not accepted; pass {ACCEPTED}", describe(file)),
        ))
    }

    /// The total length when it is known up front (not for streams).
    pub(crate) fn total(&self) -> Option<u64> {
        match self {
            Self::Bytes { bytes, .. } => Some(u64::from(bytes.length())),
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
            Self::Bytes { bytes, at } => {
                let len = bytes.length();
                if *at >= len {
                    return Ok(None);
                }
                let end = len.min(at.saturating_add(max.min(u64::from(u32::MAX)) as u32));
                let window = bytes.subarray(*at, end);
                *at = end;
                let mut crc = Crc64::new();
                feed_bytes_beside_io(&mut crc, &window).await;
                Ok(Some(Part {
                    len: crc.len(),
                    crc: crc.value(),
                    body: Body::Bytes(window),
                }))
            }
            Self::Blob { blob, at, scratch } => {
                let size = blob.size();
                if *at >= size {
                    return Ok(None);
                }
                let end = size.min(*at + max as f64);
                let slice = blob
                    .slice_with_f64_and_f64(*at, end)
                    .map_err(|e| read_error(&e))?;
                let bytes: Uint8Array = JsFuture::from(read_blob(&slice, scratch))
                    .await
                    .map_err(|e| read_error(&e))?
                    .unchecked_into();
                let mut crc = Crc64::new();
                feed_bytes_beside_io(&mut crc, &bytes).await;
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
            } => {
                let chunks = js_sys::Array::new();
                let mut crc = Crc64::new();
                while crc.len() < max {
                    let chunk = match pending.take() {
                        Some(c) => c,
                        None if *done => break,
                        None => match read_chunk(reader).await? {
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
            let _ = reader.cancel();
        }
    }
}

async fn read_chunk(reader: &ReadableStreamDefaultReader) -> Result<Option<Uint8Array>, Error> {
    loop {
        let result = JsFuture::from(reader.read())
            .await
            .map_err(|e| read_error(&e))?;
        let done = js_sys::Reflect::get(&result, &"done".into()).map_err(|e| read_error(&e))?;
        if done.is_truthy() {
            return Ok(None);
        }
        let value = js_sys::Reflect::get(&result, &"value".into()).map_err(|e| read_error(&e))?;
        let chunk = if let Some(b) = value.dyn_ref::<Uint8Array>() {
            b.clone()
        } else if let Some(b) = value.dyn_ref::<ArrayBuffer>() {
            Uint8Array::new(b)
        } else {
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

fn read_error(e: &JsValue) -> Error {
    Error::Request {
        message: format!("reading the input failed: {}", js_message(e)),
    }
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
