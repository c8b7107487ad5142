//! Linux constants that std does not name, shared by modules that have
//! nothing else in common (the log, the TLS files). A leaf.

/// O_NONBLOCK: an open that would wait for the other end of a FIFO fails
/// or returns at once instead.
pub const O_NONBLOCK: i32 = 0o4000;
