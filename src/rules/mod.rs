//! The rules every job follows, apart from what it does: how often a
//! request is tried (`retry`), when an operation is polled and waited for
//! (`poll`), how an operation is created at most once (`create`), and how
//! often a restore's progress is looked at and what it says (`progress`). What
//! each failure means is the table in src/failure.rs.

pub mod create;
pub mod poll;
pub mod progress;
pub mod retry;
