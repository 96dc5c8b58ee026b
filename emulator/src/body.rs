//! Moving bodies: request bodies streamed to disk with CRC and MD5 on the way, object files streamed out.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use md5::{Digest, Md5};
use oss_append::Crc64;
use tokio::sync::mpsc;

use crate::store::DataWriter;

/// Writes go to disk in batches of at least this many bytes.
const WRITE_BATCH: usize = 1 << 20;
/// Batches queued for the disk writer; bounds the memory of one append to about this many MiB.
const WRITE_QUEUE: usize = 8;
/// Object reads go out in chunks of this size.
const READ_CHUNK: usize = 1 << 20;

/// Why a request body was not taken whole.
#[derive(Debug)]
pub enum BodyError {
    /// More bytes than allowed arrived (or were declared).
    TooLarge,
    /// The body stalled longer than the timeout.
    TimedOut,
    /// The client went away or sent a malformed body (fewer bytes than declared, bad chunking).
    Broken,
    /// A `reset_mid_body` fault fired.
    Reset,
    /// The disk refused.
    Disk(io::Error),
}

/// Digests computed while a body streams.
#[derive(Debug)]
pub struct Digests {
    /// CRC-64 of the body alone.
    pub crc: Crc64,
    /// MD5 of the body, when asked for.
    pub md5: Option<Md5>,
}

/// Streams `body` into `writer`, at most `max_bytes` bytes, feeding `digests`; stops with
/// [`BodyError::Reset`] once `reset_after` bytes have arrived.
///
/// This task only receives; a blocking thread hashes and writes the previous batches meanwhile, so the
/// socket, the hashing and the disk work at the same time. On success the writer and the digests come
/// back for the commit; on failure the writer is dropped here, which rolls the file back before the
/// caller answers.
pub async fn pump(
    body: &mut Incoming,
    writer: DataWriter,
    digests: Digests,
    max_bytes: u64,
    idle: Duration,
    reset_after: Option<u64>,
) -> Result<(DataWriter, Digests, u64), BodyError> {
    let (tx, mut rx) = mpsc::channel::<Vec<Bytes>>(WRITE_QUEUE);
    let disk = tokio::task::spawn_blocking(move || {
        let (mut writer, mut digests) = (writer, digests);
        while let Some(batch) = rx.blocking_recv() {
            for chunk in &batch {
                digests.crc.update(chunk);
                if let Some(m) = digests.md5.as_mut() {
                    m.update(chunk);
                }
            }
            if let Err(e) = writer.write(&batch) {
                return (writer, digests, Err(e));
            }
        }
        (writer, digests, Ok(()))
    });
    let received = receive(body, &tx, max_bytes, idle, reset_after).await;
    drop(tx);
    let (writer, digests, written) = disk
        .await
        .map_err(|e| BodyError::Disk(io::Error::other(e)))?;
    match (received, written) {
        (Err(e), _) => Err(e),
        (Ok(_), Err(e)) => Err(BodyError::Disk(e)),
        (Ok(n), Ok(())) => Ok((writer, digests, n)),
    }
}

/// Reads a small request body (a configuration document) whole: at most `max_bytes`, within `idle`
/// between chunks.
pub async fn collect_small(
    body: &mut Incoming,
    max_bytes: usize,
    idle: Duration,
) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => return Err(BodyError::TimedOut),
            Ok(None) => return Ok(out),
            Ok(Some(Err(_))) => return Err(BodyError::Broken),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > max_bytes {
                return Err(BodyError::TooLarge);
            }
            out.extend_from_slice(&data);
        }
    }
}

async fn receive(
    body: &mut Incoming,
    tx: &mpsc::Sender<Vec<Bytes>>,
    max_bytes: u64,
    idle: Duration,
    reset_after: Option<u64>,
) -> Result<u64, BodyError> {
    let mut batch: Vec<Bytes> = Vec::with_capacity(32);
    let mut batched = 0usize;
    let mut total = 0u64;
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => return Err(BodyError::TimedOut),
            Ok(None) => break,
            Ok(Some(Err(_))) => return Err(BodyError::Broken),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry nothing we keep
        };
        if let Some(limit) = reset_after {
            if total + data.len() as u64 >= limit {
                return Err(BodyError::Reset);
            }
        }
        total += data.len() as u64;
        if total > max_bytes {
            return Err(BodyError::TooLarge);
        }
        batched += data.len();
        batch.push(data);
        if batched >= WRITE_BATCH {
            send(tx, &mut batch).await?;
            batched = 0;
        }
    }
    if !batch.is_empty() {
        send(tx, &mut batch).await?;
    }
    Ok(total)
}

async fn send(tx: &mpsc::Sender<Vec<Bytes>>, batch: &mut Vec<Bytes>) -> Result<(), BodyError> {
    let full = std::mem::replace(batch, Vec::with_capacity(32));
    // A closed channel means the writer stopped on an error, which `pump` reports.
    tx.send(full)
        .await
        .map_err(|_| BodyError::Disk(io::Error::other("the disk writer stopped")))
}

/// Reads and discards the rest of `body` (so the connection can carry the next request), at most
/// `limit` bytes; true when the body ended within that.
pub async fn drain(body: &mut Incoming, limit: u64, idle: Duration) -> bool {
    let mut seen = 0u64;
    loop {
        match tokio::time::timeout(idle, body.frame()).await {
            Ok(None) => return true,
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    seen += data.len() as u64;
                    if seen > limit {
                        return false;
                    }
                }
            }
            _ => return false,
        }
    }
}

/// A response body that streams `len` bytes of a file from a blocking reader.
#[derive(Debug)]
pub struct FileBody {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    remaining: u64,
}

impl FileBody {
    /// Streams `len` bytes of `file` from `offset`.
    pub fn new(mut file: File, offset: u64, len: u64) -> Self {
        let (tx, rx) = mpsc::channel(4);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = file.seek(SeekFrom::Start(offset)) {
                let _ = tx.blocking_send(Err(e));
                return;
            }
            let mut left = len;
            while left > 0 {
                let n = left.min(READ_CHUNK as u64) as usize;
                let mut buf = BytesMut::zeroed(n);
                if let Err(e) = file.read_exact(&mut buf) {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
                left -= n as u64;
                if tx.blocking_send(Ok(buf.freeze())).is_err() {
                    return; // the client went away
                }
            }
        });
        Self { rx, remaining: len }
    }
}

impl Body for FileBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(b))) => {
                self.remaining = self.remaining.saturating_sub(b.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(b))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "object data ended early",
            )))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}
