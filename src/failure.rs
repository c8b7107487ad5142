//! Every way a request can fail, and the one table that says what each
//! failure of each request means: `Problem::rule(request)`, one arm per
//! kind of failure (and per request where that differs), tested row by row
//! below. A row says whether the failure is retried (counted, or patiently
//! for pg-backup-api's false 404s on polls), what a POST failing so may
//! have done (`PostFate`, what src/rules/create.rs acts on), the words of
//! the WARNING that rides it out, and the hint of the run's last line.
//! Callers ask the rule; none matches a status code.
//!
//! A failure is made by the transport (src/transport/: no connection, a
//! timeout, a broken or unreadable answer, TLS), by the API client
//! (src/api/: a status, a body that is not the JSON expected) or by a job
//! (`Gone`).

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

/// Which request failed: the table's column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// GET /status, before anything is created.
    Status,
    /// The GET of a server's operations list.
    List,
    /// The POST that creates an operation.
    Post,
    /// The GET of the operation this run created or follows.
    Poll,
    /// GET /diagnose (`check`, and the size a restore's progress is told in).
    Diagnose,
}

/// Whether another attempt may do better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retried {
    /// Yes, counted against `--max-retries`.
    Counted,
    /// Yes, and not counted while the operation answered within
    /// `PollPolicy::not_found_patience`; counted after that.
    Patiently,
    Never,
}

/// What a POST that failed so may have done on the server, and so what
/// src/rules/create.rs does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostFate {
    /// It never reached pg-backup-api, or was turned away before it acted:
    /// send it again after `--retry-wait`.
    NotSent,
    /// pg-backup-api answered and left no running operation: for its own
    /// 500, most often another POST for the server came in the same second
    /// (one POST per server per second), else a job whose worker never
    /// started (it reads IN_PROGRESS forever). Sent again after
    /// max(`--retry-wait`, 1 s) plus a random part under 2, 4, 8, then
    /// 16 s, once the list was read (a new entry is named in a WARNING,
    /// never followed; a list that cannot be read stops the run). It counts
    /// against `--max-retries` only when exactly one operation appeared
    /// meanwhile, which may be its own job whose worker never started
    /// (none: pg-backup-api wrote nothing, as in its configuration race
    /// under `serve` load; two: one is surely another client's);
    /// `MAX_COLLISIONS` and `--max-wait` bound it.
    Collided,
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

/// What the run's last line adds to a failure that ends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hint {
    None,
    /// A path with no route at /status: the path of `--api-url`.
    ApiPath,
    /// pg-backup-api's own 404: it does not know the server (or, on a
    /// POST, the backup).
    UnknownName,
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub retried: Retried,
    /// What it means after a POST; `Refused` for other requests.
    pub post_fate: PostFate,
    /// Why a failure ridden out is (a `Collided` POST, a `Patiently` poll),
    /// in the WARNING that says so; empty otherwise.
    pub why: &'static str,
    pub hint: Hint,
}

const fn row(retried: Retried, post_fate: PostFate) -> Rule {
    Rule {
        retried,
        post_fate,
        why: "",
        hint: Hint::None,
    }
}

impl Rule {
    const fn why(self, why: &'static str) -> Rule {
        Rule { why, ..self }
    }

    const fn hint(self, hint: Hint) -> Rule {
        Rule { hint, ..self }
    }
}

impl Problem {
    /// The table: how each failure of each request is retried, what a POST
    /// failing so may have done, and the words for it. Every other
    /// question is answered from it.
    pub fn rule(&self, request: Request) -> Rule {
        use PostFate::*;
        use Request::*;
        use Retried::*;
        match (request, self) {
            (_, Problem::Unreachable(_)) => row(Counted, NotSent),
            (_, Problem::Timeout(_) | Problem::Broken(_)) => row(Counted, InFlight),
            // It may be a 202 that cannot be read.
            (_, Problem::Malformed(_)) => row(Counted, InFlight),
            (_, Problem::NoId(_)) => row(Counted, Unread),
            // Under load the real server says so of operations, and of
            // servers, that exist (docs/pg-backup-api.md).
            (Poll, Problem::NotFound(_)) => row(Patiently, Refused)
                .why("pg-backup-api says so of operations that exist when it is busy")
                .hint(Hint::UnknownName),
            // It answers before any job file.
            (_, Problem::NotFound(_)) => row(Counted, NotSent).hint(Hint::UnknownName),
            // It may be a 202 not read; a second read would not be smaller.
            (_, Problem::TooLarge(_)) => row(Never, InFlight),
            (_, Problem::Tls(_) | Problem::Gone(_)) => row(Never, Refused),
            // Turned away before acting: a timeout of the request, or a
            // rate limit.
            (
                _,
                Problem::Status {
                    code: 408 | 429, ..
                },
            ) => row(Counted, NotSent),
            // pg-backup-api's own error: it never leaves a running operation.
            (Post, Problem::Status { code: 500, .. }) => row(Counted, Collided).why(
                "pg-backup-api ran nothing for it, most often because another POST for the \
                 server came in the same second",
            ),
            (_, Problem::Status { code: 500, .. }) => row(Counted, Refused),
            // A proxy's: the request may have reached pg-backup-api.
            (
                _,
                Problem::Status {
                    code: 502..=504, ..
                },
            ) => row(Counted, InFlight),
            // A path with no route (Werkzeug's, or a proxy's page): the
            // operation's URL answered a moment ago.
            (Poll, Problem::Status { code: 404, .. }) => row(Counted, Refused),
            (Status, Problem::Status { code: 404, .. }) => row(Never, Refused).hint(Hint::ApiPath),
            // Other 4xx, 3xx (not followed), 501, 505.
            (_, Problem::Status { .. }) => row(Never, Refused),
        }
    }

    /// Whether another attempt at `request` may do better.
    pub fn retried(&self, request: Request) -> bool {
        self.rule(request).retried != Retried::Never
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
        self.rule(Request::Post).post_fate
    }

    /// The server's own words, or the cause, without what kind of failure
    /// it is.
    pub fn detail(&self) -> &str {
        match self {
            Problem::Timeout(_) => "",
            Problem::Status { message, .. } => message,
            Problem::Unreachable(why)
            | Problem::Broken(why)
            | Problem::Malformed(why)
            | Problem::NoId(why)
            | Problem::NotFound(why)
            | Problem::TooLarge(why)
            | Problem::Tls(why)
            | Problem::Gone(why) => why,
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
    use PostFate::*;
    use Request::*;
    use Retried::*;

    fn status(code: u16) -> Problem {
        Problem::Status {
            code,
            message: String::new(),
            location: None,
        }
    }

    const ALL: [Request; 5] = [Status, List, Post, Poll, Diagnose];

    /// The table, row by row: every kind of failure, every status class
    /// the rule tells apart, and the requests where its row differs.
    #[test]
    fn every_failure_has_one_row() {
        let mut rows = vec![
            (
                ALL,
                Problem::Unreachable("refused".into()),
                Counted,
                NotSent,
            ),
            (
                ALL,
                Problem::Timeout(Duration::from_secs(1)),
                Counted,
                InFlight,
            ),
            (ALL, Problem::Broken("closed".into()), Counted, InFlight),
            (
                ALL,
                Problem::Malformed("not JSON".into()),
                Counted,
                InFlight,
            ),
            (
                ALL,
                Problem::NoId("no operation_id".into()),
                Counted,
                Unread,
            ),
            (ALL, Problem::TooLarge("body".into()), Never, InFlight),
            (ALL, Problem::Tls("unknown issuer".into()), Never, Refused),
            (ALL, Problem::Gone("not listed".into()), Never, Refused),
            (ALL, status(502), Counted, InFlight),
            (ALL, status(503), Counted, InFlight),
            (ALL, status(504), Counted, InFlight),
        ];
        for code in [408, 429] {
            rows.push((ALL, status(code), Counted, NotSent));
        }
        for code in [400, 403, 405, 409, 415, 301, 302, 501, 505, 507] {
            rows.push((ALL, status(code), Never, Refused));
        }
        for (requests, problem, retried, post_fate) in rows {
            for request in requests {
                let rule = problem.rule(request);
                assert_eq!(
                    (rule.retried, rule.post_fate),
                    (retried, post_fate),
                    "{request:?} {problem:?}"
                );
                assert_eq!(
                    (rule.why, rule.hint),
                    ("", Hint::None),
                    "{request:?} {problem:?}"
                );
            }
        }
    }

    /// The rows that depend on the request, with their words.
    #[test]
    fn some_rows_know_the_request() {
        let not_found = Problem::NotFound("Server 'pg1' does not exist".into());
        let rows = [
            (
                Poll,
                &not_found,
                Patiently,
                Refused,
                true,
                Hint::UnknownName,
            ),
            (
                Status,
                &not_found,
                Counted,
                NotSent,
                false,
                Hint::UnknownName,
            ),
            (List, &not_found, Counted, NotSent, false, Hint::UnknownName),
            (Post, &not_found, Counted, NotSent, false, Hint::UnknownName),
            (
                Diagnose,
                &not_found,
                Counted,
                NotSent,
                false,
                Hint::UnknownName,
            ),
            (Post, &status(500), Counted, Collided, true, Hint::None),
            (Status, &status(500), Counted, Refused, false, Hint::None),
            (List, &status(500), Counted, Refused, false, Hint::None),
            (Poll, &status(500), Counted, Refused, false, Hint::None),
            (Diagnose, &status(500), Counted, Refused, false, Hint::None),
            (Poll, &status(404), Counted, Refused, false, Hint::None),
            (Status, &status(404), Never, Refused, false, Hint::ApiPath),
            (List, &status(404), Never, Refused, false, Hint::None),
            (Post, &status(404), Never, Refused, false, Hint::None),
            (Diagnose, &status(404), Never, Refused, false, Hint::None),
        ];
        for (request, problem, retried, post_fate, has_why, hint) in rows {
            let rule = problem.rule(request);
            let got = (
                rule.retried,
                rule.post_fate,
                !rule.why.is_empty(),
                rule.hint,
            );
            assert_eq!(
                got,
                (retried, post_fate, has_why, hint),
                "{request:?} {problem:?}"
            );
        }
    }

    #[test]
    fn retried_follows_the_request() {
        assert!(status(404).retried(Poll));
        assert!(!status(404).retried(List));
        assert!(status(503).retried(Post));
        assert!(!status(403).retried(Poll));
        assert!(Problem::NotFound("x".into()).retried(Poll));
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
