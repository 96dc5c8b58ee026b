//! Requests on one object, with OSS semantics: the call they share, the writes and the reads.

pub mod call;
pub mod read;
pub mod write;

use hyper::body::Incoming;

use crate::respond::Reply;

pub use call::Call;

/// What an operation answers; `Err` is the answer of one that stopped early and applied nothing.
pub type Answer = Result<Reply, Reply>;

/// Runs the operation `op` (as the server classified the request) on `call`; `None` for an `op` that
/// is no object operation.
pub async fn run(op: &str, call: &Call<'_>, body: &mut Incoming) -> Option<Reply> {
    let answer = match op {
        "append" => write::append(call, body).await,
        "put" => write::put(call, body).await,
        "get" => read::get(call, false).await,
        "head" => read::get(call, true).await,
        "delete" => write::delete(call).await,
        "seal" => write::seal(call).await,
        _ => return None,
    };
    Some(answer.unwrap_or_else(|early| early))
}
