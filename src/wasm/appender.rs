//! `client.openAppender`: a live, ordered append stream (`write`, `flush`, `close`, `abort`, `writable`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortController, Blob, WritableStream};

use super::client::{set, spawn, Inner, Oss, Params};
use super::crc::feed_bytes;
use super::driver::{report_progress, Driver};
use super::js_error::to_js_error;
use super::options::{object_key, JsOptions};
use super::source::{describe, Part};
use super::timer::Timeout;
use super::transport::{js_message, AbortLink, Body};
use crate::append::AppendSession;
use crate::coalesce::Coalescer;
use crate::crc64::Crc64;
use crate::error::Error;
use crate::ops::{self, Sending, WriteOptions};
use crate::validate::{self, PartSizes, MAX_OBJECT_SIZE};

#[wasm_bindgen]
extern "C" {
    // `blob.slice(start, end)`, which never throws (web-sys declares it fallible).
    #[wasm_bindgen(js_namespace = ["Blob", "prototype", "slice"], js_name = call)]
    fn blob_slice(blob: &Blob, start: f64, end: f64) -> Blob;
}

/// How long small writes wait for company before they go out anyway, by default.
const DEFAULT_FLUSH_INTERVAL_MS: u64 = 1000;

#[wasm_bindgen(js_class = OSS)]
impl Oss {
    /// Opens a live appender on `name`: `{ position: 'resume' | n, partSize, minPartSize, flushInterval,
    /// headers, meta, mime, progress, signal, initCrc64, timeout }`. `'resume'` continues an existing
    /// appendable object after one HEAD; a missing object starts at 0.
    #[wasm_bindgen(js_name = openAppender)]
    pub fn open_appender(&self, name: JsValue, options: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        let p = Params::new(&inner, "POST", &name);
        spawn(Some(p), async move {
            open(inner, name, options).await.map(JsValue::from)
        })
    }
}

/// A live append stream onto one object. Writes go out in order, coalesced, each exactly once.
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
            .finish()
    }
}

/// What never changes after opening.
struct Shared {
    inner: Rc<Inner>,
    key: String,
    write: WriteOptions,
    timeout_ms: u64,
    flush_interval_ms: u64,
    progress: Option<Function>,
    /// Aborts the request under way when the appender is aborted (or the caller's signal fires).
    controller: AbortController,
    _caller_signal: Option<AbortLink>,
    state: RefCell<State>,
}

#[derive(PartialEq)]
enum Status {
    Open,
    Closing,
    Closed,
    Failed,
    Aborted,
}

enum Chunk {
    Bytes(Uint8Array),
    Blob(Blob),
}

impl Chunk {
    fn len(&self) -> u64 {
        match self {
            Chunk::Bytes(b) => u64::from(b.length()),
            Chunk::Blob(b) => b.size() as u64,
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
        }
    }
}

struct Waiter {
    /// Resolve once this many bytes since opening are on the object.
    end: u64,
    resolve: Function,
    reject: Function,
}

struct State {
    status: Status,
    /// Taken out while a part is being appended.
    session: Option<AppendSession>,
    queue: VecDeque<Chunk>,
    coalescer: Coalescer,
    accepted: u64,
    confirmed: u64,
    position: u64,
    crc64: Option<u64>,
    writes: VecDeque<Waiter>,
    ready: Vec<(Function, Function)>,
    closers: Vec<(Function, Function)>,
    error: Option<Error>,
    pumping: bool,
    timer: Option<Timeout>,
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
    let timeout_ms = o.timeout_ms(inner.config.timeout_ms)?;
    let init_crc = o.init_crc64()?;
    let progress = o.function("progress")?;
    let signal = o.signal("signal")?;
    write.check_content_md5(Sending::Live)?;
    ops::append_object(&inner.config.bucket, &key, position, &write)?;

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
    let policy = inner.append_policy();
    let session = if resume {
        let mut driver = Driver {
            inner: &inner,
            key: &key,
            write: &write,
            timeout_ms,
            signal: signal.as_ref(),
            progress: None,
            urls: Vec::new(),
            last: None,
        };
        AppendSession::resume_from_head(driver.head().await?.as_ref(), policy)?
    } else {
        let prior = init_crc.or_else(|| inner.known_crc(&key, position));
        AppendSession::new(position, prior, policy)
    };
    let link = signal.as_ref().map(|s| AbortLink::new(s, &controller));
    let state = State {
        status: Status::Open,
        position: session.position(),
        crc64: session.crc64(),
        session: Some(session),
        queue: VecDeque::new(),
        coalescer: Coalescer::new(sizes),
        accepted: 0,
        confirmed: 0,
        writes: VecDeque::new(),
        ready: Vec::new(),
        closers: Vec::new(),
        error: None,
        pumping: false,
        timer: None,
    };
    Ok(Appender {
        shared: Rc::new(Shared {
            inner,
            key,
            write,
            timeout_ms,
            flush_interval_ms,
            progress,
            controller,
            _caller_signal: link,
            state: RefCell::new(state),
        }),
    })
}

#[wasm_bindgen]
impl Appender {
    /// Queues `data` (Blob, Uint8Array, Buffer, ArrayBuffer) after everything written before; resolves
    /// when its bytes are on the object.
    pub fn write(&self, data: JsValue) -> Promise {
        write(&self.shared, data)
    }

    /// Sends everything buffered; resolves when it is on the object.
    pub fn flush(&self) -> Promise {
        let shared = Rc::clone(&self.shared);
        Promise::new(&mut |resolve, reject| {
            let mut st = shared.state.borrow_mut();
            if let Some(e) = refusal(&st, "flush") {
                let _ = reject.call1(&JsValue::UNDEFINED, &e);
                return;
            }
            st.coalescer.flush_all();
            let end = st.accepted;
            st.writes.push_back(Waiter {
                end,
                resolve,
                reject,
            });
            drop(st);
            settle(&shared);
            kick(&shared);
        })
    }

    /// Flushes, then ends the appender: resolves `{ nextAppendPosition, crc64 }`. Later writes reject.
    pub fn close(&self) -> Promise {
        close(&self.shared)
    }

    /// Stops at once: the request under way is cancelled, unsent writes reject with `AbortError`; what is
    /// already on the object stays.
    pub fn abort(&self, reason: JsValue) -> Promise {
        abort(&self.shared, reason);
        Promise::resolve(&JsValue::UNDEFINED)
    }

    /// Resolves when fewer than `partSize` bytes wait to be sent (backpressure for fast producers).
    pub fn ready(&self) -> Promise {
        ready(&self.shared)
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

    /// Bytes written but not yet on the object.
    #[wasm_bindgen(getter)]
    pub fn pending(&self) -> f64 {
        let st = self.shared.state.borrow();
        (st.accepted - st.confirmed) as f64
    }

    /// A WHATWG `WritableStream` over this appender, with backpressure: `readable.pipeTo(w.writable)`.
    #[wasm_bindgen(getter)]
    pub fn writable(&self) -> Result<WritableStream, JsValue> {
        let sink = Object::new();
        let s = Rc::clone(&self.shared);
        let write_fn = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |chunk: JsValue| {
            // A refused chunk fails the stream at once; otherwise the stream's write resolves on acceptance
            // (with backpressure) and the durable outcome shows through ready() and close().
            match enqueue(&s, chunk) {
                Ok(durable) => {
                    ignore_rejection(&durable);
                    ready(&s)
                }
                Err(e) => Promise::reject(&e),
            }
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

/// Marks a promise's rejection as handled (Node ends the process on unhandled rejections).
fn ignore_rejection(promise: &Promise) {
    if let Ok(catch) = js_sys::Reflect::get(promise, &"catch".into()) {
        let catch: Function = catch.unchecked_into();
        let _ = catch.call1(promise, &Function::new_no_args(""));
    }
}

/// Why the appender refuses new work, as a JS error, or `None` when it is open.
fn refusal(st: &State, what: &str) -> Option<JsValue> {
    let error = match st.status {
        Status::Open => return None,
        Status::Closing | Status::Closed => Error::invalid("appender", format!("cannot {what}: the appender is closed; open a new one with position: 'resume' to continue the object")),
        Status::Aborted => Error::Aborted { reason: Some(format!("cannot {what}: the appender was aborted")) },
        Status::Failed => st.error.clone().unwrap_or(Error::Aborted { reason: None }),
    };
    Some(to_js_error(&error, None))
}

fn write(shared: &Rc<Shared>, data: JsValue) -> Promise {
    enqueue(shared, data).unwrap_or_else(|e| Promise::reject(&e))
}

/// Queues `data`, or refuses it at once (not bytes, a closed, failed or aborted appender, past the size
/// limit); the promise resolves when the bytes are on the object.
fn enqueue(shared: &Rc<Shared>, data: JsValue) -> Result<Promise, JsValue> {
    let data = super::source::writable_data(&data)?;
    let Some(chunk) = data_chunk(&data) else {
        let e = Error::invalid(
            "data",
            format!(
                "{} cannot be written; write a Blob, a Uint8Array or Buffer, or an ArrayBuffer",
                describe(&data)
            ),
        );
        return Err(to_js_error(&e, None));
    };
    let mut st = shared.state.borrow_mut();
    if let Some(e) = refusal(&st, "write") {
        return Err(e);
    }
    let len = chunk.len();
    validate::check_append_size(
        st.position,
        st.accepted - st.confirmed + len,
        MAX_OBJECT_SIZE,
    )
    .map_err(|e| to_js_error(&e, None))?;
    if len > 0 {
        st.queue.push_back(chunk);
    }
    st.accepted += len;
    st.coalescer.push(len);
    let end = st.accepted;
    let mut waiter = None;
    let promise = Promise::new(&mut |resolve, reject| {
        waiter = Some(Waiter {
            end,
            resolve,
            reject,
        })
    });
    st.writes
        .push_back(waiter.expect("the executor runs at once"));
    drop(st);
    settle(shared);
    kick(shared);
    Ok(promise)
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
    let shared = Rc::clone(shared);
    Promise::new(&mut |resolve, reject| {
        let mut st = shared.state.borrow_mut();
        match st.status {
            Status::Open => {}
            Status::Closing | Status::Closed => {
                st.closers.push((resolve.clone(), reject.clone()));
                drop(st);
                settle(&shared);
                return;
            }
            _ => {
                if let Some(e) = refusal(&st, "close") {
                    let _ = reject.call1(&JsValue::UNDEFINED, &e);
                }
                return;
            }
        }
        st.status = Status::Closing;
        st.coalescer.close();
        st.timer = None;
        st.closers.push((resolve.clone(), reject.clone()));
        drop(st);
        settle(&shared);
        kick(&shared);
    })
}

fn abort(shared: &Rc<Shared>, reason: JsValue) {
    let mut st = shared.state.borrow_mut();
    if matches!(st.status, Status::Closed | Status::Failed | Status::Aborted) {
        return;
    }
    st.status = Status::Aborted;
    st.timer = None;
    st.queue.clear();
    let reason = reason.as_string().or_else(|| {
        js_sys::Reflect::get(&reason, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
    });
    st.error = Some(Error::Aborted { reason });
    drop(st);
    shared.controller.abort();
    fail_all(shared);
}

fn ready(shared: &Rc<Shared>) -> Promise {
    let shared = Rc::clone(shared);
    Promise::new(&mut |resolve, reject| {
        let mut st = shared.state.borrow_mut();
        if matches!(st.status, Status::Failed | Status::Aborted) {
            if let Some(e) = refusal(&st, "write") {
                let _ = reject.call1(&JsValue::UNDEFINED, &e);
            }
        } else if !st.coalescer.is_full() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        } else {
            st.ready.push((resolve.clone(), reject.clone()));
        }
    })
}

/// Resolves every waiter whose bytes are on the object, and the closers once everything is.
fn settle(shared: &Rc<Shared>) {
    let mut done = Vec::new();
    let mut readied = Vec::new();
    let mut closed = Vec::new();
    {
        let mut st = shared.state.borrow_mut();
        while st.writes.front().is_some_and(|w| w.end <= st.confirmed) {
            done.push(st.writes.pop_front().expect("checked"));
        }
        if !st.coalescer.is_full() {
            readied = std::mem::take(&mut st.ready);
        }
        let finished = st.status == Status::Closing
            && st.confirmed == st.accepted
            && !st.pumping
            && st.coalescer.next_part().is_none();
        if finished || (st.status == Status::Closed) {
            st.status = Status::Closed;
            closed = std::mem::take(&mut st.closers);
        }
    }
    for w in done {
        let _ = w.resolve.call0(&JsValue::UNDEFINED);
    }
    for (resolve, _) in readied {
        let _ = resolve.call0(&JsValue::UNDEFINED);
    }
    if !closed.is_empty() {
        let st = shared.state.borrow();
        let result = Object::new();
        set(&result, "name", shared.key.as_str());
        set(&result, "nextAppendPosition", st.position.to_string());
        set(
            &result,
            "crc64",
            st.crc64.map_or(JsValue::NULL, |c| c.to_string().into()),
        );
        drop(st);
        for (resolve, _) in closed {
            let _ = resolve.call1(&JsValue::UNDEFINED, &result);
        }
    }
}

/// Rejects everything waiting with the appender's error.
fn fail_all(shared: &Rc<Shared>) {
    let (writes, ready, closers, error) = {
        let mut st = shared.state.borrow_mut();
        let error = st.error.clone().unwrap_or(Error::Aborted { reason: None });
        (
            std::mem::take(&mut st.writes),
            std::mem::take(&mut st.ready),
            std::mem::take(&mut st.closers),
            error,
        )
    };
    let e = to_js_error(&error, None);
    for w in writes {
        let _ = w.reject.call1(&JsValue::UNDEFINED, &e);
    }
    for (_, reject) in ready.into_iter().chain(closers) {
        let _ = reject.call1(&JsValue::UNDEFINED, &e);
    }
}

/// Starts the pump unless it runs; arms the flush interval when bytes wait below `minPartSize`.
fn kick(shared: &Rc<Shared>) {
    let mut st = shared.state.borrow_mut();
    if matches!(st.status, Status::Failed | Status::Aborted) {
        return;
    }
    if st.pumping || st.coalescer.next_part().is_none() {
        if st.coalescer.waiting_for_more() && st.timer.is_none() && st.status == Status::Open {
            let weak = Rc::downgrade(shared);
            st.timer = Some(Timeout::start(shared.flush_interval_ms, move || {
                if let Some(shared) = weak.upgrade() {
                    let mut st = shared.state.borrow_mut();
                    st.timer = None;
                    st.coalescer.flush_all();
                    drop(st);
                    kick(&shared);
                }
            }));
        }
        return;
    }
    st.pumping = true;
    st.timer = None;
    drop(st);
    let shared = Rc::clone(shared);
    spawn_local(async move { pump(shared).await });
}

/// Sends parts while the coalescer has some, one at a time, in order.
async fn pump(shared: Rc<Shared>) {
    loop {
        let (pieces, len, mut session) = {
            let mut st = shared.state.borrow_mut();
            let Some(len) = st.coalescer.next_part() else {
                break;
            };
            if matches!(st.status, Status::Failed | Status::Aborted) {
                break;
            }
            let mut pieces = Vec::new();
            let mut need = len;
            while need > 0 {
                let chunk = st
                    .queue
                    .pop_front()
                    .expect("the coalescer counts only queued bytes");
                if chunk.len() > need {
                    let (head, tail) = chunk.split(need);
                    st.queue.push_front(tail);
                    pieces.push(head);
                    need = 0;
                } else {
                    need -= chunk.len();
                    pieces.push(chunk);
                }
            }
            st.coalescer.take(len);
            (pieces, len, st.session.take().expect("one pump at a time"))
        };
        settle(&shared);
        let outcome = match gather(pieces, len).await {
            Ok(part) => {
                let mut driver = Driver {
                    inner: &shared.inner,
                    key: &shared.key,
                    write: &shared.write,
                    timeout_ms: shared.timeout_ms,
                    signal: Some(&shared.controller.signal()),
                    progress: shared.progress.as_ref(),
                    urls: Vec::new(),
                    last: None,
                };
                driver.append_part(&mut session, &part).await
            }
            Err(e) => Err(e),
        };
        {
            let mut st = shared.state.borrow_mut();
            match &outcome {
                Ok(done) => {
                    st.confirmed += len;
                    st.position = done.next_position;
                    st.crc64 = Some(done.crc64);
                    let known = (done.next_position, done.crc64);
                    drop(st);
                    shared.inner.remember(&shared.key, Some(known));
                    // After the state update, so the callback reads the new position and CRC.
                    report_progress(
                        shared.progress.as_ref(),
                        session.confirmed(),
                        None,
                        done.next_position,
                        false,
                    );
                }
                Err(e) => {
                    if st.status != Status::Aborted {
                        st.status = Status::Failed;
                        st.error = Some(e.clone());
                    }
                    st.queue.clear();
                    st.timer = None;
                    drop(st);
                    shared.inner.remember(&shared.key, None);
                }
            }
        }
        shared.state.borrow_mut().session = Some(session);
        if outcome.is_err() {
            shared.state.borrow_mut().pumping = false;
            fail_all(&shared);
            return;
        }
        settle(&shared);
    }
    shared.state.borrow_mut().pumping = false;
    settle(&shared);
    kick(&shared);
}

/// Reads the pieces of one part in order into a single body, computing its CRC-64 on the way.
async fn gather(pieces: Vec<Chunk>, len: u64) -> Result<Part, Error> {
    let mut crc = Crc64::new();
    let mut arrays = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let bytes = match piece {
            Chunk::Bytes(b) => b,
            Chunk::Blob(b) => {
                let buffer =
                    JsFuture::from(b.array_buffer())
                        .await
                        .map_err(|e| Error::Request {
                            message: format!("reading a written Blob failed: {}", js_message(&e)),
                        })?;
                Uint8Array::new(&buffer)
            }
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
