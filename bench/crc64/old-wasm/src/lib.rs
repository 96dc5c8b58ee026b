//! crc64fast behind a raw wasm interface: one buffer to copy into, one digest to feed.

use std::cell::RefCell;

thread_local! {
    static DIGEST: RefCell<crc64fast::Digest> = RefCell::new(crc64fast::Digest::new());
}

/// A buffer of `len` bytes in wasm memory that JS fills before each `write`.
#[no_mangle]
pub extern "C" fn buffer(len: usize) -> *mut u8 {
    Box::leak(vec![0u8; len].into_boxed_slice()).as_mut_ptr()
}

#[no_mangle]
pub extern "C" fn reset() {
    DIGEST.with(|d| *d.borrow_mut() = crc64fast::Digest::new());
}

/// # Safety
/// `ptr..ptr + len` must lie in a buffer from `buffer`.
#[no_mangle]
pub unsafe extern "C" fn write(ptr: *const u8, len: usize) {
    let bytes = std::slice::from_raw_parts(ptr, len);
    DIGEST.with(|d| d.borrow_mut().write(bytes));
}

#[no_mangle]
pub extern "C" fn sum() -> u64 {
    DIGEST.with(|d| d.borrow().sum64())
}
