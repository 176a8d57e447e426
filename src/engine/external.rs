//! The `ArrayBuffer` allocator of an isolate: V8 allocates the contents of every `ArrayBuffer`
//! (and typed array) outside its heap, so the heap cap does not bound them. This allocator
//! counts them against the isolate's external-memory cap and refuses an allocation beyond it:
//! V8 then throws a `RangeError` in the plugin and the process keeps its memory.

use deno_core::v8;
use std::alloc::{alloc, alloc_zeroed, dealloc, Layout};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Alignment of every buffer (what `malloc` gives: enough for any typed array).
const ALIGN: usize = 16;

/// The bytes one isolate's buffers hold, and its cap.
pub(crate) struct Budget {
    used: AtomicUsize,
    cap: usize,
    /// An allocation was refused and V8 has not yet been told: its garbage collection under
    /// that pressure reaches the near-heap-limit callback, which must not take it for a full
    /// heap (the plugin gets a `RangeError` instead).
    refused: AtomicBool,
}

impl Budget {
    pub fn new(cap: usize) -> Arc<Budget> {
        Arc::new(Budget {
            used: AtomicUsize::new(0),
            cap,
            refused: AtomicBool::new(false),
        })
    }

    /// Whether an allocation was refused since the last call.
    pub fn take_refusal(&self) -> bool {
        self.refused.swap(false, Ordering::Relaxed)
    }

    fn reserve(&self, len: usize) -> bool {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let Some(next) = used.checked_add(len).filter(|n| *n <= self.cap) else {
                self.refused.store(true, Ordering::Relaxed);
                return false;
            };
            match self
                .used
                .compare_exchange_weak(used, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => used = now,
            }
        }
    }

    fn release(&self, len: usize) {
        self.used.fetch_sub(len, Ordering::Relaxed);
    }
}

fn layout(len: usize) -> Option<Layout> {
    Layout::from_size_align(len.max(1), ALIGN).ok()
}

/// # Safety
/// Called by V8 with the handle given to `new_rust_allocator`.
unsafe extern "C" fn allocate(budget: &Budget, len: usize) -> *mut c_void {
    get(budget, len, true)
}

/// # Safety
/// As `allocate`.
unsafe extern "C" fn allocate_uninitialized(budget: &Budget, len: usize) -> *mut c_void {
    get(budget, len, false)
}

fn get(budget: &Budget, len: usize, zeroed: bool) -> *mut c_void {
    let Some(layout) = layout(len) else {
        return std::ptr::null_mut();
    };
    if !budget.reserve(len) {
        return std::ptr::null_mut();
    }
    // SAFETY: the layout has a non-zero size.
    let p = unsafe {
        if zeroed {
            alloc_zeroed(layout)
        } else {
            alloc(layout)
        }
    };
    if p.is_null() {
        budget.release(len);
    }
    p.cast()
}

/// # Safety
/// `data` was returned by `allocate*` of this allocator with this `len` (V8's contract).
unsafe extern "C" fn free(budget: &Budget, data: *mut c_void, len: usize) {
    if data.is_null() {
        return;
    }
    if let Some(layout) = layout(len) {
        // SAFETY: allocated with this layout (V8 passes the length it asked for).
        unsafe { dealloc(data.cast(), layout) };
        budget.release(len);
    }
}

/// # Safety
/// `handle` is the `Arc<Budget>` pointer given to `new_rust_allocator`, dropped once.
unsafe extern "C" fn drop_budget(handle: *const Budget) {
    // SAFETY: made by `Arc::into_raw` in `allocator`.
    drop(unsafe { Arc::from_raw(handle) });
}

static VTABLE: v8::RustAllocatorVtable<Budget> = v8::RustAllocatorVtable {
    allocate,
    allocate_uninitialized,
    free,
    drop: drop_budget,
};

/// An allocator that holds at most `budget`'s cap of buffers.
pub(crate) fn allocator(budget: Arc<Budget>) -> v8::SharedRef<v8::Allocator> {
    // SAFETY: the handle is a live `Arc<Budget>` matching VTABLE; V8 drops it through
    // `drop_budget` when the allocator goes.
    let unique = unsafe { v8::new_rust_allocator(Arc::into_raw(budget), &VTABLE) };
    unique.make_shared()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_what_does_not_fit_and_gets_freed_bytes_back() {
        let b = Budget::new(100);
        assert!(b.reserve(60));
        assert!(!b.take_refusal());
        assert!(!b.reserve(41));
        assert!(b.take_refusal());
        assert!(!b.take_refusal(), "taken once");
        assert!(b.reserve(40));
        assert!(!b.reserve(1));
        b.release(60);
        assert!(b.reserve(60));
        assert!(!b.reserve(usize::MAX), "no overflow");
    }
}
