//! Requests on one object, with OSS semantics: the call they share, the writes and the reads.

pub mod call;
pub mod read;
pub mod write;

pub use call::Call;
