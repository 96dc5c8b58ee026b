//! `client.openAppender`: the JS handles, timers and transport of a live appender whose lifecycle the core's
//! [`Live`] decides (`write`, `flush`, `close`, `abort`, `retryNow`, `writable`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};
use web_sys::{AbortController, AbortSignal, Blob, WritableStream};

use super::client::{spawn, Inner, Oss, Params};
use super::crc::feed_bytes;
use super::driver::{report_progress, Driver};
use super::js_error::to_js_error;
use super::js_values::{describe, set};
use super::options::{object_key, JsOptions};
use super::source::Part;
use super::spool::{self as local_spool, Spool, SpoolOptions};
use super::timer::{now_millis, random_unit, Timeout};
use super::transport::{js_message, streams_bodies, Body};
use crate::append::AppendSession;
use crate::crc64::Crc64;
use crate::error::Error;
use crate::live::{Live, LiveLimits, LiveState, Notice};
use crate::requests::{self, Sending, WriteOptions};
use crate::spool::{self, SpoolStart};
use crate::validate::{self, PartSizes, MAX_OBJECT_SIZE};

#[wasm_bindgen]
extern "C" {
    // `blob.slice(start, end)`, which never throws (web-sys declares it fallible).
    #[wasm_bindgen(js_namespace = ["Blob", "prototype", "slice"], js_name = call)]
    fn blob_slice(blob: &Blob, start: f64, end: f64) -> Blob;
}

#[wasm_bindgen(module = "/src/wasm/live.js")]
extern "C" {
    #[wasm_bindgen(js_name = ignoreRejection)]
    fn ignore_rejection(promise: &Promise);
    #[wasm_bindgen(js_name = isOnline)]
    fn is_online() -> bool;
    #[wasm_bindgen(js_name = watchOnline)]
    fn watch_online(callback: &Function) -> Function;
    #[wasm_bindgen(js_name = watchAbort)]
    fn watch_abort(signal: &AbortSignal, callback: &Function) -> Function;
    #[wasm_bindgen(js_name = blobOf)]
    fn blob_of(parts: &Array) -> Blob;
    #[wasm_bindgen(js_name = retryInfo)]
    fn retry_info(attempt: u32, delay_ms: f64, error: &JsValue, buffered: f64) -> JsValue;
    #[wasm_bindgen(js_name = closedResult)]
    fn closed_result(name: &str, next_append_position: &str, crc64: JsValue) -> JsValue;
}

/// How long small writes wait for company before they go out anyway, by default.
const DEFAULT_FLUSH_INTERVAL_MS: u64 = 1000;

#[wasm_bindgen(js_class = OSS)]
impl Oss {
    /// Opens a live appender on `name`: `{ position: 'resume' | n, partSize, minPartSize, flushInterval,
    /// maxBuffered, maxRetryDelay, giveUpAfter, onStateChange, onRetry, headers, meta, mime, progress, signal,
    /// initCrc64, timeout }`. `'resume'` continues an existing appendable object after one HEAD; a missing
    /// object starts at 0.
    #[wasm_bindgen(js_name = openAppender)]
    pub fn open_appender(&self, name: JsValue, options: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        let p = Params::new(&inner, "POST", &name);
        spawn(Some(p), async move {
            open(inner, name, options).await.map(JsValue::from)
        })
    }
}

/// A live append stream onto one object. Writes go out in order, coalesced, each exactly once; outages are
/// waited out.
#[wasm_bindgen]
pub struct Appender {
    shared: Rc<Shared>,
}

impl std::fmt::Debug for Appender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.shared.state.borrow();
        f.debug_struct("Appender")
            .field("key", &self.shared.key)
            .field("position", &s.position)
            .field("state", &s.live.state())
            .finish()
    }
}

/// What never changes after opening, and the state behind a cell.
struct Shared {
    inner: Rc<Inner>,
    key: String,
    write: WriteOptions,
    timeout_ms: u64,
    flush_interval_ms: u64,
    progress: Option<Function>,
    on_state_change: Option<Function>,
    on_retry: Option<Function>,
    /// Cancels the request under way when the appender is aborted (or the caller's signal fires).
    controller: AbortController,
    /// The local spool of unconfirmed bytes (`options.spool`), and the bytes memory holds with one.
    spool: Option<Rc<Spool>>,
    max_memory: u64,
    state: RefCell<State>,
}

/// A promise's two settlers: what the core's [`Live`] holds for each waiter.
struct Settler {
    resolve: Function,
    reject: Function,
}

#[derive(Clone)]
enum Chunk {
    Bytes(Uint8Array),
    Blob(Blob),
    /// Object range `[start, end)`, on the spool only.
    Spooled(u64, u64),
}

impl Chunk {
    fn len(&self) -> u64 {
        match self {
            Chunk::Bytes(b) => u64::from(b.length()),
            Chunk::Blob(b) => b.size() as u64,
            Chunk::Spooled(start, end) => end - start,
        }
    }

    /// Splits off the first `n` bytes.
    fn split(self, n: u64) -> (Chunk, Chunk) {
        match self {
            Chunk::Bytes(b) => (
                Chunk::Bytes(b.subarray(0, n as u32)),
                Chunk::Bytes(b.subarray(n as u32, b.length())),
            ),
            Chunk::Blob(b) => {
                let size = b.size();
                (
                    Chunk::Blob(blob_slice(&b, 0.0, n as f64)),
                    Chunk::Blob(blob_slice(&b, n as f64, size)),
                )
            }
            Chunk::Spooled(start, end) => (
                Chunk::Spooled(start, start + n),
                Chunk::Spooled(start + n, end),
            ),
        }
    }

    fn js(&self) -> JsValue {
        match self {
            Chunk::Bytes(b) => b.into(),
            Chunk::Blob(b) => b.into(),
            Chunk::Spooled(..) => JsValue::UNDEFINED,
        }
    }
}

/// Stops a listener when dropped (`watchOnline`, `watchAbort`).
struct Watch {
    stop: Function,
    _callback: Closure<dyn FnMut()>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.stop.call0(&JsValue::UNDEFINED);
    }
}

struct State {
    live: Live<Settler>,
    /// Taken out while a part is being appended.
    session: Option<AppendSession>,
    /// Accepted bytes not yet taken into a part, in order.
    queue: VecDeque<Chunk>,
    /// The bytes of the part out or waiting to be tried again: as written until they are read into one body, then
    /// that body...
    part_pieces: Vec<Chunk>,
    /// ...with its CRC-64, kept until the part is confirmed.
    part: Option<Part>,
    position: u64,
    crc64: Option<u64>,
    /// The JS error every waiter of a failed or aborted appender rejects with (made once: it carries `unsent`).
    end_error: Option<JsValue>,
    pumping: bool,
    flush_timer: Option<Timeout>,
    retry_timer: Option<Timeout>,
    watches: Vec<Watch>,
}

async fn open(inner: Rc<Inner>, name: JsValue, options: JsValue) -> Result<Appender, Error> {
    let key = object_key(&name)?;
    let o = JsOptions::new(&options, "options")?;
    let resume = o
        .raw("position")
        .and_then(|p| p.as_string())
        .is_some_and(|p| p == "resume");
    let position = match o.integer("position")? {
        Some(_) if resume => 0,
        Some(p) => validate::parse_position(&p)?,
        None => 0,
    };
    let write = o.write_options(None)?;
    let sizes = PartSizes::from_options(
        o.integer("partSize")?.as_ref(),
        o.integer("minPartSize")?.as_ref(),
    )?;
    let flush_interval_ms = match o.integer("flushInterval")? {
        Some(v) => validate::parse_interval_ms("options.flushInterval", &v)?,
        None => DEFAULT_FLUSH_INTERVAL_MS,
    };
    let limits = LiveLimits::from_options(
        o.integer("maxBuffered")?.as_ref(),
        o.integer("maxRetryDelay")?.as_ref(),
        o.integer("giveUpAfter")?.as_ref(),
    )?;
    let timeout_ms = o.timeout_ms(inner.config.timeout_ms)?;
    let init_crc = o.init_crc64()?;
    let progress = o.function("progress")?;
    let on_state_change = o.function("onStateChange")?;
    let on_retry = o.function("onRetry")?;
    let signal = o.signal("signal")?;
    let spool_options = SpoolOptions::read(&o)?;
    let max_memory = limits.max_buffered;
    let limits = match &spool_options {
        Some(sp) => LiveLimits {
            max_buffered: sp.max_spool,
            ..limits
        },
        None => limits,
    };
    write.check_content_md5(Sending::Live)?;
    requests::check_append(
        &inner.config.bucket,
        &key,
        position,
        &write,
        None,
        MAX_OBJECT_SIZE,
    )?;

    let controller = AbortController::new().map_err(|e| Error::Request {
        message: js_message(&e),
    })?;
    if let Some(s) = &signal {
        if s.aborted() {
            return Err(Error::Aborted {
                reason: s.reason().as_string(),
            });
        }
    }
    let policy = inner.append_policy().without_retries();
    let mut spool = None;
    let session = if let Some(sp) = &spool_options {
        let locked = local_spool::lock(&inner, &key, sp).await?;
        // A new spool may start at a position whose CRC-64 is known; an existing one continues where it
        // stands, decided from a HEAD.
        let asked = (!resume && o.raw("position").is_some()).then_some(position);
        let known = init_crc.or_else(|| inner.known_crc(&key, position));
        let (start, head) = match spool::spool_start(asked, locked.exists(), known) {
            Ok(SpoolStart::At(p, crc)) => (local_spool::Start::At(p, crc), None),
            Err(e) => {
                locked.abandon();
                return Err(e);
            }
            Ok(SpoolStart::FromHead) => {
                let mut driver =
                    Driver::new(&inner, &key, &write, timeout_ms, signal.as_ref(), None);
                match driver.head().await {
                    Ok(h) => (local_spool::Start::Head(h.clone()), Some(h)),
                    Err(e) => {
                        locked.abandon();
                        return Err(e);
                    }
                }
            }
        };
        let given = match &start {
            local_spool::Start::At(p, crc) => Some((*p, *crc)),
            local_spool::Start::Head(_) => None,
        };
        // The spool decides first: a reopen's mismatch is a SpoolMismatch, whatever the object is.
        let (opened, preload) = local_spool::open(locked, start, sizes.part_size).await?;
        let session = match given {
            Some((p, crc)) => Ok(AppendSession::new(p, Some(crc), policy)),
            None => AppendSession::resume_from_head(head.flatten().as_ref(), policy),
        };
        let session = match session {
            Ok(session) => session,
            Err(e) => {
                opened.let_go();
                return Err(e);
            }
        };
        spool = Some((opened, preload));
        session
    } else if resume {
        let mut driver = Driver::new(&inner, &key, &write, timeout_ms, signal.as_ref(), None);
        AppendSession::resume_from_head(driver.head().await?.as_ref(), policy)?
    } else {
        let prior = init_crc.or_else(|| inner.known_crc(&key, position));
        AppendSession::new(position, prior, policy)
    };
    let mut live = Live::new(session.position(), sizes, limits);
    let mut queue = VecDeque::new();
    let spool = spool.map(|(opened, preload)| {
        // The spooled bytes the object does not hold go first, in order; nobody waits on them.
        for (start, end) in preload {
            let noop = Settler {
                resolve: local_spool::noop_function(),
                reject: local_spool::noop_function(),
            };
            if live.write(end - start, noop).is_ok() {
                queue.push_back(Chunk::Spooled(start, end));
            }
        }
        opened
    });
    let state = State {
        live,
        position: session.position(),
        crc64: session.crc64(),
        session: Some(session),
        queue,
        part_pieces: Vec::new(),
        part: None,
        end_error: None,
        pumping: false,
        flush_timer: None,
        retry_timer: None,
        watches: Vec::new(),
    };
    let shared = Rc::new(Shared {
        inner,
        key,
        write,
        timeout_ms,
        flush_interval_ms,
        progress,
        on_state_change,
        on_retry,
        controller,
        spool,
        max_memory,
        state: RefCell::new(state),
    });
    if let Some(sp) = &shared.spool {
        let weak = Rc::downgrade(&shared);
        *sp.on_persisted.borrow_mut() = Some(Box::new(move || {
            if let Some(shared) = weak.upgrade() {
                spill(&shared);
            }
        }));
    }
    let weak = Rc::downgrade(&shared);
    let online = Closure::<dyn FnMut()>::new(move || {
        if let Some(shared) = weak.upgrade() {
            retry_now(&shared);
        }
    });
    let mut watches = vec![Watch {
        stop: watch_online(online.as_ref().unchecked_ref()),
        _callback: online,
    }];
    if let Some(signal) = &signal {
        let weak = Rc::downgrade(&shared);
        let aborted = signal.clone();
        let on_abort = Closure::<dyn FnMut()>::new(move || {
            if let Some(shared) = weak.upgrade() {
                abort(&shared, aborted.reason());
            }
        });
        watches.push(Watch {
            stop: watch_abort(signal, on_abort.as_ref().unchecked_ref()),
            _callback: on_abort,
        });
    }
    shared.state.borrow_mut().watches = watches;
    Ok(Appender { shared })
}

#[wasm_bindgen]
impl Appender {
    /// Queues `data` (Blob, Uint8Array, Buffer, ArrayBuffer) after everything written before; resolves
    /// when its bytes are on the object. Rejects with `BufferFullError` past `maxBuffered`.
    pub fn write(&self, data: JsValue) -> Promise {
        let data = match super::source::writable_data(&data) {
            Ok(data) => data,
            Err(e) => return Promise::reject(&e),
        };
        match data_chunk(&data) {
            Some(chunk) => enqueue(&self.shared, chunk).unwrap_or_else(|e| Promise::reject(&e)),
            None => Promise::reject(&not_bytes(&data)),
        }
    }

    /// Sends everything buffered; resolves when it is on the object.
    pub fn flush(&self) -> Promise {
        let promise = waiter(&self.shared, |live, s| live.flush(s));
        kick(&self.shared);
        promise
    }

    /// Flushes, then ends the appender: resolves `{ name, nextAppendPosition, crc64 }` once everything is on
    /// the object, however long an outage lasts. Later writes reject.
    pub fn close(&self) -> Promise {
        close(&self.shared)
    }

    /// Stops at once, in every state: the request under way is cancelled, a retry wait ends, unsent writes
    /// reject with `AbortError`; what is already on the object stays.
    pub fn abort(&self, reason: JsValue) -> Promise {
        abort(&self.shared, reason);
        match &self.shared.spool {
            // Resolves once the spool is consistent and let go, so that it can be reopened at once.
            Some(sp) => sp.settled(),
            None => Promise::resolve(&JsValue::UNDEFINED),
        }
    }

    /// Resolves when fewer than `partSize` bytes wait to be sent (backpressure for fast producers).
    pub fn ready(&self) -> Promise {
        ready(&self.shared)
    }

    /// While retrying: tries the waiting part at once instead of after the backoff. Returns whether it did.
    #[wasm_bindgen(js_name = retryNow)]
    pub fn retry_now(&self) -> bool {
        retry_now(&self.shared)
    }

    /// `'open' | 'retrying' | 'closing' | 'closed' | 'failed' | 'aborted'`.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.shared.state.borrow().live.state().as_str().to_owned()
    }

    /// Accepted bytes not yet confirmed on the object.
    #[wasm_bindgen(getter)]
    pub fn buffered(&self) -> f64 {
        self.shared.state.borrow().live.buffered() as f64
    }

    /// The object's length after the last confirmed part (`nextAppendPosition`), a decimal string.
    #[wasm_bindgen(getter)]
    pub fn position(&self) -> String {
        self.shared.state.borrow().position.to_string()
    }

    /// The object's CRC-64 at `position` as a decimal string, or `null` when unknown.
    #[wasm_bindgen(getter)]
    pub fn crc64(&self) -> Option<String> {
        self.shared.state.borrow().crc64.map(|c| c.to_string())
    }

    /// Bytes written since opening that are safe on the local spool or confirmed on the object (with a
    /// `spool`; without one, the confirmed bytes).
    #[wasm_bindgen(getter)]
    pub fn spooled(&self) -> f64 {
        match &self.shared.spool {
            Some(sp) => sp.spooled() as f64,
            None => self.shared.state.borrow().live.confirmed() as f64,
        }
    }

    /// Bytes written but not yet on the object (the same as `buffered`).
    #[wasm_bindgen(getter)]
    pub fn pending(&self) -> f64 {
        self.buffered()
    }

    /// A WHATWG `WritableStream` over this appender, with backpressure: `readable.pipeTo(w.writable)`. A chunk
    /// that would pass `maxBuffered` waits for room instead of failing.
    #[wasm_bindgen(getter)]
    pub fn writable(&self) -> Result<WritableStream, JsValue> {
        let sink = js_sys::Object::new();
        let s = Rc::clone(&self.shared);
        let write_fn = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |chunk: JsValue| {
            let chunk = match super::source::writable_data(&chunk) {
                Ok(chunk) => chunk,
                Err(e) => return Promise::reject(&e),
            };
            let Some(chunk) = data_chunk(&chunk) else {
                return Promise::reject(&not_bytes(&chunk));
            };
            let s = Rc::clone(&s);
            let len = chunk.len();
            let room = waiter(&s, |live, w| live.wait_room(len, w));
            // The stream's write resolves once the chunk is accepted and less than a part waits; the durable
            // outcome shows through close().
            future_to_promise(async move {
                JsFuture::from(room).await?;
                ignore_rejection(&enqueue(&s, chunk)?);
                JsFuture::from(ready(&s)).await
            })
        });
        let s = Rc::clone(&self.shared);
        let close_fn = Closure::<dyn FnMut() -> Promise>::new(move || close(&s));
        let s = Rc::clone(&self.shared);
        let abort_fn = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |reason: JsValue| {
            abort(&s, reason);
            Promise::resolve(&JsValue::UNDEFINED)
        });
        set(&sink, "write", write_fn.into_js_value());
        set(&sink, "close", close_fn.into_js_value());
        set(&sink, "abort", abort_fn.into_js_value());
        WritableStream::new_with_underlying_sink(&sink)
    }
}

fn not_bytes(data: &JsValue) -> JsValue {
    let e = Error::invalid(
        "data",
        format!(
            "{} cannot be written; write a Blob, a Uint8Array or Buffer, or an ArrayBuffer",
            describe(data)
        ),
    );
    to_js_error(&e, None)
}

/// A promise whose settlers go to the core by `register`; a refusal rejects it at once.
fn waiter(
    shared: &Rc<Shared>,
    register: impl FnOnce(&mut Live<Settler>, Settler) -> Result<(), (Error, Settler)>,
) -> Promise {
    let mut register = Some(register);
    let promise = Promise::new(&mut |resolve, reject| {
        let mut st = shared.state.borrow_mut();
        let register = register.take().expect("the executor runs once");
        if let Err((e, s)) = register(&mut st.live, Settler { resolve, reject }) {
            drop(st);
            let _ = s
                .reject
                .call1(&JsValue::UNDEFINED, &refusal_error(shared, &e));
        }
    });
    after_change(shared);
    promise
}

/// The JS error for a refusal: the failed appender's own error (with `unsent`), or a fresh one.
fn refusal_error(shared: &Rc<Shared>, e: &Error) -> JsValue {
    let ended = matches!(
        shared.state.borrow().live.state(),
        LiveState::Failed | LiveState::Aborted
    );
    if ended {
        end_error(shared)
    } else {
        to_js_error(e, None)
    }
}

/// Accepts `chunk` after everything written before; the promise resolves when its bytes are on the object.
/// A refusal (closed, failed, aborted, `BufferFull`, too large) is also returned as `Err`.
fn enqueue(shared: &Rc<Shared>, chunk: Chunk) -> Result<Promise, JsValue> {
    let len = chunk.len();
    let mut chunk = Some(chunk);
    let mut refused = None;
    let promise = Promise::new(&mut |resolve, reject| {
        let mut st = shared.state.borrow_mut();
        let unconfirmed = st.live.buffered();
        let accepted = match shared
            .spool
            .as_ref()
            .and_then(|sp| sp.refusal(unconfirmed, len))
        {
            Some(e) => Err((e, Settler { resolve, reject })),
            None => st.live.write(len, Settler { resolve, reject }),
        };
        match accepted {
            Ok(()) => {
                if let Some(c) = chunk.take().filter(|c| c.len() > 0) {
                    if let Some(sp) = &shared.spool {
                        sp.persist(&c.js(), len);
                    }
                    st.queue.push_back(c);
                }
            }
            Err((e, s)) => {
                drop(st);
                let e = refusal_error(shared, &e);
                let _ = s.reject.call1(&JsValue::UNDEFINED, &e);
                refused = Some(e);
            }
        }
    });
    after_change(shared);
    spill(shared);
    kick(shared);
    match refused {
        Some(e) => {
            // The caller gets the error itself (or a fresh rejected promise); this one is not seen.
            ignore_rejection(&promise);
            Err(e)
        }
        None => Ok(promise),
    }
}

/// What a written value becomes; byte views are copied, since the caller may reuse its buffer as soon as
/// `write()` returns.
fn data_chunk(data: &JsValue) -> Option<Chunk> {
    if let Some(b) = data.dyn_ref::<Blob>() {
        Some(Chunk::Blob(b.clone()))
    } else if let Some(b) = data.dyn_ref::<Uint8Array>() {
        Some(Chunk::Bytes(b.slice(0, b.length())))
    } else if let Some(b) = data.dyn_ref::<js_sys::ArrayBuffer>() {
        Some(Chunk::Bytes(Uint8Array::new(&b.slice(0))))
    } else if js_sys::ArrayBuffer::is_view(data) {
        let view: &js_sys::DataView = data.unchecked_ref();
        let bytes = Uint8Array::new_with_byte_offset_and_length(
            &view.buffer(),
            view.byte_offset() as u32,
            view.byte_length() as u32,
        );
        Some(Chunk::Bytes(bytes.slice(0, bytes.length())))
    } else {
        None
    }
}

fn close(shared: &Rc<Shared>) -> Promise {
    let promise = waiter(shared, |live, s| live.close(s));
    shared.state.borrow_mut().flush_timer = None;
    kick(shared);
    match &shared.spool {
        // Everything is on the object: the spool goes before close() resolves.
        Some(sp) => {
            let sp = Rc::clone(sp);
            future_to_promise(async move {
                let value = JsFuture::from(promise).await?;
                JsFuture::from(sp.finish()).await?;
                Ok(value)
            })
        }
        None => promise,
    }
}

/// With a spool, memory holds at most `maxBuffered`: the newest persisted bytes in the queue are dropped from
/// memory and read back from the spool when their turn comes.
fn spill(shared: &Rc<Shared>) {
    let Some(sp) = &shared.spool else {
        return;
    };
    let mut st = shared.state.borrow_mut();
    let in_memory = |c: &Chunk| !matches!(c, Chunk::Spooled(..));
    let mut held: u64 = st
        .queue
        .iter()
        .filter(|c| in_memory(c))
        .map(Chunk::len)
        .sum();
    if held <= shared.max_memory {
        return;
    }
    let persisted = sp.persisted_end();
    let in_part: u64 = st.part_pieces.iter().map(Chunk::len).sum();
    let mut end = st.position + in_part + st.queue.iter().map(Chunk::len).sum::<u64>();
    for chunk in st.queue.iter_mut().rev() {
        let len = chunk.len();
        let start = end - len;
        if in_memory(chunk) && end <= persisted {
            *chunk = Chunk::Spooled(start, end);
            held -= len;
            if held <= shared.max_memory {
                break;
            }
        }
        end = start;
    }
}

fn abort(shared: &Rc<Shared>, reason: JsValue) {
    let reason = reason.as_string().or_else(|| {
        js_sys::Reflect::get(&reason, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
    });
    let ended = {
        let mut st = shared.state.borrow_mut();
        let ended = st.live.abort(reason);
        if ended {
            st.queue.clear();
            st.flush_timer = None;
            st.retry_timer = None;
        }
        ended
    };
    if ended {
        shared.controller.abort();
        after_change(shared);
    }
}

fn ready(shared: &Rc<Shared>) -> Promise {
    waiter(shared, |live, s| live.wait_ready(s))
}

/// Tries a waiting part at once (the `online` event, `retryNow()`); false when none waits.
fn retry_now(shared: &Rc<Shared>) -> bool {
    let again = {
        let mut st = shared.state.borrow_mut();
        let again = st.live.retry(now()).is_some();
        if again {
            st.retry_timer = None;
        }
        again
    };
    after_change(shared);
    if again {
        start_pump(shared);
    }
    again
}

fn now() -> u64 {
    now_millis().max(0.0) as u64
}

/// The JS error a failed or aborted appender rejects everything with, made once. A failure's error carries
/// `unsent`: a Blob of every accepted byte not confirmed on the object, in order.
fn end_error(shared: &Rc<Shared>) -> JsValue {
    let mut st = shared.state.borrow_mut();
    if let Some(e) = &st.end_error {
        return e.clone();
    }
    let error = st
        .live
        .error()
        .cloned()
        .unwrap_or(Error::Aborted { reason: None });
    let js = to_js_error(&error, None);
    if let Some(sp) = &shared.spool {
        // Every unconfirmed byte is kept in the spool: reopen it, or discardSpool(id).
        set(&js, "spool", sp.id.as_str());
    }
    // Bytes that wait only on disk cannot go into a Blob here: the spool keeps them all.
    let spooled_only = st
        .part_pieces
        .iter()
        .chain(st.queue.iter())
        .any(|c| matches!(c, Chunk::Spooled(..)));
    if st.live.state() == LiveState::Failed && !spooled_only {
        let parts: Array = st
            .part_pieces
            .iter()
            .chain(st.queue.iter())
            .map(Chunk::js)
            .collect();
        set(&js, "unsent", blob_of(&parts));
        st.queue.clear();
        st.part_pieces.clear();
        st.part = None;
    }
    st.flush_timer = None;
    st.retry_timer = None;
    st.watches.clear();
    st.end_error = Some(js.clone());
    js
}

/// Carries out what the core decided for the waiters, and tells the app, outside any borrow (callbacks may
/// call back in).
fn after_change(shared: &Rc<Shared>) {
    loop {
        let notices = shared.state.borrow_mut().live.take_notices();
        if notices.is_empty() {
            break;
        }
        for notice in notices {
            match notice {
                Notice::Resolve(s) => {
                    let _ = s.resolve.call0(&JsValue::UNDEFINED);
                }
                Notice::Closed(s) => {
                    let _ = s.resolve.call1(&JsValue::UNDEFINED, &closed_value(shared));
                }
                Notice::Reject(s) => {
                    let _ = s.reject.call1(&JsValue::UNDEFINED, &end_error(shared));
                }
                Notice::State(state) => {
                    if state != LiveState::Open
                        && state != LiveState::Retrying
                        && state != LiveState::Closing
                    {
                        // An end: build the end error now, so that `unsent` holds the bytes as they were.
                        if state != LiveState::Closed {
                            end_error(shared);
                            if let Some(sp) = &shared.spool {
                                sp.let_go();
                            }
                        } else {
                            shared.state.borrow_mut().watches.clear();
                        }
                    }
                    if let Some(f) = &shared.on_state_change {
                        let _ = f.call1(&JsValue::UNDEFINED, &state.as_str().into());
                    }
                }
                Notice::Retry(info) => {
                    if let Some(f) = &shared.on_retry {
                        let value = retry_info(
                            info.attempt,
                            info.delay_ms as f64,
                            &to_js_error(&info.error, None),
                            info.buffered as f64,
                        );
                        let _ = f.call1(&JsValue::UNDEFINED, &value);
                    }
                }
            }
        }
    }
}

fn closed_value(shared: &Rc<Shared>) -> JsValue {
    let st = shared.state.borrow();
    closed_result(
        &shared.key,
        &st.position.to_string(),
        st.crc64.map_or(JsValue::NULL, |c| c.to_string().into()),
    )
}

/// Starts the pump when a part is due; arms the flush interval when bytes wait below `minPartSize`.
fn kick(shared: &Rc<Shared>) {
    let mut st = shared.state.borrow_mut();
    if st.live.waiting_for_more() && st.flush_timer.is_none() {
        let weak = Rc::downgrade(shared);
        st.flush_timer = Some(Timeout::start(shared.flush_interval_ms, move || {
            if let Some(shared) = weak.upgrade() {
                let mut st = shared.state.borrow_mut();
                st.flush_timer = None;
                st.live.flush_due();
                drop(st);
                kick(&shared);
            }
        }));
    }
    drop(st);
    start_pump(shared);
}

fn start_pump(shared: &Rc<Shared>) {
    {
        let mut st = shared.state.borrow_mut();
        if st.pumping {
            return;
        }
        st.pumping = true;
    }
    let shared = Rc::clone(shared);
    spawn_local(async move {
        pump(&shared).await;
        shared.state.borrow_mut().pumping = false;
        after_change(&shared);
    });
}

/// What the pump does next.
enum Job {
    /// Read these pieces into a new part of `len` bytes.
    Gather(Vec<Chunk>, u64),
    /// Send the waiting part again.
    Resend(Part),
}

/// Sends parts one at a time, in order, while the core has one due; stops when a part waits for its retry.
async fn pump(shared: &Rc<Shared>) {
    loop {
        let job = {
            let mut st = shared.state.borrow_mut();
            if st.live.is_waiting() {
                return;
            }
            if let Some(p) = &st.part {
                Job::Resend(Part {
                    body: p.body.clone(),
                    len: p.len,
                    crc: p.crc,
                })
            } else if let Some(len) = st.live.next_part(now()) {
                let pieces = take_pieces(&mut st.queue, len);
                st.part_pieces = pieces.clone();
                Job::Gather(pieces, len)
            } else {
                return;
            }
        };
        after_change(shared);
        let part = match job {
            Job::Resend(part) => Ok(part),
            Job::Gather(pieces, len) => {
                let part = gather(pieces, len, shared.spool.as_deref()).await;
                // From now on the part's body is its bytes (for `unsent` too): the pieces may go.
                if let Ok(Part {
                    body: Body::Bytes(bytes),
                    ..
                }) = &part
                {
                    shared.state.borrow_mut().part_pieces = vec![Chunk::Bytes(bytes.clone())];
                }
                part
            }
        };
        let mut session = shared
            .state
            .borrow_mut()
            .session
            .take()
            .expect("one pump at a time");
        let outcome = match &part {
            Ok(part) => {
                let signal = shared.controller.signal();
                let mut driver = Driver::new(
                    &shared.inner,
                    &shared.key,
                    &shared.write,
                    shared.timeout_ms,
                    Some(&signal),
                    shared.progress.as_ref(),
                );
                driver.append_part(&mut session, part).await
            }
            Err(e) => Err(e.clone()),
        };
        let confirmed = session.confirmed();
        let mut st = shared.state.borrow_mut();
        st.session = Some(session);
        match outcome {
            Ok(done) => {
                st.live.part_confirmed();
                st.part = None;
                st.part_pieces.clear();
                st.position = done.next_position;
                st.crc64 = Some(done.crc64);
                drop(st);
                if let Some(sp) = &shared.spool {
                    sp.confirmed(done.next_position, done.crc64);
                }
                shared
                    .inner
                    .remember(&shared.key, Some((done.next_position, done.crc64)));
                // After the state update, so the callback reads the new position and CRC.
                report_progress(
                    shared.progress.as_ref(),
                    confirmed,
                    None,
                    done.next_position,
                    false,
                );
                after_change(shared);
            }
            Err(e) => {
                st.part = part.ok();
                let delay = st.live.part_failed(e, now(), is_online(), random_unit());
                if let Some(ms) = delay {
                    let weak = Rc::downgrade(shared);
                    st.retry_timer = Some(Timeout::start(ms, move || {
                        if let Some(shared) = weak.upgrade() {
                            retry_now(&shared);
                        }
                    }));
                } else {
                    drop(st);
                    shared.inner.remember(&shared.key, None);
                }
                return;
            }
        }
    }
}

/// Takes the first `len` bytes of the queue, splitting a chunk where the part ends.
fn take_pieces(queue: &mut VecDeque<Chunk>, len: u64) -> Vec<Chunk> {
    let mut pieces = Vec::new();
    let mut need = len;
    while need > 0 {
        let chunk = queue
            .pop_front()
            .expect("the core counts only queued bytes");
        if chunk.len() > need {
            let (head, tail) = chunk.split(need);
            queue.push_front(tail);
            pieces.push(head);
            need = 0;
        } else {
            need -= chunk.len();
            pieces.push(chunk);
        }
    }
    pieces
}

/// Reads the pieces of one part in order, computing its CRC-64 on the way: one body in a browser, the pieces
/// themselves in Node.
async fn gather(pieces: Vec<Chunk>, len: u64, spool: Option<&Spool>) -> Result<Part, Error> {
    let mut crc = Crc64::new();
    let mut arrays = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let bytes = match piece {
            Chunk::Bytes(b) => b,
            Chunk::Blob(b) => {
                let buffer =
                    JsFuture::from(b.array_buffer())
                        .await
                        .map_err(|e| Error::InvalidResponse {
                            status: 0,
                            reason: format!("reading a written Blob failed: {}", js_message(&e)),
                            request_id: None,
                        })?;
                Uint8Array::new(&buffer)
            }
            Chunk::Spooled(start, end) => match spool {
                Some(sp) => sp.read_range(start, end).await?,
                None => unreachable!("only a spooled appender queues spooled bytes"),
            },
        };
        feed_bytes(&mut crc, &bytes);
        arrays.push(bytes);
    }
    if crc.len() != len {
        return Err(Error::InvalidResponse {
            status: 0,
            reason: format!(
                "a written Blob changed size: expected {len} bytes, read {}",
                crc.len()
            ),
            request_id: None,
        });
    }
    let body = match arrays.len() {
        0 => Body::Empty,
        // Node streams the pieces as they are: its fetch would copy one byte array twice more.
        _ if streams_bodies() => Body::Pieces(arrays.into_iter().collect()),
        1 => Body::Bytes(arrays.pop().expect("one")),
        _ => {
            let out = Uint8Array::new_with_length(len as u32);
            let mut at = 0;
            for a in &arrays {
                out.set(a, at);
                at += a.length();
            }
            Body::Bytes(out)
        }
    };
    Ok(Part {
        body,
        len,
        crc: crc.value(),
    })
}
