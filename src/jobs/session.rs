//! What every job is made of: check /status, create one operation, follow
//! it, and say how it ended, through one API client and one retry policy.

use super::resume;
use crate::api::{Client, Kind, Listed, NewOperation, Scanned, Status};
use crate::clock::Clock;
use crate::failure::{Hint, Problem, Request};
use crate::log::Logger;
use crate::outcome::Outcome;
use crate::rules::create::{self, Setting};
use crate::rules::poll::{self, End, Followed, PollPolicy};
use crate::rules::retry::{Retrier, RetryPolicy};
use crate::signals;
use crate::sub::Sub;
use crate::text::{capitalized, named, quoted, seconds};
use std::cell::Cell;

/// What a job does between the session's steps (recover: its record, its
/// progress lines and the proof that the restore landed here), in the
/// order the session calls them. Each does nothing unless the job says.
pub(super) trait Steps {
    /// The list is read and nothing is sent yet: `Err` ends the run (its
    /// cause logged).
    fn before_posts(&self, _known: &[Listed]) -> Result<(), Outcome> {
        Ok(())
    }

    /// A POST is about to go, judged against `known`.
    fn posting(&self, _known: &[Listed]) {}

    /// The POST failed so that nothing of it runs.
    fn nothing_sent(&self) {}

    /// The operation exists.
    fn created(&self, _id: &str) {}

    /// Runs `follow`, the polls to the operation's end.
    fn following(&self, follow: &mut dyn FnMut() -> End) -> End {
        follow()
    }

    /// pg-backup-api says DONE: `Err` is the run's outcome instead of
    /// success (its cause logged).
    fn done(&self, _id: &str) -> Result<(), Outcome> {
        Ok(())
    }
}

/// The steps of a job that has none of its own.
pub(super) struct NoSteps;

impl Steps for NoSteps {}

pub struct Session<'a> {
    pub(super) client: Client,
    pub(super) log: &'a Logger,
    pub(super) clock: &'a dyn Clock,
    retry: RetryPolicy,
    pub(super) poll: PollPolicy,
    /// Odd entries of the operations list are logged once per run.
    odd_entries_logged: Cell<bool>,
    /// The start of the `wait` command that follows an operation.
    resume: String,
}

impl<'a> Session<'a> {
    pub(super) fn new(
        client: Client,
        log: &'a Logger,
        clock: &'a dyn Clock,
        retry: RetryPolicy,
        poll: PollPolicy,
        resume: String,
    ) -> Session<'a> {
        Session {
            client,
            log,
            clock,
            retry,
            poll,
            odd_entries_logged: Cell::new(false),
            resume,
        }
    }

    /// Every retried request goes through this.
    pub(super) fn retrier(&self) -> Retrier<'a> {
        Retrier {
            policy: self.retry,
            clock: self.clock,
            log: self.log,
            goes_on: false,
        }
    }

    /// Checks /status, creates the operation once, waits for its end, and
    /// says how it ended.
    pub(super) fn execute(&self, sub: Sub, server: &str, operation: &NewOperation) -> Outcome {
        if let Err(outcome) = self.check_status() {
            return outcome;
        }
        self.create_and_follow(sub, server, operation, &NoSteps)
    }

    /// Creates the operation once, waits for its end, and says how it
    /// ended; `steps` are the job's own, in between.
    pub(super) fn create_and_follow(
        &self,
        sub: Sub,
        server: &str,
        operation: &NewOperation,
        steps: &dyn Steps,
    ) -> Outcome {
        let id = match self.create(sub, server, operation, steps) {
            Ok(id) => id,
            Err(outcome) => return outcome,
        };
        let noun = format!("{} operation", operation.kind.label());
        self.follow_with(sub, &noun, server, &id, steps)
    }

    /// Polls `noun` `id` until it ends, and says how it ended.
    pub(super) fn follow(&self, sub: Sub, noun: &str, server: &str, id: &str) -> Outcome {
        self.follow_with(sub, noun, server, id, &NoSteps)
    }

    fn follow_with(
        &self,
        sub: Sub,
        noun: &str,
        server: &str,
        id: &str,
        steps: &dyn Steps,
    ) -> Outcome {
        self.note_following(noun, server, id);
        let what = format!("GET {}", self.client.operation_url(server, id));
        let followed = Followed {
            noun,
            id,
            what: &what,
        };
        let end = steps.following(&mut || {
            poll::wait_for(self.retrier(), self.poll, &followed, |limit| {
                self.client.operation_status(server, id, limit)
            })
        });
        if end == End::Finished(Status::Done) {
            if let Err(outcome) = steps.done(id) {
                return outcome;
            }
        }
        self.report(sub, noun, server, id, end)
    }

    /// The log line and outcome of `end`.
    pub(super) fn report(&self, sub: Sub, noun: &str, server: &str, id: &str, end: End) -> Outcome {
        let url = self.client.operation_url(server, id);
        let resume = self.resume_with(server, id);
        match end {
            End::Finished(Status::Done) => {
                self.log
                    .info(&format!("{} finished successfully.", capitalized(noun)));
                Outcome::Success
            }
            End::Finished(_) => {
                self.log.error(&format!(
                    "{} failed. pg-backup-api does not say why: read \
                     {server}/output/{id}.json under barman_home on the Barman host.",
                    capitalized(noun)
                ));
                Outcome::OperationFailed(sub)
            }
            End::StillRunning(last_failure) => {
                let waited = seconds(self.poll.max_wait.unwrap_or_default());
                let state = match last_failure {
                    None => "is still running on the Barman host".to_string(),
                    Some(problem) => format!(
                        "may still be running on the Barman host (the last poll failed: {problem})"
                    ),
                };
                self.log.error(&format!(
                    "Stopped waiting after --max-wait {waited} s: {noun} {id} {state}; \
                     follow it at {url}. {resume}"
                ));
                Outcome::StillRunning
            }
            End::Error(problem) if problem.operation_gone() => {
                self.log.error(&format!(
                    "Cannot follow operation {id} of server {server}: {problem}."
                ));
                Outcome::ApiError(sub)
            }
            End::Error(_) => {
                self.log.error(&format!(
                    "The {noun} {id} may still be running on the Barman host; \
                     follow it at {url} before running again. {resume}"
                ));
                Outcome::ApiError(sub)
            }
        }
    }

    /// "Resume with: patroni_barman ... wait ...", the end of a log line:
    /// no period after it, so that it pastes as it is.
    fn resume_with(&self, server: &str, id: &str) -> String {
        let command = resume::command(&self.resume, server, id);
        format!("Resume with: {command}")
    }

    /// GET /status must answer the JSON string "OK". Every failure here
    /// comes before anything was created, so each is 254, with its cause.
    pub(super) fn check_status(&self) -> Result<(), Outcome> {
        let endpoint = self.client.status_url();
        let what = format!("GET {endpoint}");
        let status = self
            .retrier()
            .call(Request::Status, &what, || self.client.status());
        match status {
            Ok(status) if status == "OK" => Ok(()),
            Ok(status) => {
                self.log.error(&format!(
                    "pg-backup-api is not ready: {endpoint} answered {}, expected \"OK\".",
                    quoted(&status, 60)
                ));
                Err(Outcome::ApiNotOk)
            }
            Err(problem) => {
                let hint = match problem.rule(Request::Status).hint {
                    Hint::ApiPath => self.wrong_path_hint(),
                    _ => String::new(),
                };
                self.log.error(&format!(
                    "pg-backup-api at {endpoint} cannot be used: {problem}.{hint}"
                ));
                Err(Outcome::ApiNotOk)
            }
        }
    }

    /// After a 404 at /status: which path was asked, and why.
    fn wrong_path_hint(&self) -> String {
        let prefix = self.client.prefix();
        if prefix.is_empty() {
            return " --api-url has no path: behind a proxy that serves pg-backup-api under a \
                    prefix, add it (https://barman:8443/pgbackup, say)."
                .into();
        }
        let shorter = &prefix[..prefix.rfind('/').unwrap_or(0)];
        format!(
            " The path {prefix} of --api-url is kept as given, so {prefix}/status was asked; \
             check the proxy's prefix. (The Python tool drops the last segment of a path \
             without a trailing slash: it would have asked {shorter}/status.)"
        )
    }

    /// Creates the operation (src/rules/create.rs), and keeps the termination
    /// line and the job's `steps` (recover's record) true while a POST is
    /// out. `Err` is the run's outcome, its cause logged.
    fn create(
        &self,
        sub: Sub,
        server: &str,
        operation: &NewOperation,
        steps: &dyn Steps,
    ) -> Result<String, Outcome> {
        let operations = self.client.operations_url(server);
        let post_what = format!("POST {operations}");
        let label = operation.kind.label();
        let setting = Setting {
            retrier: self.retrier(),
            max_wait: self.poll.max_wait,
            kind: operation.kind,
            post_what: &post_what,
        };
        let failed = |problem: &Problem| {
            if problem.rule(Request::Post).hint == Hint::UnknownName {
                self.log
                    .error(&unknown_to_the_api(server, problem.detail()));
            }
            Outcome::ApiError(sub)
        };
        let list = || self.list(server, operation.kind);
        let known = list().map_err(|p| failed(&p))?;
        steps.before_posts(&known)?;
        let post = |known: &[Listed]| {
            steps.posting(known);
            signals::note(format!(
                "a POST that creates a {label} operation was out: check {operations} \
                 for a new one before running again."
            ));
            let created = self.client.create(server, operation);
            match &created {
                Ok(id) => self.note_following(&format!("{label} operation"), server, id),
                Err(_) => signals::note(format!(
                    "a POST that creates a {label} operation failed, and it may have created \
                     one: check {operations} for a new one before running again."
                )),
            }
            if created
                .as_ref()
                .is_err_and(|problem| !problem.may_have_created())
            {
                steps.nothing_sent();
            }
            created
        };
        let created = create::create_once(&setting, known, post, list);
        if let Ok(id) = &created {
            steps.created(id);
        }
        created.map_err(|p| failed(&p))
    }

    /// From now on, a termination leaves operation `id` running, and JSON
    /// log lines name it.
    pub(super) fn note_following(&self, noun: &str, server: &str, id: &str) {
        self.log.field("operation_id", id);
        signals::note(format!(
            "the {noun} {id} goes on on the Barman host; follow it at {}. {}",
            self.client.operation_url(server, id),
            self.resume_with(server, id)
        ));
    }

    /// The one reader of a server's list, with retries (`retrier`'s, for
    /// `Request::List`): each attempt starts from `T::default()` and shows
    /// every usable entry to `keep`, so that a long history costs only what
    /// `keep` keeps.
    pub(super) fn read_list<T: Default>(
        &self,
        retrier: Retrier,
        server: &str,
        mut keep: impl FnMut(&mut T, Listed),
    ) -> Result<(T, Scanned), Problem> {
        let what = format!("GET {}", self.client.operations_url(server));
        retrier.call(Request::List, &what, || {
            let mut kept = T::default();
            let scanned = self
                .client
                .scan_operations(server, &mut |entry| keep(&mut kept, entry))?;
            Ok((kept, scanned))
        })
    }

    /// The server's operations, for the creation driver; odd entries are
    /// skipped, and said once.
    fn list(&self, server: &str, kind: Kind) -> Result<Vec<Listed>, Problem> {
        let (operations, scanned) = self.read_list(self.retrier(), server, Vec::push)?;
        let skipped = scanned.skipped;
        if skipped > 0 && !self.odd_entries_logged.replace(true) {
            self.log.warning(&format!(
                "Skipped {skipped} entries of the server's operations list that are not \
                 {{\"id\", \"type\"}} objects with a visible id; a {} operation among them \
                 would go unseen.",
                kind.label()
            ));
        }
        Ok(operations)
    }
}

/// The last line of a run that pg-backup-api answered 404 on every attempt:
/// it does not know the server (or, on a POST, the backup).
pub(super) fn unknown_to_the_api(server: &str, message: &str) -> String {
    let (what, advice) = match message.starts_with("Backup ") {
        true => ("that backup of server", "--backup-id"),
        false => (
            "server",
            "--barman-server against Barman's configuration on the Barman host",
        ),
    };
    format!(
        "pg-backup-api does not know {what} {} (it answered HTTP 404 \"{message}\" to \
         every attempt): check {advice}.",
        named(server, 60),
    )
}
