//! The modules behind the `patroni_barman` binary (src/main.rs), built once
//! for the binary, the tests and the fuzz targets. Not a stable API: only
//! what `main` and the fuzz targets use is public.

mod api;
pub mod cli;
mod clock;
mod failure;
pub mod jobs;
mod log;
pub mod outcome;
mod rules;
mod signals;
pub mod sub;
mod sys;
mod text;
mod transport;
mod url;

pub use clock::SystemClock;

/// What the fuzz targets, tests/transport.rs and the benchmarks drive
/// besides `cli::parse`: the decoding of pg-backup-api's answers, the limits
/// it keeps, the transport over a real socket, and the walk of a data
/// directory (examples/walk.rs). Not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::api::{
        created_id, decode, error_message, operation_state, scan_bytes, status_text,
    };
    pub use crate::failure::Problem;
    pub use crate::jobs::{bytes_under, Diagnose};
    pub use crate::text::one_line;
    pub use crate::transport::http1::parse_response_bytes;
    use crate::transport::{Method, Request, Transport, TransportConfig};
    pub use crate::transport::{Response, MAX_BODY, MAX_HEADERS};
    use crate::url::ApiUrl;
    use std::time::Duration;

    /// `GET /status` from `api_url` as the program sends it, with a 10 s
    /// deadline.
    pub fn get_status(api_url: &str) -> Result<Response, Problem> {
        let url = ApiUrl::parse(api_url).map_err(Problem::Malformed)?;
        let transport = Transport::new(&TransportConfig {
            url: &url,
            timeout: Duration::from_secs(10),
            ca_file: None,
            cert_file: None,
            key_file: None,
            user_agent: None,
        })
        .map_err(Problem::Malformed)?;
        transport.send(&Request {
            method: Method::Get,
            endpoint: &url.endpoint(&["status"]),
            json: None,
            max_body: MAX_BODY,
            sink: None,
        })
    }
}
