//! Append uploads to Alibaba Cloud OSS from browsers, Web Workers and Node.js.
//!
//! Everything outside `wasm` is the pure core: no JS, no clock, no I/O. Time, credentials and bytes are
//! arguments; results are data (requests, verdicts). `wasm` translates and transports.
//!
//! The public Rust API is small on purpose: the signer ([`sign`]) and the request types it signs, CRC-64
//! ([`crc64`](mod@crc64)), the errors, and [`encode`] and [`xml`], which the OSS emulator shares; `wasm` is the npm
//! package's bindings. Everything else is internal.

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
// Natively the bindings are not compiled, so what only they use looks unused; the wasm32 build (which
// compiles everything) keeps these lints.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code, unused_imports))]

mod append;
mod coalesce;
mod config;
pub mod crc64;
mod credentials;
pub mod encode;
mod endpoint;
mod error;
mod headers;
mod http;
mod live;
mod mime;
mod redact;
mod requests;
mod response;
mod retry;
pub mod sign;
mod sort;
mod spool;
mod strings;
#[cfg(test)]
mod test_rng;
mod time;
mod validate;
pub mod xml;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use crate::crc64::{combine as combine_crc64, crc64, Crc64};
pub use crate::credentials::Credentials;
pub use crate::error::{Error, ServiceError};
pub use crate::http::{Headers, Method, Request};
pub use crate::time::SigningTime;
