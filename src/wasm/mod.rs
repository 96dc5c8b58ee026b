//! The JS bindings: the only place that touches wasm-bindgen, js-sys and web-sys.
//!
//! They translate JS values into core types and carry out what the core decides; no protocol decision
//! is made here.

mod appender;
mod client;
mod crc;
mod driver;
mod join;
mod js_error;
mod js_values;
mod objects;
mod options;
mod source;
mod spool;
mod timer;
mod transport;
mod upload;

pub use appender::Appender;
pub use client::Oss;
pub use crc::{combine_crc64_js, crc64_js, Crc64Js};
