//! The C functions and Linux constants that std does not offer, in one
//! place, for the modules that need them (the log, the record's lock, the
//! signals, check, the TLS files). A leaf; callers own the `unsafe`.

use std::ffi::{c_char, c_int};

/// O_NONBLOCK: an open that would wait for the other end of a FIFO fails
/// or returns at once instead.
pub const O_NONBLOCK: i32 = 0o4000;

/// `fcntl`'s commands that read and set a descriptor's flags.
pub const F_GETFL: i32 = 3;
pub const F_SETFL: i32 = 4;

/// `flock`'s exclusive lock, and its "do not wait".
pub const LOCK_EX: c_int = 2;
pub const LOCK_NB: c_int = 4;

/// `access`'s "may write and search".
pub const W_OK_X_OK: c_int = 2 | 1;

/// `pthread_sigmask`'s `how`.
pub const SIG_BLOCK: c_int = 0;
pub const SIG_UNBLOCK: c_int = 1;

/// `sigset_t`: 128 bytes in musl and glibc.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SigSet(pub [u64; 16]);

extern "C" {
    pub fn write(fd: i32, buf: *const u8, count: usize) -> isize;
    pub fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    pub fn flock(fd: c_int, operation: c_int) -> c_int;
    pub fn access(path: *const c_char, mode: c_int) -> c_int;
    pub fn sigemptyset(set: *mut SigSet) -> c_int;
    pub fn sigaddset(set: *mut SigSet, signal: c_int) -> c_int;
    pub fn pthread_sigmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
    pub fn sigwait(set: *const SigSet, signal: *mut c_int) -> c_int;
}
