//! Every way a request can fail, and the one place that decides what each
//! failure means. Callers ask these predicates; none matches a status code.
//!
//! | failure                                  | retried? | a POST failing so: |
//! | ---------------------------------------- | -------- | ------------------ |
//! | `Unreachable`: no connection, no name, a TLS handshake that broke off, no thread | yes | `NotSent` |
//! | `Status` 408, 429                        | yes      | `NotSent` (refused before acting) |
//! | `Status` 500                             | yes      | `Answered`: pg-backup-api is done with it, and its 500 never leaves a running operation |
//! | `Timeout`, `Broken`, `Status` 502-504, `Malformed` | yes | `InFlight`: the server may still be at work on it, or it answered 202 in a form we cannot read |
//! | `Status` 404 while polling               | yes (the real server answers 404 for an operation that exists) | - |
//! | other `Status` (4xx, 3xx, 501, 505), `TooLarge`, `Tls` | no | `Refused` |
//! | `Gone`: a 404 on `wait`'s first poll     | no       | - (the operation does not exist) |

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
    /// The answer is over a size limit (body, headers, status line).
    TooLarge(String),
    /// TLS failed: the server's certificate, its name, or ours.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls(String),
    /// `wait`'s first poll was answered 404: there is no such operation (the
    /// real server's 404s for an operation that exists come only later).
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
    /// The answer was lost (a timeout, a dropped connection, a proxy's
    /// 502/503/504) or cannot be read (a 2xx that is not the JSON expected,
    /// or not HTTP at all): the operation may exist, or be created yet.
    InFlight,
    /// Refused for good (a 4xx, a redirect, a TLS failure, an answer over
    /// the limits): nothing to send again.
    Refused,
}

impl Problem {
    /// Whether another attempt may do better.
    pub fn retried(&self, request: Request) -> bool {
        match self {
            Problem::Unreachable(_)
            | Problem::Timeout(_)
            | Problem::Broken(_)
            | Problem::Malformed(_) => true,
            Problem::TooLarge(_) | Problem::Tls(_) | Problem::Gone(_) => false,
            // pg-backup-api answers 404 for an operation that exists while
            // its worker writes the output file, and under concurrent
            // requests (docs/pg-backup-api.md).
            Problem::Status { code: 404, .. } => request == Request::Poll,
            Problem::Status { code, .. } => matches!(code, 408 | 429 | 500 | 502 | 503 | 504),
        }
    }

    /// `wait`'s first poll: a 404 then means the operation does not exist.
    pub fn on_first_poll(self) -> Problem {
        match self {
            Problem::Status {
                code: 404, message, ..
            } => Problem::Gone(message),
            other => other,
        }
    }

    /// Whether the operation polled does not exist, so that nothing goes on.
    pub fn operation_gone(&self) -> bool {
        matches!(self, Problem::Gone(_))
    }

    /// What a POST that failed this way may have done.
    pub fn post_fate(&self) -> PostFate {
        match self {
            Problem::Unreachable(_)
            | Problem::Status {
                code: 408 | 429, ..
            } => PostFate::NotSent,
            Problem::Status { code: 500, .. } => PostFate::Answered,
            Problem::Timeout(_)
            | Problem::Broken(_)
            | Problem::Malformed(_)
            | Problem::Status {
                code: 502..=504, ..
            } => PostFate::InFlight,
            Problem::Status { .. } | Problem::TooLarge(_) | Problem::Tls(_) | Problem::Gone(_) => {
                PostFate::Refused
            }
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
            Problem::Malformed(why) => write!(f, "unexpected answer: {why}"),
            Problem::TooLarge(why) => write!(f, "answer refused: {why}"),
            Problem::Tls(why) => write!(f, "TLS failed: {why}"),
            Problem::Gone(why) => write!(f, "no such operation: HTTP 404: {why}"),
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
            (Problem::TooLarge("body".into()), Refused),
            (Problem::Tls("refused".into()), Refused),
        ];
        for (problem, fate) in table {
            assert_eq!(problem.post_fate(), fate, "{problem:?}");
        }
    }
}
