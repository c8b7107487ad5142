//! Every way a request can fail, and the one table that says what each
//! failure means: `Problem::rule`, one arm per kind of failure, tested row
//! by row below. Callers ask `retried`, `may_have_created` and `post_fate`;
//! none matches a status code.
//!
//! A failure is made by the transport (src/transport/: no connection, a
//! timeout, a broken or unreadable answer, TLS), by the API client
//! (src/api.rs: a status, a body that is not the JSON expected) or by a job
//! (`Gone`). `post_fate` is what src/rules/create.rs acts on after a failed POST.

use crate::text::seconds;
use std::fmt;
use std::time::Duration;

/// Why one request to pg-backup-api did not give the answer expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// No connection was ever established (refused, unreachable, name not
    /// resolved, a TLS handshake that broke off): the request surely never
    /// reached the server.
    Unreachable(String),
    /// No complete answer within `--http-timeout` (or what `--max-wait`
    /// leaves of it).
    Timeout(Duration),
    /// The connection broke (reset, or closed before a complete answer).
    Broken(String),
    /// An answer arrived but it is not the HTTP or JSON expected (a head
    /// over its limits too).
    Malformed(String),
    /// A POST answered 2xx, read whole, without a usable `operation_id`.
    NoId(String),
    /// pg-backup-api's own 404 (a JSON `error`) on a server, backup or
    /// operation it does not know; a 404 on a path it has no route for
    /// (Werkzeug's, or a proxy's page) is a `Status`.
    NotFound(String),
    /// The body is over its size limit.
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
pub enum RequestKind {
    /// `/status`, the list, the POST, `/diagnose`.
    Other,
    /// The GET of the operation this run created or follows.
    Poll,
}

/// Whether another attempt may do better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retried {
    Always,
    /// Only for the operation this run follows, whose URL answered a
    /// moment ago.
    WhilePolling,
    Never,
}

/// What a POST that failed so may have done on the server, and so what
/// src/rules/create.rs does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostFate {
    /// It never reached pg-backup-api, or was turned away before it acted:
    /// send it again after `--retry-wait`.
    NotSent,
    /// pg-backup-api answered its own 500 and left no running operation:
    /// most often another POST for the server came in the same second (one
    /// POST per server per second), else a job whose worker never started
    /// (it reads IN_PROGRESS forever). Sent again after max(`--retry-wait`,
    /// 1 s) plus a random part under 2, 4, 8, then 16 s, once the list was
    /// read (a new entry is named in a WARNING, never followed; a list that
    /// cannot be read stops the run). It counts against `--max-retries` only
    /// when exactly one operation appeared meanwhile, which may be its own
    /// job whose worker never started (none: pg-backup-api wrote nothing, as
    /// in its configuration race under `serve` load; two: one is surely
    /// another client's); `MAX_COLLISIONS` and `--max-wait` bound it.
    Answered,
    /// pg-backup-api answered 2xx without a usable id: it is done with the
    /// POST, so its list shows at once what it made. The one new operation
    /// of the type is followed; none: sent again after max(`--retry-wait`,
    /// 1 s); several stop the run.
    Unread,
    /// The answer was lost (a timeout, a dropped connection, a proxy's
    /// 502/503/504), cannot be read or was not read (a body over its limit):
    /// the operation may exist, or be created yet, and a second POST could
    /// start a second one. The list is read every max(`--retry-wait`, 1 s)
    /// for the attempts left (one look when the failure is not retried); the
    /// one new operation of the type is followed ("adopted"); several, or
    /// none, stop the run.
    InFlight,
    /// Refused for good (a 4xx, a redirect, a TLS failure): nothing is sent
    /// again.
    Refused,
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub retried: Retried,
    pub post_fate: PostFate,
}

impl Rule {
    const fn new(retried: Retried, post_fate: PostFate) -> Rule {
        Rule { retried, post_fate }
    }
}

impl Problem {
    /// The table: how each failure is retried and what a POST failing so
    /// may have done. Every other question is answered from it.
    pub fn rule(&self) -> Rule {
        use PostFate::*;
        use Retried::*;
        match self {
            Problem::Unreachable(_) => Rule::new(Always, NotSent),
            Problem::Timeout(_) | Problem::Broken(_) => Rule::new(Always, InFlight),
            // It may be a 202 that cannot be read.
            Problem::Malformed(_) => Rule::new(Always, InFlight),
            Problem::NoId(_) => Rule::new(Always, Unread),
            // Under load the real server says so of servers that exist
            // (docs/pg-backup-api.md); it answers before any job file.
            Problem::NotFound(_) => Rule::new(Always, NotSent),
            // It may be a 202 not read; a second read would not be smaller.
            Problem::TooLarge(_) => Rule::new(Never, InFlight),
            Problem::Tls(_) | Problem::Gone(_) => Rule::new(Never, Refused),
            // Turned away before acting: a timeout of the request, or a
            // rate limit.
            Problem::Status {
                code: 408 | 429, ..
            } => Rule::new(Always, NotSent),
            // pg-backup-api's own error: it never leaves a running operation.
            Problem::Status { code: 500, .. } => Rule::new(Always, Answered),
            // A proxy's: the request may have reached pg-backup-api.
            Problem::Status {
                code: 502..=504, ..
            } => Rule::new(Always, InFlight),
            // A path with no route (Werkzeug's, or a proxy's page).
            Problem::Status { code: 404, .. } => Rule::new(WhilePolling, Refused),
            // Other 4xx, 3xx (not followed), 501, 505.
            Problem::Status { .. } => Rule::new(Never, Refused),
        }
    }

    /// Whether another attempt at a request of `kind` may do better.
    pub fn retried(&self, kind: RequestKind) -> bool {
        match self.rule().retried {
            Retried::Always => true,
            Retried::WhilePolling => kind == RequestKind::Poll,
            Retried::Never => false,
        }
    }

    /// Whether the operation polled does not exist, so that nothing goes on.
    pub fn operation_gone(&self) -> bool {
        matches!(self, Problem::Gone(_))
    }

    /// Whether a POST failing so may have created an operation: its answer
    /// was lost, or came in a form that cannot be read, or was not read.
    pub fn may_have_created(&self) -> bool {
        matches!(self.post_fate(), PostFate::InFlight | PostFate::Unread)
    }

    /// What a POST that failed this way may have done.
    pub fn post_fate(&self) -> PostFate {
        self.rule().post_fate
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
    use PostFate::*;
    use Retried::*;

    fn status(code: u16) -> Problem {
        Problem::Status {
            code,
            message: String::new(),
            location: None,
        }
    }

    /// The table, row by row: every kind of failure, and every status
    /// class the rule tells apart.
    #[test]
    fn every_failure_has_one_row() {
        let rows = [
            (Problem::Unreachable("refused".into()), Always, NotSent),
            (Problem::Timeout(Duration::from_secs(1)), Always, InFlight),
            (Problem::Broken("closed".into()), Always, InFlight),
            (Problem::Malformed("not JSON".into()), Always, InFlight),
            (Problem::NoId("no operation_id".into()), Always, Unread),
            (
                Problem::NotFound("Server 'pg1' does not exist".into()),
                Always,
                NotSent,
            ),
            (Problem::TooLarge("body".into()), Never, InFlight),
            (Problem::Tls("unknown issuer".into()), Never, Refused),
            (Problem::Gone("not listed".into()), Never, Refused),
            (status(408), Always, NotSent),
            (status(429), Always, NotSent),
            (status(500), Always, Answered),
            (status(502), Always, InFlight),
            (status(503), Always, InFlight),
            (status(504), Always, InFlight),
            (status(404), WhilePolling, Refused),
            (status(400), Never, Refused),
            (status(403), Never, Refused),
            (status(405), Never, Refused),
            (status(409), Never, Refused),
            (status(415), Never, Refused),
            (status(301), Never, Refused),
            (status(302), Never, Refused),
            (status(501), Never, Refused),
            (status(505), Never, Refused),
            (status(507), Never, Refused),
        ];
        for (problem, retried, post_fate) in rows {
            assert_eq!(problem.rule(), Rule::new(retried, post_fate), "{problem:?}");
        }
    }

    #[test]
    fn retried_follows_the_kind_of_request() {
        assert!(status(404).retried(RequestKind::Poll));
        assert!(!status(404).retried(RequestKind::Other));
        assert!(status(503).retried(RequestKind::Other));
        assert!(!status(403).retried(RequestKind::Poll));
    }

    #[test]
    fn only_a_lost_unread_or_unreadable_answer_may_have_created_an_operation() {
        let lost = [
            Problem::Timeout(Duration::from_secs(1)),
            Problem::Broken("closed".into()),
            Problem::Malformed("not JSON".into()),
            Problem::NoId("empty".into()),
            Problem::TooLarge("body".into()),
            status(502),
            status(504),
        ];
        assert!(lost.iter().all(Problem::may_have_created));
        let settled = [
            Problem::Unreachable("refused".into()),
            Problem::Tls("refused".into()),
            Problem::NotFound("Resource not found".into()),
            status(500),
            status(429),
            status(400),
        ];
        assert!(!settled.iter().any(Problem::may_have_created));
    }
}
