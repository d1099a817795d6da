//! How the C allocator treats the large tensors a training step makes and frees.
//!
//! glibc hands every allocation above 32 MiB (VGG's first-block activations, the direct
//! convolutions' channels-last copies) straight from the OS with `mmap` and gives it back on
//! free, so the next step faults in and zeroes the same memory again: `srkd bench train` spent
//! a fifth of its CPU time in page faults (1.7 GB of fresh pages a step). Served from the heap
//! and kept there instead, freed tensors are reused; the resident size stays at the step's
//! peak, which the step reaches anyway.

/// Serve large allocations from the heap and keep freed memory for reuse (glibc only; other
/// C libraries keep their behaviour).
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any thread starts.
    unsafe {
        // No direct mmap: a request the heap cannot serve on a worker thread's arena falls
        // back to the main arena (which grows with brk), so no allocation fails for it.
        libc::mallopt(libc::M_MMAP_MAX, 0);
        // Never give the top of the heap back to the OS.
        libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
    }
}
