//! Append uploads to Alibaba Cloud OSS from browsers, Web Workers and Node.js.
//!
//! Everything outside `wasm` is the pure core: no JS, no clock, no I/O. Time, credentials and bytes are
//! arguments; results are data (requests, verdicts). `wasm` translates and transports.

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod append;
pub mod coalesce;
pub mod config;
pub mod crc64;
pub mod credentials;
pub mod encode;
pub mod endpoint;
pub mod error;
pub mod headers;
pub mod http;
pub mod live;
pub mod mime;
mod redact;
pub mod requests;
pub mod response;
pub mod retry;
pub mod sign;
pub mod spool;
mod strings;
#[cfg(test)]
mod test_rng;
pub mod time;
pub mod validate;
pub mod xml;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use crate::crc64::{combine as combine_crc64, crc64, Crc64};
pub use crate::credentials::Credentials;
pub use crate::error::{Error, ServiceError};
pub use crate::http::{Headers, Method, Request};
pub use crate::time::SigningTime;
