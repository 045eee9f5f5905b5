//! The per-thread state every call touches, in one block.
//!
//! A `thread_local!` in a shared library is reached through a call to
//! `__tls_get_addr` (the general-dynamic TLS model; stable Rust offers no
//! other); that call was a tenth of a `dm_get_copy`. On x86-64 glibc the
//! block is declared in assembly with the initial-exec model instead: one
//! load from the GOT plus the thread pointer, as C gets from
//! `__attribute__((tls_model("initial-exec")))`. glibc reserves static TLS
//! for such libraries, also when they are loaded with `dlopen`.

/// Zero-initialised; each part is used only by its own module.
#[repr(C)]
pub(crate) struct ThreadState {
    pub reentrancy: crate::reentrancy::Fast,
    pub reader: crate::map::ReaderState,
}

/// This thread's block: valid, and used only by this thread, for as long as
/// the thread runs.
#[inline(always)]
pub(crate) fn state() -> *mut ThreadState {
    imp::state()
}

#[cfg(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu"))]
mod imp {
    use super::ThreadState;

    /// Bytes reserved in assembly; the assertion below keeps it in step.
    const SIZE: usize = 40;
    const _: () = assert!(std::mem::size_of::<ThreadState>() == SIZE && std::mem::align_of::<ThreadState>() <= 8);

    std::arch::global_asm!(
        ".pushsection .tbss,\"awT\",@nobits",
        ".p2align 3",
        // Global but hidden: visible to every object file of this library
        // (the compiler may place users in other codegen units), never
        // exported from the shared library.
        ".globl dm_thread_state",
        ".hidden dm_thread_state",
        ".type dm_thread_state,@object",
        ".size dm_thread_state,{size}",
        "dm_thread_state:",
        ".zero {size}",
        ".popsection",
        size = const SIZE,
    );

    #[inline(always)]
    pub fn state() -> *mut ThreadState {
        let p: *mut ThreadState;
        // SAFETY: reads the GOT entry holding the block's offset from the
        // thread pointer, and the thread pointer (`fs:0` points to itself on
        // x86-64 Linux); writes only the output register and the flags.
        unsafe {
            std::arch::asm!(
                "mov {p}, qword ptr [rip + dm_thread_state@GOTTPOFF]",
                "add {p}, qword ptr fs:[0]",
                p = out(reg) p,
                options(pure, readonly, nostack),
            );
        }
        p
    }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu")))]
mod imp {
    use super::ThreadState;
    use std::cell::UnsafeCell;

    thread_local! {
        // SAFETY: every field is integers, for which all-zero bytes are valid.
        static STATE: UnsafeCell<ThreadState> = const { UnsafeCell::new(unsafe { std::mem::zeroed() }) };
    }

    /// Constant-initialised and never destroyed, so the pointer stays valid
    /// for the thread's life.
    #[inline]
    pub fn state() -> *mut ThreadState {
        STATE.with(UnsafeCell::get)
    }
}
