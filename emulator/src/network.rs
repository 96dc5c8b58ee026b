//! A modelled network for benchmarks and tests: a round-trip latency on every answer and a paced uplink.
//!
//! Latency: every OSS answer (preflights and errors included; not the control plane) is held for the
//! latency before it goes out, so one request costs one modelled round trip on top of its transfer.
//! Uplink: bytes from clients are released to the server no faster than the rate, shared by every
//! connection as one link is, so a request body takes `size / rate` to arrive.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The most a paced connection reads at once, so its bytes are released in steps of at most this.
const PACED_READ: usize = 16 << 10;
/// How late after the uplink fell free a read may come and still continue the same stream of bytes. Timers
/// wake a millisecond or so late; without this slack each step would lose that time and the rate would fall
/// well short. A longer gap is an idle link, which gives no credit.
const STREAM_SLACK: Duration = Duration::from_millis(5);

/// The latency and uplink rate in force; changed at run time through the control plane.
#[derive(Debug, Default)]
pub struct Network {
    latency_ms: AtomicU64,
    upload_rate: AtomicU64,
    /// When the uplink is free again: the end of the last byte already scheduled.
    uplink_free_at: Mutex<Option<Instant>>,
}

impl Network {
    /// A network with `latency_ms` per answer and `upload_rate` bytes per second (0: unpaced).
    pub fn new(latency_ms: u64, upload_rate: u64) -> Self {
        let n = Self::default();
        n.set(Some(latency_ms), Some(upload_rate));
        n
    }

    /// Changes what is given; the other setting stays.
    pub fn set(&self, latency_ms: Option<u64>, upload_rate: Option<u64>) {
        if let Some(ms) = latency_ms {
            self.latency_ms.store(ms, Ordering::Relaxed);
        }
        if let Some(rate) = upload_rate {
            self.upload_rate.store(rate, Ordering::Relaxed);
            // A new rate starts afresh rather than paying off a backlog scheduled at the old one.
            *self
                .uplink_free_at
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = None;
        }
    }

    /// The latency added to every answer, in milliseconds.
    pub fn latency_ms(&self) -> u64 {
        self.latency_ms.load(Ordering::Relaxed)
    }

    /// The uplink rate in bytes per second; 0 means unpaced.
    pub fn upload_rate(&self) -> u64 {
        self.upload_rate.load(Ordering::Relaxed)
    }

    /// Waits out the latency before an answer goes out.
    pub async fn hold_answer(&self) {
        let ms = self.latency_ms();
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    /// Schedules `bytes` on the uplink; returns when they have arrived, or `None` when unpaced.
    fn schedule(&self, bytes: usize) -> Option<Instant> {
        let rate = self.upload_rate();
        if rate == 0 {
            return None;
        }
        let now = Instant::now();
        let mut free_at = self
            .uplink_free_at
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let start = free_at.filter(|t| *t + STREAM_SLACK >= now).unwrap_or(now);
        let end = start + Duration::from_secs_f64(bytes as f64 / rate as f64);
        *free_at = Some(end);
        Some(end)
    }
}

/// A connection whose incoming bytes are released at the [`Network`]'s uplink rate; writes pass through.
#[derive(Debug)]
pub struct PacedStream<S> {
    inner: S,
    network: Arc<Network>,
    /// Bytes read from the socket that the uplink has not delivered yet, and when it will.
    held: Vec<u8>,
    released: usize,
    wait: Option<Pin<Box<Sleep>>>,
}

impl<S> PacedStream<S> {
    /// Wraps `inner`, pacing it by `network`.
    pub fn new(inner: S, network: Arc<Network>) -> Self {
        Self {
            inner,
            network,
            held: Vec::new(),
            released: 0,
            wait: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for PacedStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.released < this.held.len() {
                if let Some(wait) = this.wait.as_mut() {
                    ready!(wait.as_mut().poll(cx));
                    this.wait = None;
                }
                let n = buf.remaining().min(this.held.len() - this.released);
                buf.put_slice(&this.held[this.released..this.released + n]);
                this.released += n;
                return Poll::Ready(Ok(()));
            }
            if this.network.upload_rate() == 0 {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            }
            this.held.resize(PACED_READ, 0);
            let mut scratch = ReadBuf::new(&mut this.held);
            let polled = Pin::new(&mut this.inner).poll_read(cx, &mut scratch);
            let n = scratch.filled().len();
            if let Poll::Ready(Err(e)) = polled {
                this.held.clear();
                return Poll::Ready(Err(e));
            }
            if polled.is_pending() {
                this.held.clear();
                return Poll::Pending;
            }
            this.held.truncate(n);
            this.released = 0;
            if n == 0 {
                return Poll::Ready(Ok(())); // end of stream
            }
            this.wait = this
                .network
                .schedule(n)
                .map(|at| Box::pin(tokio::time::sleep_until(at)));
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PacedStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test(start_paused = true)]
    async fn paced_reads_arrive_at_the_rate() {
        let network = Arc::new(Network::new(0, 100_000));
        let data = vec![7u8; 50_000];
        let mut paced = PacedStream::new(&data[..], Arc::clone(&network));
        let started = Instant::now();
        let mut got = Vec::new();
        paced.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, data);
        let took = started.elapsed();
        // 50 kB at 100 kB/s: half a second, the last step included.
        assert!(
            took >= Duration::from_millis(499) && took <= Duration::from_millis(510),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unpaced_reads_do_not_wait_and_the_link_is_shared() {
        let network = Arc::new(Network::new(0, 0));
        let data = vec![1u8; 40_000];
        let started = Instant::now();
        let mut got = Vec::new();
        PacedStream::new(&data[..], Arc::clone(&network))
            .read_to_end(&mut got)
            .await
            .unwrap();
        assert_eq!(started.elapsed(), Duration::ZERO);

        // Two connections on one 80 kB/s link: 80 kB in all take a second.
        network.set(None, Some(80_000));
        let started = Instant::now();
        let (a, b) = tokio::join!(
            async {
                let mut v = Vec::new();
                PacedStream::new(&data[..], Arc::clone(&network))
                    .read_to_end(&mut v)
                    .await
                    .map(|_| v.len())
            },
            async {
                let mut v = Vec::new();
                PacedStream::new(&data[..], Arc::clone(&network))
                    .read_to_end(&mut v)
                    .await
                    .map(|_| v.len())
            }
        );
        assert_eq!((a.unwrap(), b.unwrap()), (40_000, 40_000));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(999) && took <= Duration::from_millis(1010),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn answers_wait_the_latency() {
        let network = Network::new(150, 0);
        let started = Instant::now();
        network.hold_answer().await;
        assert_eq!(started.elapsed(), Duration::from_millis(150));
        network.set(Some(0), None);
        let started = Instant::now();
        network.hold_answer().await;
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
}
