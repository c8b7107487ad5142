//! Every way a request can fail, and the one place that decides what each
//! failure means. Callers ask these predicates; none matches a status code.
//!
//! | failure | made by | `retried` | `may_have_created` | `server_done` | `post_fate` |
//! | --- | --- | --- | --- | --- | --- |
//! | `Unreachable`: no connection, no name, a TLS handshake that broke off, no thread | transport | yes | no | no | `NotSent` |
//! | `Timeout` (`--http-timeout`, or what `--max-wait` leaves) | transport | yes | yes | no | `InFlight` |
//! | `Broken`: reset, or closed before a whole answer | transport | yes | yes | no | `InFlight` |
//! | `Malformed`: not HTTP (a head over its limits too), or not the JSON expected | transport, api | yes | yes (it may be a 202 we cannot read) | no | `InFlight` |
//! | `NoId`: a POST's 2xx, read whole, without a usable `operation_id` | api | yes | yes | yes | `Unread` |
//! | `TooLarge`: a body over its limit | transport | no | yes (it may be a 202 not read) | no | `InFlight` |
//! | `Tls`: a certificate, its name, or ours refused | transport | no | no | no | `Refused` |
//! | `NotFound`: pg-backup-api's own 404 on a server, backup or operation | api | yes (under load the real server says so of servers that exist) | no (answered before any job file) | yes | `NotSent` |
//! | `Status` 408, 429: turned away before acting | api | yes | no | no | `NotSent` |
//! | `Status` 500: pg-backup-api's own error | api | yes | no (it never leaves a running operation) | yes | `Answered` |
//! | `Status` 502-504: a proxy's | api | yes | yes | no | `InFlight` |
//! | `Status` 404: no such path (Werkzeug's routing, or a proxy's page) | api | only while polling | no | yes | `Refused` |
//! | other `Status` (4xx, 3xx, 501, 505) | api | no | no | yes | `Refused` |
//! | `Gone`: `wait`'s operation is not in the server's list | run | no | no | yes | `Refused` |
//!
//! "Made by" is the module that builds it: transport (src/transport/), api
//! (src/api.rs), run (src/run.rs). `post_fate` is what src/create.rs acts on
//! after a failed POST.

use crate::text::seconds;
use std::fmt;
use std::time::Duration;

/// Why one request to pg-backup-api did not give the answer expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// No connection was ever established (refused, unreachable, name not
    /// resolved): the request surely never reached the server.
    Unreachable(String),
    /// No complete answer within `--http-timeout`.
    Timeout(Duration),
    /// The connection broke (reset, or closed before a complete answer).
    Broken(String),
    /// An answer arrived but it is not the HTTP or JSON expected.
    Malformed(String),
    /// A POST answered 2xx, read whole, without a usable `operation_id`:
    /// pg-backup-api is done with it, and its list tells at once whether it
    /// created an operation.
    NoId(String),
    /// pg-backup-api's own 404 (a JSON `error`) on a server, backup or
    /// operation it does not know. Under load the real server says so of
    /// servers that exist (docs/pg-backup-api.md), so it is retried; a
    /// 404 on a path it has no route for is a `Status`.
    NotFound(String),
    /// The body is over its size limit (a head over its limits is
    /// `Malformed`).
    TooLarge(String),
    /// TLS failed: the server's certificate, its name, or ours.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls(String),
    /// `wait`'s operation is not in the server's list: there is no such
    /// operation.
    Gone(String),
    /// The server answered with a status other than 2xx.
    Status {
        code: u16,
        message: String,
        location: Option<String>,
    },
}

/// Which request failed, where that changes what a failure means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// `/status`, the list, the POST.
    Other,
    /// The GET of the operation this run created or adopted.
    Poll,
}

/// What a POST that failed so may have done on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostFate {
    /// It never reached pg-backup-api, or was turned away before it acted:
    /// send it again.
    NotSent,
    /// pg-backup-api answered its own 500: it is done with it, and left no
    /// running operation.
    Answered,
    /// pg-backup-api answered 2xx without a usable id: it is done with it,
    /// so the list shows at once whether it created an operation.
    Unread,
    /// The answer was lost (a timeout, a dropped connection, a proxy's
    /// 502/503/504), cannot be read (a 2xx that is not the JSON expected,
    /// or not HTTP at all) or was not read (a body over its limit): the
    /// operation may exist, or be created yet.
    InFlight,
    /// Refused for good (a 4xx, a redirect, a TLS failure): nothing to send
    /// again.
    Refused,
}

impl Problem {
    /// Whether another attempt may do better.
    pub fn retried(&self, request: Request) -> bool {
        match self {
            Problem::Unreachable(_)
            | Problem::Timeout(_)
            | Problem::Broken(_)
            | Problem::Malformed(_)
            | Problem::NoId(_)
            | Problem::NotFound(_) => true,
            Problem::TooLarge(_) | Problem::Tls(_) | Problem::Gone(_) => false,
            // A path that has no route: retried only for the operation
            // this run follows, whose URL answered a moment ago.
            Problem::Status { code: 404, .. } => request == Request::Poll,
            Problem::Status { code, .. } => matches!(code, 408 | 429 | 500 | 502 | 503 | 504),
        }
    }

    /// Whether the operation polled does not exist, so that nothing goes on.
    pub fn operation_gone(&self) -> bool {
        matches!(self, Problem::Gone(_))
    }

    /// Whether a POST failing so may have created an operation: its answer
    /// was lost, or came in a form that cannot be read, or was not read.
    pub fn may_have_created(&self) -> bool {
        matches!(
            self,
            Problem::Timeout(_)
                | Problem::Broken(_)
                | Problem::Malformed(_)
                | Problem::NoId(_)
                | Problem::TooLarge(_)
                | Problem::Status {
                    code: 502..=504,
                    ..
                }
        )
    }

    /// Whether pg-backup-api itself acted on the request and answered, so
    /// that nothing more comes of it on the server.
    pub fn server_done(&self) -> bool {
        match self {
            Problem::Status { code, .. } => !matches!(code, 408 | 429 | 502..=504),
            Problem::Gone(_) | Problem::NoId(_) | Problem::NotFound(_) => true,
            _ => false,
        }
    }

    /// What a POST that failed this way may have done.
    pub fn post_fate(&self) -> PostFate {
        match self {
            Problem::NoId(_) => PostFate::Unread,
            // Checked before the job file is written: nothing exists.
            Problem::NotFound(_) => PostFate::NotSent,
            _ if self.may_have_created() => PostFate::InFlight,
            _ if !self.retried(Request::Other) => PostFate::Refused,
            _ if self.server_done() => PostFate::Answered,
            _ => PostFate::NotSent,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unreachable(why) => write!(f, "cannot connect: {why}"),
            // The limit is --http-timeout, or what --max-wait left of it.
            Problem::Timeout(limit) => {
                write!(f, "no complete answer within {} s", seconds(*limit))
            }
            Problem::Broken(why) => write!(f, "connection broken: {why}"),
            Problem::Malformed(why) | Problem::NoId(why) => {
                write!(f, "unexpected answer: {why}")
            }
            Problem::NotFound(why) => write!(f, "HTTP 404: {why}"),
            Problem::TooLarge(why) => write!(f, "answer refused: {why}"),
            Problem::Tls(why) => write!(f, "TLS failed: {why}"),
            Problem::Gone(why) => write!(f, "no such operation: {why}"),
            Problem::Status { code, location: Some(to), .. } => write!(
                f,
                "HTTP {code} redirect to {to}, not followed: point --api-url at pg-backup-api itself"
            ),
            Problem::Status { code, message, .. } => write!(f, "HTTP {code}: {message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Problem {
        Problem::Status {
            code,
            message: String::new(),
            location: None,
        }
    }

    #[test]
    fn gateways_overload_and_broken_answers_are_retried() {
        for p in [
            status(500),
            status(502),
            status(503),
            status(504),
            status(408),
            status(429),
            Problem::Unreachable("refused".into()),
            Problem::Timeout(Duration::from_secs(1)),
            Problem::Broken("reset".into()),
            Problem::Malformed("not JSON".into()),
            Problem::NoId("not JSON".into()),
        ] {
            assert!(p.retried(Request::Other), "{p:?}");
            assert!(p.retried(Request::Poll), "{p:?}");
        }
    }

    #[test]
    fn client_errors_redirects_tls_and_size_are_not_retried() {
        for p in [
            status(400),
            status(404),
            status(405),
            status(415),
            status(301),
            status(501),
            Problem::Tls("unknown issuer".into()),
            Problem::TooLarge("body".into()),
        ] {
            assert!(!p.retried(Request::Other), "{p:?}");
        }
    }

    #[test]
    fn a_404_is_retried_only_while_polling_an_operation_of_ours() {
        assert!(status(404).retried(Request::Poll));
        assert!(!status(404).retried(Request::Other));
        assert!(!status(403).retried(Request::Poll));
    }

    #[test]
    fn every_post_failure_has_one_fate() {
        use PostFate::*;
        let table = [
            (Problem::Unreachable("refused".into()), NotSent),
            (status(408), NotSent),
            (status(429), NotSent),
            (status(500), Answered),
            (
                Problem::NotFound("Server 'pg1' does not exist".into()),
                NotSent,
            ),
            (
                Problem::NoId("JSON answer lacks \"operation_id\"".into()),
                Unread,
            ),
            (Problem::Malformed("not JSON".into()), InFlight),
            (Problem::Timeout(Duration::from_secs(1)), InFlight),
            (Problem::Broken("closed".into()), InFlight),
            (status(502), InFlight),
            (status(503), InFlight),
            (status(504), InFlight),
            (status(400), Refused),
            (status(404), Refused),
            (status(302), Refused),
            (status(501), Refused),
            (status(505), Refused),
            (Problem::TooLarge("body".into()), InFlight),
            (Problem::Tls("refused".into()), Refused),
        ];
        for (problem, fate) in table {
            assert_eq!(problem.post_fate(), fate, "{problem:?}");
        }
    }

    #[test]
    fn only_a_lost_or_unreadable_answer_may_have_created_an_operation() {
        let lost = [
            Problem::Timeout(Duration::from_secs(1)),
            Problem::Broken("closed".into()),
            Problem::Malformed("not JSON".into()),
            Problem::TooLarge("body".into()),
            status(502),
            status(504),
        ];
        assert!(lost.iter().all(Problem::may_have_created));
        let settled = [
            Problem::Unreachable("refused".into()),
            Problem::Tls("refused".into()),
            status(500),
            status(429),
            status(400),
        ];
        assert!(!settled.iter().any(Problem::may_have_created));
    }

    #[test]
    fn the_server_is_done_with_what_pg_backup_api_itself_answered() {
        assert!(status(500).server_done());
        assert!(status(400).server_done());
        assert!(Problem::Gone("not listed".into()).server_done());
        assert!(Problem::NotFound("Resource not found".into()).server_done());
        assert!(Problem::NoId("empty".into()).server_done());
        for pending in [status(408), status(429), status(503)] {
            assert!(!pending.server_done(), "{pending:?}");
        }
        assert!(!Problem::Unreachable("refused".into()).server_done());
        assert!(!Problem::Timeout(Duration::from_secs(1)).server_done());
    }

    #[test]
    fn pg_backup_apis_own_404_is_retried_everywhere_a_missing_route_only_while_polling() {
        let own = Problem::NotFound("No barman config found for 'pg1'.".into());
        assert!(own.retried(Request::Other) && own.retried(Request::Poll));
        assert!(!own.may_have_created());
        assert!(!Problem::Gone("not listed".into()).retried(Request::Poll));
    }
}
