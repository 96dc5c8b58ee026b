//! A local Alibaba Cloud OSS stand-in for append uploads: signing, CRC-64, durable appends, faults and CORS.

// [`RunningServer::start`] runs it in-process (tests, benchmarks); the `oss-emulator` binary runs it
// from the command line. See `emulator/README.md` for the HTTP surface and the control plane.

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod auth;
pub mod body;
pub mod config;
pub mod control;
pub mod datafile;
pub mod errors;
pub mod faults;
pub mod listing;
pub mod network;
pub mod object;
pub mod respond;
pub mod server;
pub mod state;
pub mod store;
pub mod target;
pub mod versions;

pub use crate::config::{AuthMode, Command, Config};
pub use crate::server::{prepare, serve, RunningServer};
