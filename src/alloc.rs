//! The process allocator (mimalloc) and the option it must have before its first allocation.
//! Every binary of the crate (the `isobot` binary, the benches, the integration tests) declares
//! it with [`global_allocator!`], so they measure and test what ships.
//!
//! Why mimalloc: runs allocate many small, short-lived buffers (op arguments, send bodies);
//! mimalloc handles that far better than glibc malloc (push from JS 12.7 → 5.3 µs, dispatch ~2×
//! msg/s in `benches/`). Its v2 segments kept RSS per isolate thread lower than v3 arenas (a
//! comparison made before huge pages were turned off).
//!
//! Why the option: by default mimalloc asks the kernel for transparent huge pages on its 1 GiB
//! arenas (`MADV_HUGEPAGE`). Each isolate thread's heap then touches whole 2 MiB pages: 3.8 MB
//! RSS per active plugin isolate against 2.5 MB without huge pages, and 96 against 57 MB when
//! ready, at the same throughput (docs/benchmarks.md). With the option off mimalloc disables
//! them for the process (`PR_SET_THP_DISABLE`), which also covers kernels set to THP "always".
//! It is set from an ELF constructor because the first arena is reserved by the first
//! allocation, which happens before `main`.

pub use mimalloc::MiMalloc;

/// `mi_option_allow_thp` of mimalloc v2's `mi_option_t` (`mimalloc.h`); `libmimalloc-sys` does
/// not name it. Its version is pinned exactly, and the enum's length is checked below, so a new
/// mimalloc cannot shift it silently.
const ALLOW_THP: libmimalloc_sys::mi_option_t = 37;
const _: () = assert!(libmimalloc_sys::_mi_option_last == 38);

/// Sets mimalloc's option. Called by the constructor [`global_allocator!`] places in the
/// binary; a later call affects only memory mimalloc maps after it.
pub extern "C" fn configure() {
    // SAFETY: `mi_option_set` writes one entry of mimalloc's static option table. It runs in a
    // constructor, before `main` starts any thread, so nothing reads the table concurrently.
    unsafe {
        libmimalloc_sys::mi_option_set(ALLOW_THP, 0);
    }
}

/// Whether [`configure`]'s option is in effect.
pub fn configured() -> bool {
    // SAFETY: reads mimalloc's option table.
    unsafe { libmimalloc_sys::mi_option_get(ALLOW_THP) == 0 }
}

/// Declares mimalloc as the global allocator, configured by [`configure`] before the first
/// allocation (an `.init_array` entry with a priority that runs before constructors without one,
/// mimalloc's own included).
#[macro_export]
macro_rules! global_allocator {
    () => {
        #[global_allocator]
        static ALLOCATOR: $crate::alloc::MiMalloc = $crate::alloc::MiMalloc;

        #[cfg(target_os = "linux")]
        #[used]
        #[link_section = ".init_array.00101"]
        static CONFIGURE_ALLOCATOR: extern "C" fn() = $crate::alloc::configure;
    };
}
