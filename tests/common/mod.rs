//! Small safe helpers over the C API for the Rust tests.
#![allow(dead_code)]

use std::ffi::{c_void, CStr};
use std::ptr;

pub use dashmap::*;

/// An owned map handle that frees itself.
pub struct Handle(pub *mut dm_map);

// SAFETY: the C API is thread-safe for every map function.
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

impl Handle {
    pub fn new() -> Handle {
        Handle(dm_new())
    }

    pub fn with(opts: dm_options) -> Handle {
        let mut out = ptr::null_mut();
        assert_eq!(unsafe { dm_new_with_options(&opts, &mut out) }, DM_OK);
        Handle(out)
    }

    pub fn insert(&self, k: &[u8], v: &[u8]) -> dm_status {
        unsafe { dm_insert(self.0, k.as_ptr(), k.len(), v.as_ptr(), v.len()) }
    }

    /// The value via the two-call size negotiation of `dm_get_copy`.
    pub fn get(&self, k: &[u8]) -> Option<Vec<u8>> {
        let mut len = 0;
        let st = unsafe { dm_get_copy(self.0, k.as_ptr(), k.len(), ptr::null_mut(), 0, &mut len) };
        if st == DM_NOT_FOUND {
            return None;
        }
        let mut buf = vec![0u8; len];
        let st = unsafe { dm_get_copy(self.0, k.as_ptr(), k.len(), buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(st, DM_OK);
        buf.truncate(len);
        Some(buf)
    }

    pub fn len(&self) -> usize {
        unsafe { dm_len(self.0) }
    }

    pub fn add(&self, k: &[u8], d: i64) -> i64 {
        let mut r = 0;
        assert_eq!(unsafe { dm_add_i64(self.0, k.as_ptr(), k.len(), d, &mut r) }, DM_OK);
        r
    }

    /// Every entry, through the cursor, sorted.
    pub fn entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let it = unsafe { dm_iter_new(self.0) };
        assert!(!it.is_null());
        let mut out = Vec::new();
        let (mut k, mut kl, mut v, mut vl) = (ptr::null(), 0, ptr::null(), 0);
        while unsafe { dm_iter_next(it, &mut k, &mut kl, &mut v, &mut vl) } == DM_OK {
            out.push((to_vec(k, kl), to_vec(v, vl)));
        }
        unsafe { dm_iter_free(it) };
        out.sort();
        out
    }

    /// Runs `f` as a `dm_entry_update` callback.
    pub fn update(&self, k: &[u8], mut f: impl FnMut(*mut dm_entry)) -> dm_status {
        unsafe extern "C-unwind" fn tramp(e: *mut dm_entry, ctx: *mut c_void) {
            let f = unsafe { &mut *(ctx as *mut &mut dyn FnMut(*mut dm_entry)) };
            f(e)
        }
        let mut dynf: &mut dyn FnMut(*mut dm_entry) = &mut f;
        unsafe { dm_entry_update(self.0, k.as_ptr(), k.len(), Some(tramp), &mut dynf as *mut _ as *mut c_void) }
    }

    /// Runs `f(key, value) -> bool` as a `dm_visit_fn` for `dm_for_each`.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8]) -> bool) -> dm_status {
        let mut dynf: &mut dyn FnMut(&[u8], &[u8]) -> bool = &mut f;
        unsafe { dm_for_each(self.0, Some(visit_tramp), &mut dynf as *mut _ as *mut c_void) }
    }

    pub fn retain(&self, mut f: impl FnMut(&[u8], &[u8]) -> bool) -> dm_status {
        let mut dynf: &mut dyn FnMut(&[u8], &[u8]) -> bool = &mut f;
        unsafe { dm_retain_cb(self.0, Some(visit_tramp), &mut dynf as *mut _ as *mut c_void) }
    }
}

/// A `dm_visit_fn` that forwards to a `&mut dyn FnMut(&[u8], &[u8]) -> bool` in `ctx`.
pub unsafe extern "C-unwind" fn visit_tramp(k: *const u8, kl: usize, v: *const u8, vl: usize, ctx: *mut c_void) -> bool {
    let f = unsafe { &mut *(ctx as *mut &mut dyn FnMut(&[u8], &[u8]) -> bool) };
    f(&to_vec(k, kl), &to_vec(v, vl))
}

impl Drop for Handle {
    fn drop(&mut self) {
        unsafe { dm_free(self.0) }
    }
}

pub fn to_vec(p: *const u8, len: usize) -> Vec<u8> {
    if len == 0 {
        Vec::new()
    } else {
        unsafe { std::slice::from_raw_parts(p, len) }.to_vec()
    }
}

/// The value of an entry inside a `dm_entry_fn`.
pub fn entry_value(e: *mut dm_entry) -> Option<Vec<u8>> {
    let mut len = 0;
    let p = unsafe { dm_entry_value(e, &mut len) };
    (!p.is_null()).then(|| to_vec(p, len))
}

pub fn status_name(s: dm_status) -> String {
    unsafe { CStr::from_ptr(dm_status_str(s)) }.to_string_lossy().into_owned()
}

pub fn slices(items: &[&[u8]]) -> Vec<dm_slice> {
    items.iter().map(|s| dm_slice { ptr: s.as_ptr(), len: s.len() }).collect()
}

/// A small deterministic PRNG (xorshift64*), so failures reproduce from the seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn bytes(&mut self, max_len: u64) -> Vec<u8> {
        let len = self.below(max_len + 1) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}
