//! One heap block per entry:
//! `[key_len | TTL flag][value_len][key bytes][value bytes][deadline?]`.
//!
//! Keeping key and value together halves the allocations per entry and makes
//! a table slot one pointer (8 bytes instead of two boxed slices, 32 bytes);
//! replacing a value of the same length is a copy in place. Only entries with
//! a time-to-live carry the 8-byte deadline, so maps without TTLs pay nothing.

use std::alloc::Layout;
use std::hash::{Hash, Hasher};
use std::mem::{align_of, size_of};
use std::ptr::{self, NonNull};

use super::heap;
use super::{Error, Result};

const HEADER: usize = 2 * size_of::<usize>();
/// Set in the key-length word when a deadline follows the value. Key lengths
/// never reach it: the C boundary rejects lengths over `isize::MAX`.
const HAS_DEADLINE: usize = 1 << (usize::BITS - 1);
const DEADLINE: usize = size_of::<u64>();

pub struct Record {
    /// Points at the header; the block is owned exclusively, like a `Box`.
    block: NonNull<usize>,
}

// SAFETY: a `Record` owns its block exclusively (like `Box<[u8]>`), and all
// access goes through `&self` / `&mut self`, so it follows the borrow rules.
unsafe impl Send for Record {}
unsafe impl Sync for Record {}

fn layout(key_len: usize, value_len: usize, has_deadline: bool) -> Result<Layout> {
    let size = HEADER
        .checked_add(key_len)
        .and_then(|n| n.checked_add(value_len))
        .and_then(|n| n.checked_add(if has_deadline { DEADLINE } else { 0 }))
        .ok_or(Error::NoMemory)?;
    Layout::from_size_align(size, align_of::<usize>()).map_err(|_| Error::NoMemory)
}

impl Record {
    /// Copies `key` and `value` into a new block; `Err(NoMemory)` when the
    /// allocation fails (never aborts).
    pub fn new(key: &[u8], value: &[u8]) -> Result<Record> {
        Record::with_deadline(key, value, None)
    }

    /// Like `new`, with an expiry deadline (milliseconds on the map's clock).
    pub fn with_deadline(key: &[u8], value: &[u8], deadline: Option<u64>) -> Result<Record> {
        if key.len() & HAS_DEADLINE != 0 {
            return Err(Error::Invalid);
        }
        let layout = layout(key.len(), value.len(), deadline.is_some())?;
        // The layout is at least HEADER bytes, so not zero-sized.
        let raw = heap::alloc(layout);
        let block = NonNull::new(raw.cast::<usize>()).ok_or(Error::NoMemory)?;
        let flag = if deadline.is_some() { HAS_DEADLINE } else { 0 };
        // SAFETY: the block is `layout.size()` bytes, aligned for usize: the
        // two header words come first, then room for exactly key + value
        // (+ the deadline when flagged).
        unsafe {
            block.as_ptr().write(key.len() | flag);
            block.as_ptr().add(1).write(value.len());
            let data = raw.add(HEADER);
            ptr::copy_nonoverlapping(key.as_ptr(), data, key.len());
            ptr::copy_nonoverlapping(value.as_ptr(), data.add(key.len()), value.len());
            if let Some(d) = deadline {
                data.add(key.len() + value.len()).cast::<u64>().write_unaligned(d);
            }
        }
        Ok(Record { block })
    }

    /// (key length, value length, has a deadline)
    #[inline]
    fn lens(&self) -> (usize, usize, bool) {
        // SAFETY: the header words were written by `with_deadline` and never change.
        let (k, v) = unsafe { (*self.block.as_ptr(), *self.block.as_ptr().add(1)) };
        (k & !HAS_DEADLINE, v, k & HAS_DEADLINE != 0)
    }

    /// Where the block starts (the header, then the key): for prefetching.
    #[inline]
    pub fn as_ptr(&self) -> *const u8 {
        self.block.as_ptr().cast()
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
        let (k, v, _) = self.lens();
        // SAFETY: `value_len` initialised bytes follow the key.
        unsafe { std::slice::from_raw_parts(self.data().add(k), v) }
    }

    /// The key, and the value writable in place (its length is fixed).
    #[inline]
    pub fn key_value_mut(&mut self) -> (&[u8], &mut [u8]) {
        let (k, v, _) = self.lens();
        // SAFETY: key and value are disjoint ranges of the block, and
        // `&mut self` guarantees no other reference into it exists.
        unsafe { (std::slice::from_raw_parts(self.data(), k), std::slice::from_raw_parts_mut(self.data().add(k), v)) }
    }

    #[inline]
    pub fn value_mut(&mut self) -> &mut [u8] {
        self.key_value_mut().1
    }

    /// Whether the entry has a deadline: one bit of the header word the key
    /// comparison has just read, so maps without TTLs pay nothing more.
    #[inline(always)]
    pub fn has_deadline(&self) -> bool {
        // SAFETY: the header word was written by `with_deadline`.
        unsafe { *self.block.as_ptr() & HAS_DEADLINE != 0 }
    }

    /// The expiry deadline, if the entry has a time-to-live.
    #[inline]
    pub fn deadline(&self) -> Option<u64> {
        let (k, v, has) = self.lens();
        // SAFETY: a flagged block has 8 deadline bytes after the value.
        has.then(|| unsafe { self.data().add(k + v).cast::<u64>().read_unaligned() })
    }

    /// Makes `value` the value, keeping the deadline or (`keep_deadline ==
    /// false`) dropping it. See `reset`.
    pub fn replace_value(&mut self, value: &[u8], keep_deadline: bool) -> Result<Option<Record>> {
        let deadline = if keep_deadline { self.deadline() } else { None };
        self.reset(value, deadline)
    }

    /// Makes `value` the value and `deadline` the deadline: in place when the
    /// layout is unchanged (returns `None`); else builds a new block and
    /// returns the old one, which the caller should drop after unlocking.
    pub fn reset(&mut self, value: &[u8], deadline: Option<u64>) -> Result<Option<Record>> {
        if self.value().len() != value.len() || deadline.is_some() != self.deadline().is_some() {
            let fresh = Record::with_deadline(self.key(), value, deadline)?;
            return Ok(Some(std::mem::replace(self, fresh)));
        }
        self.value_mut().copy_from_slice(value);
        self.set_deadline(deadline)
    }

    /// True when the entry has a deadline and `now` has reached it.
    #[inline]
    pub fn expired_at(&self, now: u64) -> bool {
        self.has_deadline() && self.deadline().is_some_and(|d| now >= d)
    }

    /// Sets or clears the deadline; like `replace_value` it may return the
    /// old block to be dropped after unlocking.
    pub fn set_deadline(&mut self, deadline: Option<u64>) -> Result<Option<Record>> {
        let (k, v, has) = self.lens();
        match deadline {
            Some(d) if has => {
                // SAFETY: a flagged block has 8 deadline bytes after the value.
                unsafe { self.data().add(k + v).cast::<u64>().write_unaligned(d) };
                Ok(None)
            }
            None if !has => Ok(None),
            _ => {
                let fresh = Record::with_deadline(self.key(), self.value(), deadline)?;
                Ok(Some(std::mem::replace(self, fresh)))
            }
        }
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        let (k, v, has) = self.lens();
        if let Ok(layout) = layout(k, v, has) {
            // SAFETY: allocated in `with_deadline` with exactly this layout.
            unsafe { heap::dealloc(self.block.as_ptr().cast(), layout) };
        }
    }
}

/// Hashes like the bare key (`[u8]`), so lookups by `&[u8]` find records.
/// The key's bytes alone, as `State::hash_key` hashes a key.
impl Hash for Record {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.key())
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

    #[cfg(feature = "mimalloc")]
    #[test]
    fn blocks_up_to_64_kib_come_from_mimalloc() {
        let records: Vec<Record> = (0..1000usize).map(|i| Record::new(&i.to_le_bytes(), &[7; 64]).unwrap()).collect();
        assert!(records.iter().all(|r| heap::from_mimalloc(r.as_ptr())), "every entry block is mimalloc's");
        // The check can fail: the global allocator's blocks are not mimalloc's.
        let boxed = Box::new([0u8; 96]);
        assert!(!heap::from_mimalloc(boxed.as_ptr()));
        // Blocks over 64 KiB come from the system allocator, up to it from mimalloc.
        let largest = Record::new(b"k", &vec![1; 64 * 1024 - 17]).unwrap();
        let big = Record::new(b"k", &vec![1; 64 * 1024 - 16]).unwrap();
        assert!(heap::from_mimalloc(largest.as_ptr()), "a 64 KiB block");
        assert!(!heap::from_mimalloc(big.as_ptr()), "a block one byte over 64 KiB");
        assert_eq!((largest.value().len(), big.value()[100]), (64 * 1024 - 17, 1));
    }

    #[test]
    fn stores_and_replaces() {
        let mut r = Record::new(b"key", b"value").unwrap();
        assert_eq!((r.key(), r.value(), r.deadline()), (&b"key"[..], &b"value"[..], None));
        assert!(r.replace_value(b"VALUE", true).unwrap().is_none(), "same length: in place");
        assert_eq!(r.value(), b"VALUE");
        let old = r.replace_value(b"longer value", true).unwrap().expect("new block");
        assert_eq!((old.value(), r.value(), r.key()), (&b"VALUE"[..], &b"longer value"[..], &b"key"[..]));
        let e = Record::new(&[], &[]).unwrap();
        assert_eq!((e.key(), e.value()), (&[][..], &[][..]));
        assert!(Record::new(&[], &[]).unwrap() == e);
    }

    #[test]
    fn deadlines_live_after_the_value() {
        let mut r = Record::with_deadline(b"k", b"abc", Some(77)).unwrap();
        assert_eq!((r.key(), r.value(), r.deadline()), (&b"k"[..], &b"abc"[..], Some(77)));
        assert!(r.set_deadline(Some(99)).unwrap().is_none(), "in place");
        assert_eq!(r.deadline(), Some(99));
        assert!(r.replace_value(b"xyz", true).unwrap().is_none());
        assert_eq!((r.value(), r.deadline()), (&b"xyz"[..], Some(99)));
        assert!(r.replace_value(b"xyz", false).unwrap().is_some(), "dropping the deadline changes the layout");
        assert_eq!((r.value(), r.deadline()), (&b"xyz"[..], None));
        assert!(r.set_deadline(Some(5)).unwrap().is_some());
        assert_eq!((r.key(), r.value(), r.deadline()), (&b"k"[..], &b"xyz"[..], Some(5)));
        assert!(r.set_deadline(None).unwrap().is_some());
        assert_eq!(r.deadline(), None);
    }
}
