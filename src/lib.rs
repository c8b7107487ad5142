//! The modules behind the `patroni_barman` binary (src/main.rs), built once
//! for the binary, the tests and the fuzz targets. Not a stable API: only
//! what `main` and the fuzz targets use is public.

mod api;
pub mod cli;
mod clock;
mod failure;
mod log;
pub mod outcome;
mod poll;
mod retry;
pub mod run;
mod transport;
mod url;

pub use clock::SystemClock;

/// Parses one whole HTTP/1.x answer held in memory, as the `https://`
/// transport reads it: for fuzz targets.
#[cfg(feature = "tls")]
pub use transport::http1::parse_response_bytes;

/// What the fuzz targets under fuzz/ drive besides `cli::parse`: the decoding
/// of pg-backup-api's answers and the limits it keeps. Not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::api::{
        created_id, decode, error_message, listed_operations, one_line, operation_state,
        status_text,
    };
    pub use crate::failure::Problem;
    #[cfg(feature = "tls")]
    pub use crate::transport::http1::parse_response_bytes;
    pub use crate::transport::{Response, MAX_BODY};
}
