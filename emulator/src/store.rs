//! On-disk objects: a data file and a JSON sidecar per object; the sidecar's atomic rename is the commit point.

// Layout: `<data-dir>/<bucket>/<sha256(key)>.meta` (the committed state) and `<sha256(key)>.<gen>.data`.
// An append writes past the committed length of the current data file and commits by renaming a new
// sidecar into place; a Put writes a new generation and commits the same way. On open, data files are
// cut back to their sidecar's length and files no sidecar names are removed, so a crash at any point
// leaves every object as its last commit described it.
//
// The directory is the emulator's own: a `.oss-emulator` marker file says so, and startup and reset touch
// only files named as above (64 hex digits, then `.meta`, `.meta.tmp` or `.<gen>.data`), never others.
// A reset bumps an epoch while no commit runs; a write whose slot comes from before the reset cannot
// commit afterwards, so no write is acknowledged and then wiped by a reset that had already begun.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::datafile::DataWriter;

/// How an object was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectKind {
    /// Written by PutObject.
    Normal,
    /// Created and grown by AppendObject.
    Appendable,
}

impl ObjectKind {
    /// The `x-oss-object-type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Appendable => "Appendable",
        }
    }
}

/// The committed state of one object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// The object key.
    pub key: String,
    /// Normal or Appendable.
    pub kind: ObjectKind,
    /// Length in bytes.
    pub size: u64,
    /// CRC-64/XZ of the whole object.
    pub crc64: u64,
    /// The ETag without quotes.
    pub etag: String,
    /// Base64 MD5 of the body, for objects written whole.
    pub content_md5: Option<String>,
    /// `Content-Type`.
    pub content_type: String,
    /// Creation headers echoed on GET and HEAD (`Cache-Control`, `x-oss-meta-*`, SSE, ...).
    pub headers: Vec<(String, String)>,
    /// `x-oss-storage-class`.
    pub storage_class: String,
    /// `x-oss-object-acl`.
    pub acl: String,
    /// `x-oss-tagging` as sent.
    pub tagging: Option<String>,
    /// Last modification, unix seconds (server clock).
    pub last_modified: i64,
    /// When SealAppendObject sealed it, unix seconds.
    pub sealed_time: Option<i64>,
    /// The generation of the data file.
    pub gen: u64,
    /// The version id on a versioned bucket (`null` for appendable objects and suspended writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// A delete marker: a version without data that hides the ones before it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_marker: bool,
    /// The previous versions, newest first (versioned buckets only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub noncurrent: Vec<ObjectMeta>,
}

/// One object: a writer lock held for a whole write, and the committed state readers snapshot.
#[derive(Debug)]
pub struct Slot {
    /// Held by a write (append, put, seal, delete) from its checks to its commit, so that writes to
    /// one object happen one at a time; readers never wait for it.
    pub writer: tokio::sync::Mutex<()>,
    pub(crate) committed: Mutex<Option<ObjectMeta>>,
    base: PathBuf,
    /// The store's reset epoch when this slot was made; commits to slots of an older epoch are refused.
    epoch: u64,
}

impl Slot {
    fn new(base: PathBuf, meta: Option<ObjectMeta>, epoch: u64) -> Self {
        Self {
            writer: tokio::sync::Mutex::new(()),
            committed: Mutex::new(meta),
            base,
            epoch,
        }
    }

    /// The committed current version, `None` when there is none or it is a delete marker.
    pub fn snapshot(&self) -> Option<ObjectMeta> {
        self.record().filter(|m| !m.delete_marker)
    }

    /// The committed state as stored: the current version (perhaps a delete marker) with the earlier ones.
    pub fn record(&self) -> Option<ObjectMeta> {
        self.committed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The committed state with its data file open, taken together so that a concurrent Put cannot
    /// remove the file in between.
    ///
    /// # Errors
    /// The data file cannot be opened.
    pub fn open_snapshot(&self) -> io::Result<Option<(ObjectMeta, File)>> {
        let committed = self.committed.lock().unwrap_or_else(|p| p.into_inner());
        match committed.as_ref() {
            None => Ok(None),
            Some(m) if m.delete_marker => Ok(None),
            Some(m) => Ok(Some((m.clone(), File::open(self.data_path(m.gen))?))),
        }
    }

    pub(crate) fn data_path(&self, gen: u64) -> PathBuf {
        let mut p = self.base.clone().into_os_string();
        p.push(format!(".{gen}.data"));
        p.into()
    }

    fn meta_path(&self) -> PathBuf {
        let mut p = self.base.clone().into_os_string();
        p.push(".meta");
        p.into()
    }

    fn meta_tmp_path(&self) -> PathBuf {
        let mut p = self.base.clone().into_os_string();
        p.push(".meta.tmp");
        p.into()
    }
}

#[derive(Debug)]
struct BucketDir {
    dir: PathBuf,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    /// The table size at which unused slots are swept out next.
    sweep_at: AtomicUsize,
}

/// The fewest slots a bucket keeps before unused ones are swept out.
const SWEEP_MIN: usize = 1024;

/// The file that marks a data directory as the emulator's own.
pub const MARKER: &str = ".oss-emulator";

/// Every bucket's objects.
#[derive(Debug)]
pub struct Store {
    buckets: HashMap<String, BucketDir>,
    next_gen: AtomicU64,
    fsync: bool,
    /// Bumped by every reset.
    epoch: AtomicU64,
    /// Held shared by each commit and alone by a reset, so that the two never interleave.
    commits: RwLock<()>,
    dir_syncs: AtomicU64,
}

/// What one of the emulator's own file names is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OwnFile {
    /// `<hash>.meta`: a committed sidecar.
    Meta,
    /// `<hash>.meta.tmp`: a sidecar being written.
    MetaTmp,
    /// `<hash>.<gen>.data`: object data.
    Data(u64),
}

/// Splits one of the emulator's own file names into its base (the key's SHA-256 in hex) and kind;
/// `None` for any other name.
fn own_file(name: &str) -> Option<(&str, OwnFile)> {
    let (base, rest) = name.split_at_checked(64)?;
    if !base
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let kind = match rest {
        ".meta" => OwnFile::Meta,
        ".meta.tmp" => OwnFile::MetaTmp,
        _ => {
            let gen = rest.strip_prefix('.')?.strip_suffix(".data")?;
            if gen.is_empty() || !gen.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            OwnFile::Data(gen.parse().ok()?)
        }
    };
    Some((base, kind))
}

/// Makes `root` the emulator's own: an empty (or new) directory gets the marker; a directory with
/// the marker is reopened; anything else is refused, since its files are not the emulator's.
fn claim(root: &Path) -> io::Result<()> {
    let marker = root.join(MARKER);
    if marker.is_file() {
        return Ok(());
    }
    if fs::read_dir(root)?.next().is_some() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "the data directory {} is not empty and has no {MARKER} marker, so oss-emulator did not \
                 make it; it only uses directories it made: give a new or empty --data-dir",
                root.display()
            ),
        ));
    }
    fs::write(
        &marker,
        "This directory belongs to oss-emulator: objects live under <bucket>/.\n",
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Opens (creating when needed) the buckets under `root`, recovering from any interrupted write.
    ///
    /// # Errors
    /// A directory cannot be created or read.
    pub fn open(root: &Path, buckets: &[String], fsync: bool) -> io::Result<Self> {
        claim(root)?;
        let mut map = HashMap::new();
        let mut max_gen = 0u64;
        for name in buckets {
            let dir = root.join(name);
            fs::create_dir_all(&dir)?;
            let mut slots = HashMap::new();
            recover_bucket(&dir, &mut slots, &mut max_gen)?;
            map.insert(
                name.clone(),
                BucketDir {
                    dir,
                    sweep_at: AtomicUsize::new(SWEEP_MIN.max(2 * slots.len())),
                    slots: Mutex::new(slots),
                },
            );
        }
        Ok(Self {
            buckets: map,
            next_gen: AtomicU64::new(max_gen + 1),
            fsync,
            epoch: AtomicU64::new(0),
            commits: RwLock::new(()),
            dir_syncs: AtomicU64::new(0),
        })
    }

    /// How many slots the key tables hold (objects, writes in flight, and not yet swept leftovers).
    pub fn slot_count(&self) -> usize {
        self.buckets
            .values()
            .map(|b| b.slots.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    /// How many times a directory was fsynced (with `--fsync`).
    pub fn dir_syncs(&self) -> u64 {
        self.dir_syncs.load(Ordering::Relaxed)
    }

    /// Whether `bucket` exists.
    pub fn has_bucket(&self, bucket: &str) -> bool {
        self.buckets.contains_key(bucket)
    }

    /// Bucket names, sorted.
    pub fn bucket_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.buckets.keys().cloned().collect();
        names.sort();
        names
    }

    /// The slot of `key` in `bucket` (made on first use); `None` for an unknown bucket.
    pub fn slot(&self, bucket: &str, key: &str) -> Option<Arc<Slot>> {
        let b = self.buckets.get(bucket)?;
        let mut slots = b.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slots.get(key) {
            return Some(Arc::clone(s));
        }
        // Requests that made a slot and were refused leave it empty: sweep those out before the table
        // grows past twice what it held after the last sweep.
        if slots.len() >= b.sweep_at.load(Ordering::Relaxed) {
            slots.retain(|_, s| Arc::strong_count(s) > 1 || s.snapshot().is_some());
            b.sweep_at
                .store(SWEEP_MIN.max(2 * slots.len()), Ordering::Relaxed);
        }
        let slot = Arc::new(Slot::new(
            b.dir.join(hex(&Sha256::digest(key.as_bytes()))),
            None,
            self.epoch.load(Ordering::SeqCst),
        ));
        slots.insert(key.to_owned(), Arc::clone(&slot));
        Some(slot)
    }

    /// The slot of `key` if it was ever used, without making one.
    pub fn existing_slot(&self, bucket: &str, key: &str) -> Option<Arc<Slot>> {
        let b = self.buckets.get(bucket)?;
        let slots = b.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.get(key).cloned()
    }

    /// Every slot of `bucket`, sorted by key.
    pub fn slots(&self, bucket: &str) -> Vec<(String, Arc<Slot>)> {
        let Some(b) = self.buckets.get(bucket) else {
            return Vec::new();
        };
        let slots = b.slots.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<(String, Arc<Slot>)> = slots
            .iter()
            .map(|(k, s)| (k.clone(), Arc::clone(s)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// A new data file for a whole-object write (PutObject, or the first append).
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create_data(&self, slot: &Slot) -> io::Result<DataWriter> {
        let gen = self.next_gen.fetch_add(1, Ordering::Relaxed);
        DataWriter::create(slot.data_path(gen), gen)
    }

    /// A writer that continues the committed data of `meta`, for an append.
    ///
    /// # Errors
    /// The file cannot be opened.
    pub fn open_append(&self, slot: &Slot, meta: &ObjectMeta) -> io::Result<DataWriter> {
        DataWriter::append(slot.data_path(meta.gen), meta.size, meta.gen)
    }

    /// Makes `new` the committed state of `slot`: data first (fsync when asked), then the sidecar by
    /// rename. The previous generation's data file is removed when a new one replaced it. The caller
    /// holds `slot.writer`.
    ///
    /// # Errors
    /// The sidecar cannot be written; the writer is then rolled back and the state is unchanged.
    pub fn commit(
        &self,
        slot: &Slot,
        mut writer: Option<DataWriter>,
        new: ObjectMeta,
    ) -> io::Result<()> {
        let _no_reset = self.commits.read().unwrap_or_else(|p| p.into_inner());
        self.check_epoch(slot)?;
        if self.fsync {
            if let Some(w) = writer.as_ref() {
                w.file.sync_data()?;
            }
        }
        self.write_sidecar(slot, &new)?;
        if let Some(w) = writer.as_mut() {
            w.armed = false;
        }
        let kept = data_gens(&new);
        let old = slot
            .committed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(new);
        for gen in old.as_ref().map(data_gens).unwrap_or_default() {
            if !kept.contains(&gen) {
                let _ = fs::remove_file(slot.data_path(gen));
            }
        }
        Ok(())
    }

    /// Refuses a write to a slot made before the last reset: the reset already began when it was
    /// made, so it must not land (and be acknowledged) in the state the reset cleared.
    fn check_epoch(&self, slot: &Slot) -> io::Result<()> {
        if slot.epoch == self.epoch.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "the emulator was reset while this write was in flight; nothing was applied",
            ))
        }
    }

    fn write_sidecar(&self, slot: &Slot, meta: &ObjectMeta) -> io::Result<()> {
        let tmp = slot.meta_tmp_path();
        let json = serde_json::to_vec(meta).map_err(io::Error::other)?;
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&json)?;
            if self.fsync {
                f.sync_all()?;
            }
        }
        fs::rename(&tmp, slot.meta_path())?;
        self.sync_dir(slot)
    }

    /// With `--fsync`, makes renames and removals in the slot's directory durable.
    fn sync_dir(&self, slot: &Slot) -> io::Result<()> {
        if !self.fsync {
            return Ok(());
        }
        if let Some(dir) = slot.base.parent() {
            File::open(dir)?.sync_all()?;
            self.dir_syncs.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Deletes the object: the sidecar goes first (the commit point), then the data. The caller holds
    /// `slot.writer`.
    ///
    /// # Errors
    /// The sidecar cannot be removed.
    pub fn remove(&self, slot: &Slot) -> io::Result<()> {
        let _no_reset = self.commits.read().unwrap_or_else(|p| p.into_inner());
        if self.check_epoch(slot).is_err() {
            return Ok(()); // the reset removed it already
        }
        let Some(old) = slot.record() else {
            return Ok(());
        };
        match fs::remove_file(slot.meta_path()) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        slot.committed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        for gen in data_gens(&old) {
            let _ = fs::remove_file(slot.data_path(gen));
        }
        self.sync_dir(slot)
    }

    /// Removes every object of every bucket. Runs while no commit does: a write that commits before
    /// it is removed with the rest; a write in flight whose slot predates it is refused at its commit
    /// (and rolled back, answered with an error); writes that start later land after it. Only the
    /// emulator's own files are deleted.
    pub async fn clear(&self) {
        tokio::task::block_in_place(|| self.clear_now());
    }

    fn clear_now(&self) {
        let _alone = self.commits.write().unwrap_or_else(|p| p.into_inner());
        let names = self.bucket_names();
        let old: Vec<Arc<Slot>> = {
            // Every table at once, so a slot is made wholly before the new epoch or wholly after it.
            let mut tables: Vec<_> = names
                .iter()
                .filter_map(|n| self.buckets.get(n))
                .map(|b| b.slots.lock().unwrap_or_else(|p| p.into_inner()))
                .collect();
            self.epoch.fetch_add(1, Ordering::SeqCst);
            tables
                .iter_mut()
                .flat_map(|t| t.drain().map(|(_, s)| s))
                .collect()
        };
        for slot in old {
            slot.committed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
        }
        for name in &names {
            let Some(b) = self.buckets.get(name) else {
                continue;
            };
            b.sweep_at.store(SWEEP_MIN, Ordering::Relaxed);
            let Ok(entries) = fs::read_dir(&b.dir) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                let own = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(own_file)
                    .is_some();
                if own {
                    if let Err(e) = fs::remove_file(&path) {
                        eprintln!(
                            "oss-emulator: reset could not remove {}: {e}",
                            path.display()
                        );
                    }
                }
            }
        }
    }
}

/// The generations whose data files `meta` (current and earlier versions) needs.
fn data_gens(meta: &ObjectMeta) -> Vec<u64> {
    std::iter::once(meta)
        .chain(&meta.noncurrent)
        .filter(|m| !m.delete_marker)
        .map(|m| m.gen)
        .collect()
}

/// Cuts the data files of a recovered object back to their committed lengths and returns their
/// generations; an earlier version whose data is gone is dropped, and `None` means the current one's is.
fn recover_data(slot: &Slot, meta: &mut ObjectMeta) -> io::Result<Option<Vec<u64>>> {
    let fits = |m: &ObjectMeta| -> io::Result<bool> {
        if m.delete_marker {
            return Ok(true);
        }
        let data = slot.data_path(m.gen);
        match fs::metadata(&data).map(|d| d.len()) {
            Ok(len) if len >= m.size => {
                if len > m.size {
                    OpenOptions::new()
                        .write(true)
                        .open(&data)?
                        .set_len(m.size)?;
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    };
    if !fits(meta)? {
        return Ok(None);
    }
    let mut kept = Vec::new();
    for m in std::mem::take(&mut meta.noncurrent) {
        if fits(&m)? {
            kept.push(m);
        } else {
            eprintln!(
                "oss-emulator: dropping a version of {:?}: its data file is missing or short",
                m.key
            );
        }
    }
    meta.noncurrent = kept;
    Ok(Some(data_gens(meta)))
}

/// Loads one bucket's sidecars, cuts data files back to their committed length, removes orphans.
fn recover_bucket(
    dir: &Path,
    slots: &mut HashMap<String, Arc<Slot>>,
    max_gen: &mut u64,
) -> io::Result<()> {
    let mut referenced = Vec::new();
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        let Some((base, kind)) = own_file(&name) else {
            continue; // not the emulator's: left alone
        };
        if kind == OwnFile::Meta {
            let meta: ObjectMeta = match fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("oss-emulator: ignoring unreadable {name}: {e}");
                    continue;
                }
            };
            let mut slot = Slot::new(dir.join(base), None, 0);
            let mut meta = meta;
            let Some(data) = recover_data(&slot, &mut meta)? else {
                eprintln!(
                    "oss-emulator: dropping {:?}: its data file is missing or short",
                    meta.key
                );
                let _ = fs::remove_file(&path);
                continue;
            };
            *max_gen = (*max_gen).max(data.iter().copied().max().unwrap_or(0));
            referenced.extend(data.iter().map(|g| slot.data_path(*g)));
            let key = meta.key.clone();
            *slot.committed.get_mut().unwrap_or_else(|p| p.into_inner()) = Some(meta);
            slots.insert(key, Arc::new(slot));
        } else {
            files.push(path);
        }
    }
    for path in files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match own_file(name).map(|(_, kind)| kind) {
            Some(OwnFile::MetaTmp) => {
                let _ = fs::remove_file(&path);
            }
            Some(OwnFile::Data(gen)) => {
                if !referenced.contains(&path) {
                    let _ = fs::remove_file(&path);
                }
                // A generation number left by an uncommitted write must never be reused.
                *max_gen = (*max_gen).max(gen);
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn meta(key: &str, size: u64, gen: u64) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            kind: ObjectKind::Appendable,
            size,
            crc64: 0,
            etag: String::new(),
            content_md5: None,
            content_type: "application/octet-stream".into(),
            headers: Vec::new(),
            storage_class: "Standard".into(),
            acl: "default".into(),
            tagging: None,
            last_modified: 0,
            sealed_time: None,
            gen,
            version_id: None,
            delete_marker: false,
            noncurrent: Vec::new(),
        }
    }

    #[test]
    fn uncommitted_bytes_and_orphans_are_gone_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let buckets = vec!["b".to_owned()];
        {
            let store = Store::open(dir.path(), &buckets, false).unwrap();
            let slot = store.slot("b", "k").unwrap();
            let mut w = store.create_data(&slot).unwrap();
            w.write(&[Bytes::from_static(b"hello")]).unwrap();
            let gen = w.gen();
            store.commit(&slot, Some(w), meta("k", 5, gen)).unwrap();
            // A second append that never commits, and a writer that is leaked (as in a crash).
            let mut w2 = store.open_append(&slot, &slot.snapshot().unwrap()).unwrap();
            w2.write(&[Bytes::from_static(b" world")]).unwrap();
            std::mem::forget(w2);
            let orphan = store.create_data(&slot).unwrap();
            std::mem::forget(orphan);
        }
        let store = Store::open(dir.path(), &buckets, false).unwrap();
        let slot = store.existing_slot("b", "k").unwrap();
        let (m, mut file) = slot.open_snapshot().unwrap().unwrap();
        assert_eq!(m.size, 5);
        let mut data = Vec::new();
        io::Read::read_to_end(&mut file, &mut data).unwrap();
        assert_eq!(data, b"hello");
        let files = fs::read_dir(dir.path().join("b")).unwrap().count();
        assert_eq!(files, 2, "one sidecar and one data file remain");
    }

    #[test]
    fn only_names_the_store_makes_are_its_own() {
        let h = "0123456789abcdef".repeat(4);
        assert_eq!(
            own_file(&format!("{h}.meta")),
            Some((h.as_str(), OwnFile::Meta))
        );
        assert_eq!(
            own_file(&format!("{h}.meta.tmp")),
            Some((h.as_str(), OwnFile::MetaTmp))
        );
        assert_eq!(
            own_file(&format!("{h}.42.data")),
            Some((h.as_str(), OwnFile::Data(42)))
        );
        for other in [
            "notes.tmp".to_owned(),
            "x.data".to_owned(),
            format!("{h}.data"),
            format!("{h}.-1.data"),
            format!("{h}.1.data.bak"),
            format!("{}.meta", h.to_uppercase()),
            format!("{}.meta", &h[1..]),
            format!("{h}0.meta"),
            ".oss-emulator".to_owned(),
        ] {
            assert_eq!(own_file(&other), None, "{other}");
        }
    }

    #[test]
    fn dropped_writer_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &["b".to_owned()], false).unwrap();
        let slot = store.slot("b", "k").unwrap();
        let mut w = store.create_data(&slot).unwrap();
        w.write(&[Bytes::from_static(b"abc")]).unwrap();
        let gen = w.gen();
        store.commit(&slot, Some(w), meta("k", 3, gen)).unwrap();
        {
            let mut w = store.open_append(&slot, &slot.snapshot().unwrap()).unwrap();
            w.write(&[Bytes::from_static(b"def")]).unwrap();
        }
        let len = fs::metadata(slot.data_path(gen)).unwrap().len();
        assert_eq!(len, 3);
        assert!(store.slot("nope", "k").is_none());
    }
}
