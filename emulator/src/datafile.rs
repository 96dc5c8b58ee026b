//! Writing object data files: streamed into the page cache at a known offset, rolled back unless committed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::PathBuf;

use bytes::Bytes;

/// A data file being written: rolled back (cut to its starting length, or removed when new) unless
/// committed.
#[derive(Debug)]
pub struct DataWriter {
    pub(crate) file: File,
    path: PathBuf,
    start: u64,
    written: u64,
    fresh: bool,
    gen: u64,
    pub(crate) armed: bool,
}

impl DataWriter {
    /// A writer for a new, empty file.
    pub(crate) fn create(path: PathBuf, gen: u64) -> io::Result<Self> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        Ok(Self::new(file, path, 0, true, gen))
    }

    /// A writer that continues the file at `path` from `start`, its committed length.
    pub(crate) fn append(path: PathBuf, start: u64, gen: u64) -> io::Result<Self> {
        let mut file = OpenOptions::new().write(true).open(&path)?;
        // Bytes past the committed length can only be the remains of a failed append.
        if file.metadata()?.len() != start {
            file.set_len(start)?;
        }
        file.seek(SeekFrom::Start(start))?;
        Ok(Self::new(file, path, start, false, gen))
    }

    fn new(file: File, path: PathBuf, start: u64, fresh: bool, gen: u64) -> Self {
        Self {
            file,
            path,
            start,
            written: 0,
            fresh,
            gen,
            armed: true,
        }
    }

    /// Writes `chunks` in order (blocking).
    ///
    /// # Errors
    /// The disk refused.
    pub fn write(&mut self, chunks: &[Bytes]) -> io::Result<()> {
        for c in chunks {
            self.file.write_all(c)?;
            self.written += c.len() as u64;
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The generation the data lands in.
    pub fn gen(&self) -> u64 {
        self.gen
    }

    fn rollback(&mut self) {
        if !self.armed {
            return;
        }
        self.armed = false;
        let result = if self.fresh {
            fs::remove_file(&self.path)
        } else {
            self.file.set_len(self.start)
        };
        // NotFound: a reset already removed the file.
        if let Err(e) = result.or_else(|e| match e.kind() {
            io::ErrorKind::NotFound => Ok(()),
            _ => Err(e),
        }) {
            eprintln!(
                "oss-emulator: rolling back {} failed: {e}",
                self.path.display()
            );
        }
    }
}

impl Drop for DataWriter {
    fn drop(&mut self) {
        self.rollback();
    }
}

/// Keeps freed memory in the allocator instead of returning it to the OS at once.
///
/// Request bodies pass through buffers of a few MiB; by default glibc maps each afresh and unmaps it
/// on free, so every buffer's pages are faulted in again, which dominates the cost of an upload on
/// some VMs. Reusing warm memory doubles append throughput there. Process-wide and idempotent.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only adjusts allocator parameters; it has no memory-safety preconditions.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn read(path: &std::path::Path) -> Vec<u8> {
        let mut v = Vec::new();
        File::open(path).unwrap().read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn appends_continue_and_uncommitted_ones_roll_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("obj");
        let mut w = DataWriter::create(path.clone(), 1).unwrap();
        w.write(&[Bytes::from_static(b"abc"), Bytes::from_static(b"de")])
            .unwrap();
        w.armed = false;
        drop(w);
        let mut w = DataWriter::append(path.clone(), 5, 1).unwrap();
        w.write(&[Bytes::from_static(b"fg")]).unwrap();
        assert_eq!(w.written(), 2);
        w.armed = false;
        drop(w);
        assert_eq!(read(&path), b"abcdefg");
        let mut w = DataWriter::append(path.clone(), 7, 1).unwrap();
        w.write(&[Bytes::from_static(&[9; 10_000])]).unwrap();
        drop(w);
        assert_eq!(read(&path), b"abcdefg");
        let w = DataWriter::create(dir.path().join("new"), 2).unwrap();
        drop(w);
        assert!(!dir.path().join("new").exists());
    }
}
