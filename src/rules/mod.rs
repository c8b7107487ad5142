//! The rules every job follows, apart from what it does: what each failure
//! means (`failure`), how often a request is tried (`retry`), when an
//! operation is polled and waited for (`poll`), and how an operation is
//! created at most once (`create`).

pub mod create;
pub mod failure;
pub mod poll;
pub mod retry;
