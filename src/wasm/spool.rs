//! A live appender's spool in the runtime: the store's calls (OPFS, IndexedDB, Node files), and carrying out what
//! the core's [`crate::spool`] decides: persisting writes in order, trimming what OSS confirmed, reopening.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::Blob;

use super::client::{spawn, Inner, Oss};
use super::crc::feed_bytes;
use super::options::JsOptions;
use super::timer::now_millis;
use super::transport::js_message;
use crate::append::ObjectHead;
use crate::crc64::Crc64;
use crate::error::Error;
use crate::spool::{self, Reopen, Segment, SpoolRecord, RECORD_NAME};
use crate::strings::debug_quoted;

#[wasm_bindgen(module = "/src/wasm/spool.js")]
extern "C" {
    /// A spool store: `{ ids, entries, readText, write, read, remove, discard }`.
    pub(crate) type Store;
    #[wasm_bindgen(js_name = spoolStore, catch)]
    fn spool_store(dir: &JsValue) -> Result<Store, JsValue>;
    #[wasm_bindgen(js_name = noopFunction)]
    pub(crate) fn noop_function() -> Function;
    #[wasm_bindgen(js_name = lockSpool, catch)]
    async fn lock_spool(store: &Store, id: &str) -> Result<JsValue, JsValue>;
    fn unfinished(
        spool: &str,
        name: &str,
        position: &str,
        pending: f64,
        updated_at: f64,
    ) -> JsValue;

    #[wasm_bindgen(method, catch)]
    async fn ids(this: &Store) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    async fn entries(this: &Store, id: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = readText)]
    async fn read_text(this: &Store, id: &str, name: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    async fn write(this: &Store, id: &str, name: &str, data: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    async fn read(
        this: &Store,
        id: &str,
        name: &str,
        start: f64,
        end: f64,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    async fn remove(this: &Store, id: &str, name: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    async fn discard(this: &Store, id: &str) -> Result<JsValue, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    // `blob.slice(start, end)`, which never throws.
    #[wasm_bindgen(js_namespace = ["Blob", "prototype", "slice"], js_name = call)]
    fn blob_slice(blob: &Blob, start: f64, end: f64) -> Blob;
}

fn storage_error(e: &JsValue) -> Error {
    let name = js_sys::Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    let code = js_sys::Reflect::get(e, &"code".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    if code == "InvalidArgument" {
        return Error::invalid("options.spool", js_message(e));
    }
    let quota = name == "QuotaExceededError" || code == "ENOSPC" || code == "EDQUOT";
    Error::InvalidResponse {
        status: 0,
        reason: format!(
            "the spool's local storage failed{}: {}",
            if quota {
                " (storage quota or disk full)"
            } else {
                ""
            },
            js_message(e)
        ),
        request_id: None,
    }
}

/// `spool`, `maxSpool` and `spoolDir` of `openAppender`'s options, checked.
pub(crate) struct SpoolOptions {
    pub(crate) id: String,
    pub(crate) max_spool: u64,
    dir: Option<String>,
}

impl SpoolOptions {
    /// `None` without `options.spool`.
    pub(crate) fn read(o: &JsOptions<'_>) -> Result<Option<Self>, Error> {
        let Some(id) = o.string("spool")? else {
            return Ok(None);
        };
        spool::check_id(&id)?;
        let max_spool = spool::max_spool(o.integer("maxSpool")?.as_ref())?;
        let dir = spool_dir(o)?;
        Ok(Some(Self { id, max_spool, dir }))
    }
}

fn spool_dir(o: &JsOptions<'_>) -> Result<Option<String>, Error> {
    let dir = o.string("spoolDir")?;
    if let Some(d) = &dir {
        spool::check_dir("options.spoolDir", d)?;
    }
    Ok(dir)
}

fn open_store(dir: Option<&str>) -> Result<Store, Error> {
    let dir = dir.map_or(JsValue::UNDEFINED, JsValue::from_str);
    spool_store(&dir).map_err(|e| storage_error(&e))
}

/// A spool's entries as `(name, size)`, and the newest modification time.
async fn listing(store: &Store, id: &str) -> Result<(Vec<(String, u64)>, f64), Error> {
    let list: Array = store
        .entries(id)
        .await
        .map_err(|e| storage_error(&e))?
        .into();
    let mut out = Vec::new();
    let mut newest: f64 = 0.0;
    for entry in list.iter() {
        let entry: Array = entry.into();
        let name = entry.get(0).as_string().unwrap_or_default();
        let size = entry.get(1).as_f64().unwrap_or(-1.0);
        newest = newest.max(entry.get(2).as_f64().unwrap_or(0.0));
        // A size that is not a whole number matches no segment: the survey drops it.
        out.push((name, if size >= 0.0 { size as u64 } else { u64::MAX }));
    }
    Ok((out, newest))
}

async fn read_record(store: &Store, id: &str) -> Result<Option<SpoolRecord>, Error> {
    let text = store
        .read_text(id, RECORD_NAME)
        .await
        .map_err(|e| storage_error(&e))?;
    match text.as_string() {
        // An empty record is one a crash interrupted before any byte was spooled.
        Some(t) if !t.is_empty() => SpoolRecord::decode(&t).map(Some),
        _ => Ok(None),
    }
}

/// The spool of one open appender.
pub(crate) struct Spool {
    store: Store,
    pub(crate) id: String,
    base: SpoolRecord,
    /// Segments are at most this long (the part size), so the spool stays within the unconfirmed bytes plus
    /// one part.
    max_segment: u64,
    max_spool: u64,
    state: RefCell<SpoolState>,
    /// Called when more bytes are persisted (the appender may then drop them from memory).
    pub(crate) on_persisted: RefCell<Option<Box<dyn Fn()>>>,
    /// Lets go of the spool's lock (once).
    unlock: RefCell<Option<Function>>,
}

struct SpoolState {
    /// Complete segments on storage, in order.
    stored: VecDeque<Segment>,
    /// Where the next write's segments start.
    written_end: u64,
    /// Every byte before this is on storage (or confirmed).
    persisted_end: u64,
    /// The start of the last record written completely: segments ending at or before it may go.
    durable_start: u64,
    /// The object position when the appender opened.
    opened_at: u64,
    confirmed: u64,
    /// The object's CRC-64 at `confirmed`.
    confirmed_crc: u64,
    /// The last job: storage work runs one job at a time, in order.
    tail: Promise,
    /// Accepted writes waiting to be stored, `(offset, data, len)`, and whether a job will take them.
    waiting: VecDeque<(u64, JsValue, u64)>,
    draining: bool,
    /// Why storage failed, when it did: writes are refused until every byte accepted so far is confirmed
    /// (a spool cannot have a gap).
    failed: Option<String>,
}

/// What reopening a spool leaves to send first: object ranges `[start, end)` read back from the spool.
pub(crate) type Preload = Vec<(u64, u64)>;

/// Opens (or creates) the spool for an appender on `key`, deciding from one HEAD; returns the spool, the
/// HEAD for the append session, and the spooled ranges to send first.
/// A spool held for one appender, its record read (`None`: a new spool).
pub(crate) struct Locked {
    store: Store,
    unlock: Function,
    id: String,
    base: SpoolRecord,
    max_spool: u64,
    record: Option<SpoolRecord>,
}

impl Locked {
    /// Whether the spool holds a recording already: then its reopen is decided from a HEAD.
    pub(crate) fn exists(&self) -> bool {
        self.record.is_some()
    }

    /// Lets the spool go without opening it.
    pub(crate) fn abandon(self) {
        let _ = self.unlock.call0(&JsValue::UNDEFINED);
    }
}

/// Locks spool `options.id` for an appender on `key` and reads its record.
///
/// # Errors
/// `InvalidArgument` when another appender holds it or it records another object; storage failures.
pub(crate) async fn lock(
    inner: &Inner,
    key: &str,
    options: &SpoolOptions,
) -> Result<Locked, Error> {
    let store = open_store(options.dir.as_deref())?;
    let unlock = lock_spool(&store, &options.id)
        .await
        .map_err(|e| storage_error(&e))?;
    let Some(unlock) = unlock.dyn_ref::<Function>().cloned() else {
        return Err(Error::invalid(
            "options.spool",
            format!(
                "spool {} is open in another appender (in this page or process, another tab or another process); close or abort that one first",
                debug_quoted(&options.id)
            ),
        ));
    };
    let id = options.id.clone();
    let base = SpoolRecord {
        bucket: inner.config.bucket.clone(),
        key: key.to_owned(),
        endpoint: inner.config.endpoint.to_string(),
        start_position: 0,
        start_crc: 0,
        updated_at_ms: 0,
    };
    let record = match read_record(&store, &id).await {
        Ok(r) => r,
        Err(e) => {
            let _ = unlock.call0(&JsValue::UNDEFINED);
            return Err(e);
        }
    };
    if let Some(record) = &record {
        if (&record.bucket, &record.key, &record.endpoint)
            != (&base.bucket, &base.key, &base.endpoint)
        {
            let _ = unlock.call0(&JsValue::UNDEFINED);
            return Err(Error::invalid(
                "options.spool",
                format!(
                    "spool {quoted} holds a recording of oss://{}/{} at {}; open it with that name on a client for that bucket and endpoint, or discardSpool({quoted})",
                    record.bucket, record.key, record.endpoint, quoted = debug_quoted(&id)
                ),
            ));
        }
    }
    Ok(Locked {
        store,
        unlock,
        id,
        base,
        max_spool: options.max_spool,
        record,
    })
}

/// Where the object stands for a spool: a HEAD's answer, or (a new spool only) a known position and CRC-64.
pub(crate) enum Start {
    Head(Option<ObjectHead>),
    At(u64, u64),
}

/// Opens a locked spool from where the object stands; returns the spool and the spooled ranges to send first.
///
/// # Errors
/// `SpoolMismatch` when the object does not continue the spool (the spool is left as it is); storage failures.
pub(crate) async fn open(
    locked: Locked,
    start: Start,
    max_segment: u64,
) -> Result<(Rc<Spool>, Preload), Error> {
    let unlock = locked.unlock.clone();
    let opened = open_locked(locked, start, max_segment).await;
    if opened.is_err() {
        let _ = unlock.call0(&JsValue::UNDEFINED);
    }
    opened
}

async fn open_locked(
    locked: Locked,
    start: Start,
    max_segment: u64,
) -> Result<(Rc<Spool>, Preload), Error> {
    let Locked {
        store,
        unlock,
        id,
        base,
        max_spool,
        record: existing,
    } = locked;
    let head = match &start {
        Start::Head(h) => h.clone(),
        Start::At(..) => None,
    };
    let mut preload = Vec::new();
    let mut stored = VecDeque::new();
    let (start, crc, end) = match existing {
        Some(record) => {
            let (entries, _) = listing(&store, &id).await?;
            let survey = spool::survey(record.start_position, &entries);
            let (start, crc) = match spool::reopen(&record, survey.end, head.as_ref())? {
                Reopen::SendAll => (record.start_position, record.start_crc),
                Reopen::VerifyPrefix { len } => {
                    let head = head.as_ref().expect("a prefix is decided from a HEAD");
                    let mut crc = Crc64::continuing(record.start_crc);
                    let mut need = len;
                    for piece in &survey.pieces {
                        if need == 0 {
                            break;
                        }
                        let from = piece.skip;
                        let to = piece.segment.len.min(from + need);
                        let bytes = read_bytes(&store, &id, &piece.segment, from, to).await?;
                        feed_bytes(&mut crc, &bytes);
                        need -= to - from;
                    }
                    spool::check_prefix(&record, survey.end, head, crc.value())?;
                    (head.length, crc.value())
                }
            };
            for name in &survey.stale {
                let _ = store.remove(&id, name).await;
            }
            let mut cursor = start;
            for piece in &survey.pieces {
                stored.push_back(piece.segment);
                if piece.segment.end() > cursor {
                    preload.push((cursor, piece.segment.end()));
                    cursor = piece.segment.end();
                }
            }
            (start, crc, survey.end)
        }
        None => {
            let (start, crc) = match (&start, &head) {
                (Start::At(p, c), _) => (*p, *c),
                (_, None) => (0, 0),
                (_, Some(h)) => {
                    let session = crate::append::AppendSession::resume_from_head(
                        Some(h),
                        crate::append::AppendPolicy::default(),
                    )?;
                    (session.position(), session.crc64().unwrap_or(0))
                }
            };
            (start, crc, start)
        }
    };
    let spool = Rc::new(Spool {
        store,
        id,
        base,
        max_segment,
        max_spool,
        state: RefCell::new(SpoolState {
            stored,
            written_end: end,
            persisted_end: end,
            durable_start: 0,
            opened_at: start,
            confirmed: start,
            confirmed_crc: crc,
            tail: Promise::resolve(&JsValue::UNDEFINED),
            waiting: VecDeque::new(),
            draining: false,
            failed: None,
        }),
        on_persisted: RefCell::new(None),
        unlock: RefCell::new(Some(unlock)),
    });
    // The record at the object's position, before any write counts; then what it makes stale goes.
    spool.write_record(start, crc).await?;
    spool.trim(start).await;
    Ok((spool, preload))
}

async fn read_bytes(
    store: &Store,
    id: &str,
    segment: &Segment,
    from: u64,
    to: u64,
) -> Result<Uint8Array, Error> {
    let value = store
        .read(id, &segment.name(), from as f64, to as f64)
        .await
        .map_err(|e| storage_error(&e))?;
    Ok(value.unchecked_into())
}

impl Spool {
    async fn write_record(&self, start: u64, crc: u64) -> Result<(), Error> {
        let record = SpoolRecord {
            start_position: start,
            start_crc: crc,
            updated_at_ms: now_millis().max(0.0) as u64,
            ..self.base.clone()
        };
        self.store
            .write(&self.id, RECORD_NAME, &record.encode().into())
            .await
            .map_err(|e| storage_error(&e))?;
        let mut st = self.state.borrow_mut();
        st.durable_start = st.durable_start.max(start);
        Ok(())
    }

    /// Removes the stored segments a durable record at `start` covers.
    async fn trim(&self, start: u64) {
        let gone: Vec<Segment> = {
            let mut st = self.state.borrow_mut();
            let limit = start.min(st.durable_start);
            let mut gone = Vec::new();
            while st
                .stored
                .front()
                .is_some_and(|s| spool::is_confirmed(s, limit))
            {
                gone.push(st.stored.pop_front().expect("checked"));
            }
            gone
        };
        for s in gone {
            let _ = self.store.remove(&self.id, &s.name()).await;
        }
    }

    /// Runs `job` after every job before it.
    fn chain<F>(self: &Rc<Self>, job: impl FnOnce(Rc<Self>) -> F + 'static)
    where
        F: std::future::Future<Output = ()> + 'static,
    {
        let prev = self.state.borrow().tail.clone();
        let me = Rc::clone(self);
        let next = future_to_promise(async move {
            let _ = JsFuture::from(prev).await;
            job(me).await;
            Ok(JsValue::UNDEFINED)
        });
        self.state.borrow_mut().tail = next;
    }

    /// Why a write of `length` bytes cannot be spooled now (with `unconfirmed` bytes accepted and not
    /// confirmed): it would take the spool past `maxSpool`, or storage failed.
    pub(crate) fn refusal(&self, unconfirmed: u64, length: u64) -> Option<Error> {
        if let Some(reason) = &self.state.borrow().failed {
            return Some(Error::SpoolFull {
                length,
                reason: reason.clone(),
            });
        }
        spool::check_room(unconfirmed, length, self.max_spool).err()
    }

    /// Persists an accepted write (`data`: a Uint8Array or a Blob of `len` bytes), in order after every write
    /// before it. Writes that wait together are stored together, as segments of at most a part.
    pub(crate) fn persist(self: &Rc<Self>, data: &JsValue, len: u64) {
        let schedule = {
            let mut st = self.state.borrow_mut();
            let offset = st.written_end;
            st.written_end += len;
            st.waiting.push_back((offset, data.clone(), len));
            !std::mem::replace(&mut st.draining, true)
        };
        if schedule {
            self.chain(|me| async move { me.drain().await });
        }
    }

    /// Stores the writes waiting now; what comes meanwhile goes in a later job, behind the records queued since.
    async fn drain(self: &Rc<Self>) {
        let batch: Vec<(u64, JsValue, u64)> = {
            let mut st = self.state.borrow_mut();
            st.draining = false;
            std::mem::take(&mut st.waiting).into_iter().collect()
        };
        let Some(&(offset, _, _)) = batch.first() else {
            return;
        };
        let lens: Vec<u64> = batch.iter().map(|(_, _, len)| *len).collect();
        for plan in spool::batch_segments(offset, &lens, self.max_segment) {
            let pieces: Array = plan
                .pieces
                .iter()
                .map(|&(i, from, to)| slice(&batch[i].1, from as f64, to as f64))
                .collect();
            if !self.store_segment(plan.segment, pieces).await {
                return;
            }
        }
    }

    /// Stores one segment (unless OSS confirmed it meanwhile); false once storage has failed.
    async fn store_segment(self: &Rc<Self>, segment: Segment, pieces: Array) -> bool {
        if self.state.borrow().failed.is_some() {
            return false;
        }
        // Bytes OSS confirmed while they waited to be stored need no storing: once the record says so (a crash
        // must never find the object past a record whose bytes are missing).
        let confirmed = {
            let st = self.state.borrow();
            spool::is_confirmed(&segment, st.confirmed).then_some((
                st.confirmed,
                st.confirmed_crc,
                st.durable_start,
            ))
        };
        if let Some((position, crc, durable)) = confirmed {
            if durable < position && self.write_record(position, crc).await.is_ok() {
                self.trim(position).await;
            }
            self.state.borrow_mut().persisted_end = segment.end();
            return true;
        }
        match self.store.write(&self.id, &segment.name(), &pieces).await {
            Ok(_) => {
                let covered = {
                    let mut st = self.state.borrow_mut();
                    st.persisted_end = segment.end();
                    st.stored.push_back(segment);
                    st.durable_start
                };
                if spool::is_confirmed(&segment, covered) {
                    self.trim(covered).await;
                }
                let callback = self.on_persisted.borrow();
                if let Some(f) = callback.as_ref() {
                    f();
                }
                true
            }
            Err(e) => {
                self.state.borrow_mut().failed = Some(storage_error(&e).to_string());
                false
            }
        }
    }

    /// OSS confirmed the object up to `position` with `crc`: the record moves there, then what it covers goes.
    pub(crate) fn confirmed(self: &Rc<Self>, position: u64, crc: u64) {
        {
            let mut st = self.state.borrow_mut();
            st.confirmed = position;
            st.confirmed_crc = crc;
            if st.failed.is_some() && position >= st.written_end {
                // Every accepted byte is on OSS: the spool has no gap any more and takes writes again.
                st.failed = None;
                st.persisted_end = position;
            }
        }
        self.chain(move |me| async move {
            if me.state.borrow().durable_start >= position {
                return;
            }
            if me.write_record(position, crc).await.is_ok() {
                me.trim(position).await;
            }
        });
    }

    /// Every byte before this is on storage or confirmed.
    pub(crate) fn persisted_end(&self) -> u64 {
        let st = self.state.borrow();
        st.persisted_end.max(st.confirmed)
    }

    /// `w.spooled`: bytes written since opening that are on storage or confirmed.
    pub(crate) fn spooled(&self) -> u64 {
        self.persisted_end()
            .saturating_sub(self.state.borrow().opened_at)
    }

    /// The bytes of object range `[start, end)`, read back from the spool.
    pub(crate) async fn read_range(&self, start: u64, end: u64) -> Result<Uint8Array, Error> {
        let segments: Vec<Segment> = self
            .state
            .borrow()
            .stored
            .iter()
            .filter(|s| s.end() > start && s.offset < end)
            .copied()
            .collect();
        let out = Uint8Array::new_with_length((end - start) as u32);
        let mut at = start;
        for s in segments {
            if s.offset > at {
                break;
            }
            let to = s.end().min(end);
            let bytes = read_bytes(&self.store, &self.id, &s, at - s.offset, to - s.offset).await?;
            out.set(&bytes, (at - start) as u32);
            at = to;
        }
        if at != end {
            return Err(storage_error(&JsValue::from_str(&format!(
                "bytes {at} to {end} are missing from spool {}",
                debug_quoted(&self.id)
            ))));
        }
        Ok(out)
    }

    /// After a successful close: deletes the spool once every storage job before is done, and lets it go.
    pub(crate) fn finish(self: &Rc<Self>) -> Promise {
        self.chain(|me| async move {
            let _ = me.store.discard(&me.id).await;
            me.unlock();
        });
        self.state.borrow().tail.clone()
    }

    /// The appender failed or was aborted: the spool stays as it is and is let go once its jobs are done.
    pub(crate) fn let_go(self: &Rc<Self>) {
        self.chain(|me| async move { me.unlock() });
    }

    /// Resolves once every storage job so far is done.
    pub(crate) fn settled(&self) -> Promise {
        self.state.borrow().tail.clone()
    }

    fn unlock(&self) {
        if let Some(f) = self.unlock.borrow_mut().take() {
            let _ = f.call0(&JsValue::UNDEFINED);
        }
    }
}

fn slice(data: &JsValue, from: f64, to: f64) -> JsValue {
    if let Some(b) = data.dyn_ref::<Blob>() {
        if from == 0.0 && to == b.size() {
            return data.clone();
        }
        return blob_slice(b, from, to).into();
    }
    let bytes: &Uint8Array = data.unchecked_ref();
    if from == 0.0 && to == f64::from(bytes.length()) {
        return data.clone();
    }
    bytes.subarray(from as u32, to as u32).into()
}

#[wasm_bindgen(js_class = OSS)]
impl Oss {
    /// The spools of this client's bucket and endpoint with bytes OSS has not confirmed:
    /// `[{ spool, name, position, pending, updatedAt }]`. `options.spoolDir` (Node) says where they are.
    #[wasm_bindgen(js_name = listUnfinished)]
    pub fn list_unfinished(&self, options: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        spawn(None, async move {
            let o = JsOptions::new(&options, "options")?;
            let dir = spool_dir(&o)?;
            let store = open_store(dir.as_deref())?;
            let ids: Array = store.ids().await.map_err(|e| storage_error(&e))?.into();
            let out = Array::new();
            for id in ids.iter().filter_map(|v| v.as_string()) {
                let Ok(Some(record)) = read_record(&store, &id).await else {
                    continue;
                };
                let ours = record.bucket == inner.config.bucket
                    && record.endpoint == inner.config.endpoint.to_string();
                if !ours {
                    continue;
                }
                let (entries, newest) = listing(&store, &id).await?;
                let survey = spool::survey(record.start_position, &entries);
                out.push(&unfinished(
                    &id,
                    &record.key,
                    &record.start_position.to_string(),
                    (survey.end - record.start_position) as f64,
                    newest.max(record.updated_at_ms as f64),
                ));
            }
            Ok(out.into())
        })
    }

    /// Deletes the spool `id` and every byte in it.
    #[wasm_bindgen(js_name = discardSpool)]
    pub fn discard_spool(&self, id: JsValue, options: JsValue) -> Promise {
        spawn(None, async move {
            let id = id.as_string().unwrap_or_default();
            spool::check_id(&id)?;
            let o = JsOptions::new(&options, "options")?;
            let dir = spool_dir(&o)?;
            let store = open_store(dir.as_deref())?;
            store.discard(&id).await.map_err(|e| storage_error(&e))?;
            Ok(JsValue::UNDEFINED)
        })
    }
}
