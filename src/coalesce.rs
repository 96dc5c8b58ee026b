//! When a live appender sends: small writes gather up to `minPartSize`, no part passes `partSize`, and a
//! flush (explicit, timed or on close) sends what is buffered.

use crate::validate::PartSizes;

/// Decides the length of each part a live appender sends; bytes are counted, never held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Coalescer {
    sizes: PartSizes,
    buffered: u64,
    /// Buffered bytes that must go out even below `minPartSize`.
    must_send: u64,
    /// No more writes come; everything buffered goes out.
    closing: bool,
    /// Whether any part (even an empty one) was taken.
    taken_any: bool,
}

impl Coalescer {
    /// An empty buffer with these part sizes.
    pub(crate) fn new(sizes: PartSizes) -> Self {
        Self {
            sizes,
            buffered: 0,
            must_send: 0,
            closing: false,
            taken_any: false,
        }
    }

    /// `len` more bytes were written.
    pub(crate) fn push(&mut self, len: u64) {
        self.buffered += len;
    }

    /// Everything buffered now must go out (a flush, the flush interval, or close).
    pub(crate) fn flush_all(&mut self) {
        self.must_send = self.buffered;
    }

    /// No more writes come: what is buffered goes out, and an appender closed with nothing written still
    /// sends one empty part, which creates the object (or checks the position), as an empty append does.
    pub(crate) fn close(&mut self) {
        self.closing = true;
        self.flush_all();
    }

    /// The length of the part to send now, or `None` to wait for more writes or a flush (or, once closed,
    /// when everything went out).
    pub(crate) fn next_part(&self) -> Option<u64> {
        let full = self.buffered.min(self.sizes.part_size);
        if self.buffered == 0 {
            (self.closing && !self.taken_any).then_some(0)
        } else if self.buffered >= self.sizes.min_part_size.max(1) || self.must_send > 0 {
            Some(full)
        } else {
            None
        }
    }

    /// A part of `len` bytes went out of the buffer.
    pub(crate) fn take(&mut self, len: u64) {
        debug_assert!(len <= self.buffered, "taking more than is buffered");
        self.buffered -= len.min(self.buffered);
        self.must_send = self.must_send.saturating_sub(len);
        self.taken_any = true;
    }

    /// Bytes written but not yet taken into a part.
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> u64 {
        self.buffered
    }

    /// Whether bytes wait below `minPartSize` with no flush asked for: the flush interval should run.
    pub(crate) fn waiting_for_more(&self) -> bool {
        self.buffered > 0 && self.next_part().is_none()
    }

    /// Whether writers should wait (backpressure): more than one part's worth is buffered.
    pub(crate) fn is_full(&self) -> bool {
        self.buffered >= self.sizes.part_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(part_size: u64, min_part_size: u64) -> PartSizes {
        PartSizes {
            part_size,
            min_part_size,
        }
    }

    #[test]
    fn small_writes_gather_until_min_part_size() {
        let mut c = Coalescer::new(sizes(100, 30));
        for _ in 0..2 {
            c.push(10);
        }
        assert_eq!(c.next_part(), None);
        assert!(c.waiting_for_more());
        c.push(10);
        assert_eq!(c.next_part(), Some(30));
        c.take(30);
        assert_eq!((c.buffered(), c.next_part()), (0, None));
        assert!(!c.waiting_for_more());
    }

    #[test]
    fn parts_never_pass_part_size_and_full_buffers_push_back() {
        let mut c = Coalescer::new(sizes(100, 30));
        c.push(250);
        assert!(c.is_full());
        let mut parts = Vec::new();
        while let Some(n) = c.next_part() {
            c.take(n);
            parts.push(n);
        }
        assert_eq!(parts, vec![100, 100, 50]);
        assert!(!c.is_full());
    }

    #[test]
    fn a_flush_sends_what_is_buffered_then_waits_again() {
        let mut c = Coalescer::new(sizes(100, 30));
        c.push(5);
        c.flush_all();
        c.push(5); // written after the flush: not covered by it
        assert_eq!(c.next_part(), Some(10), "what is buffered goes in one part");
        c.take(10);
        c.push(5);
        assert_eq!(c.next_part(), None, "the flush is spent");
        c.flush_all();
        c.push(200);
        assert_eq!(c.next_part(), Some(100));
    }

    #[test]
    fn closing_sends_the_rest_and_an_empty_part_only_when_nothing_was_sent() {
        let mut c = Coalescer::new(sizes(100, 30));
        c.push(5);
        c.close();
        assert_eq!(c.next_part(), Some(5));
        c.take(5);
        assert_eq!(c.next_part(), None, "all sent");
        let mut empty = Coalescer::new(sizes(100, 30));
        assert_eq!(empty.next_part(), None, "an open, empty appender waits");
        empty.close();
        assert_eq!(empty.next_part(), Some(0));
        empty.take(0);
        assert_eq!(empty.next_part(), None);
    }

    #[test]
    fn min_part_size_zero_sends_every_write() {
        let mut c = Coalescer::new(sizes(100, 0));
        c.push(1);
        assert_eq!(c.next_part(), Some(1));
    }
}
