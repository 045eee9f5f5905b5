//! One heap block per entry: `[key_len][value_len][key bytes][value bytes]`.
//!
//! Keeping key and value together halves the allocations per entry and makes
//! a table slot one pointer (8 bytes instead of two boxed slices, 32 bytes);
//! replacing a value of the same length is a copy in place.

use std::alloc::{alloc, dealloc, Layout};
use std::hash::{Hash, Hasher};
use std::mem::{align_of, size_of};
use std::ptr::{self, NonNull};

use super::{Error, Result};

const HEADER: usize = 2 * size_of::<usize>();

pub struct Record {
    /// Points at the header; the block is owned exclusively, like a `Box`.
    block: NonNull<usize>,
}

// SAFETY: a `Record` owns its block exclusively (like `Box<[u8]>`), and all
// access goes through `&self` / `&mut self`, so it follows the borrow rules.
unsafe impl Send for Record {}
unsafe impl Sync for Record {}

fn layout(key_len: usize, value_len: usize) -> Result<Layout> {
    let size = HEADER.checked_add(key_len).and_then(|n| n.checked_add(value_len)).ok_or(Error::NoMemory)?;
    Layout::from_size_align(size, align_of::<usize>()).map_err(|_| Error::NoMemory)
}

impl Record {
    /// Copies `key` and `value` into a new block; `Err(NoMemory)` when the
    /// allocation fails (never aborts).
    pub fn new(key: &[u8], value: &[u8]) -> Result<Record> {
        let layout = layout(key.len(), value.len())?;
        // SAFETY: the layout is at least HEADER bytes, so not zero-sized.
        let raw = unsafe { alloc(layout) };
        let block = NonNull::new(raw.cast::<usize>()).ok_or(Error::NoMemory)?;
        // SAFETY: the block is `layout.size()` bytes, aligned for usize: the
        // two header words come first, then room for exactly key + value.
        unsafe {
            block.as_ptr().write(key.len());
            block.as_ptr().add(1).write(value.len());
            let data = raw.add(HEADER);
            ptr::copy_nonoverlapping(key.as_ptr(), data, key.len());
            ptr::copy_nonoverlapping(value.as_ptr(), data.add(key.len()), value.len());
        }
        Ok(Record { block })
    }

    #[inline]
    fn lens(&self) -> (usize, usize) {
        // SAFETY: the header words were written by `new` and never change.
        unsafe { (*self.block.as_ptr(), *self.block.as_ptr().add(1)) }
    }

    #[inline]
    fn data(&self) -> *mut u8 {
        // SAFETY: the block is at least HEADER bytes long.
        unsafe { self.block.as_ptr().cast::<u8>().add(HEADER) }
    }

    #[inline]
    pub fn key(&self) -> &[u8] {
        // SAFETY: `key_len` initialised bytes follow the header.
        unsafe { std::slice::from_raw_parts(self.data(), self.lens().0) }
    }

    #[inline]
    pub fn value(&self) -> &[u8] {
        let (k, v) = self.lens();
        // SAFETY: `value_len` initialised bytes follow the key.
        unsafe { std::slice::from_raw_parts(self.data().add(k), v) }
    }

    /// The key, and the value writable in place (its length is fixed).
    #[inline]
    pub fn key_value_mut(&mut self) -> (&[u8], &mut [u8]) {
        let (k, v) = self.lens();
        // SAFETY: key and value are disjoint ranges of the block, and
        // `&mut self` guarantees no other reference into it exists.
        unsafe { (std::slice::from_raw_parts(self.data(), k), std::slice::from_raw_parts_mut(self.data().add(k), v)) }
    }

    #[inline]
    pub fn value_mut(&mut self) -> &mut [u8] {
        self.key_value_mut().1
    }

    /// Makes `value` the value: in place when the length is unchanged
    /// (returns `None`), else by building a new block and returning the old
    /// one, which the caller should drop after unlocking.
    pub fn replace_value(&mut self, value: &[u8]) -> Result<Option<Record>> {
        if self.value().len() == value.len() {
            self.value_mut().copy_from_slice(value);
            return Ok(None);
        }
        let fresh = Record::new(self.key(), value)?;
        Ok(Some(std::mem::replace(self, fresh)))
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        let (k, v) = self.lens();
        if let Ok(layout) = layout(k, v) {
            // SAFETY: allocated in `new` with exactly this layout.
            unsafe { dealloc(self.block.as_ptr().cast(), layout) };
        }
    }
}

/// Hashes like the bare key (`[u8]`), so lookups by `&[u8]` find records.
impl Hash for Record {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state)
    }
}

impl PartialEq for Record {
    fn eq(&self, other: &Record) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Record {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_replaces() {
        let mut r = Record::new(b"key", b"value").unwrap();
        assert_eq!((r.key(), r.value()), (&b"key"[..], &b"value"[..]));
        assert!(r.replace_value(b"VALUE").unwrap().is_none(), "same length: in place");
        assert_eq!(r.value(), b"VALUE");
        let old = r.replace_value(b"longer value").unwrap().expect("new block");
        assert_eq!((old.value(), r.value(), r.key()), (&b"VALUE"[..], &b"longer value"[..], &b"key"[..]));
        let e = Record::new(&[], &[]).unwrap();
        assert_eq!((e.key(), e.value()), (&[][..], &[][..]));
        assert!(Record::new(&[], &[]).unwrap() == e);
    }
}
