//! The jobs. recover and config-switch: check pg-backup-api, create one
//! operation, wait for it, report. wait: check, follow, report. check:
//! src/check.rs.

use crate::api::{Client, Kind, Listed, NewOperation, Status};
use crate::cli::{Change, Command, ConfigSwitch, Job, Opt, Sub, Wait};
use crate::clock::Clock;
use crate::create::{self, Setting};
use crate::failure::Problem;
use crate::log::Logger;
use crate::outcome::Outcome;
use crate::poll::{self, End, PollPolicy};
use crate::recover::Guard;
use crate::resume;
use crate::retry::{self, RetryPolicy};
use crate::signals;
use crate::text::{capitalized, named, quoted, seconds};
use crate::transport::{Transport, TransportConfig};
use crate::url::Scheme;
use std::cell::Cell;

/// Opens the log, starts watching for termination, prepares the transport
/// and runs the job. `Err` is a usage error (a certificate file cannot be
/// used): nothing is sent.
pub fn run(command: Command, clock: &dyn Clock) -> Result<Outcome, String> {
    let log = match &command.log_file {
        Some(path) => Logger::to_file_or_stderr(path),
        None => Logger::stderr(),
    };
    // The signal thread logs too, until the process ends.
    let log: &'static Logger = Box::leak(Box::new(log));
    signals::note("no operation was created.".into());
    if let Err(why) = signals::watch(log) {
        log.warning(&format!("{}.", capitalized(&why)));
    }
    let transport = Transport::new(&TransportConfig {
        url: &command.api_url,
        timeout: command.http_timeout,
        tls: &command.tls,
        user_agent: None,
    })?;
    let tls_options = command.tls_options();
    if command.api_url.scheme == Scheme::Http && !tls_options.is_empty() {
        let unused: Vec<String> = tls_options.iter().map(|(opt, _)| opt.flag()).collect();
        log.warning(&format!(
            "Not using {}: {} is http://, which has no TLS.",
            unused.join(", "),
            Opt::ApiUrl.flag()
        ));
    }
    for option in &command.ignored {
        log.info(&format!(
            "Ignoring option {option}, which patroni_barman does not use."
        ));
    }
    let session = Session {
        resume: resume::base(&command.api_url, &tls_options),
        client: Client::new(transport),
        log,
        clock,
        retry: command.retry,
        poll: command.poll,
        odd_entries_logged: Cell::new(false),
    };
    Ok(match &command.job {
        Job::Recover(recover) => session.recover(recover),
        Job::ConfigSwitch(switch) => session.config_switch(switch),
        Job::Check(check) => session.check(check),
        Job::Wait(wait) => session.wait(wait),
    })
}

pub(crate) struct Session<'a> {
    pub client: Client,
    pub log: &'a Logger,
    pub clock: &'a dyn Clock,
    pub retry: RetryPolicy,
    pub poll: PollPolicy,
    /// Odd entries of the operations list are logged once per run.
    odd_entries_logged: Cell<bool>,
    /// The start of the `wait` command that follows an operation.
    resume: String,
}

impl Session<'_> {
    fn config_switch(&self, job: &ConfigSwitch) -> Outcome {
        let change = match &job.change {
            Ok(change) => change,
            Err(why) => {
                self.log.error(&format!("Invalid config switch: {why}."));
                return Outcome::InvalidModel;
            }
        };
        if !job.switch_when.applies_to(&job.role) {
            self.log.info(&format!(
                "Config switch operation was skipped (role={}, switch_when={}).",
                job.role,
                job.switch_when.name()
            ));
            return Outcome::Skipped;
        }
        let model = match change {
            Change::Model(name) => Some(name.as_str()),
            Change::Reset => None,
        };
        self.execute(
            Sub::ConfigSwitch,
            &job.server,
            &NewOperation::config_switch(model),
        )
    }

    /// Checks /status, creates the operation once, waits for its end, and
    /// says how it ended.
    fn execute(&self, sub: Sub, server: &str, operation: &NewOperation) -> Outcome {
        if let Err(outcome) = self.check_status() {
            return outcome;
        }
        self.create_and_follow(sub, server, operation, None)
    }

    /// Creates the operation once, waits for its end, and says how it
    /// ended; `guard` keeps a recover's record (src/recover.rs) in step.
    pub(crate) fn create_and_follow(
        &self,
        sub: Sub,
        server: &str,
        operation: &NewOperation,
        guard: Option<&Guard>,
    ) -> Outcome {
        let id = match self.create(sub, server, operation, guard) {
            Ok(id) => id,
            Err(outcome) => return outcome,
        };
        let noun = format!("{} operation", operation.kind.label());
        self.follow(sub, &noun, server, &id)
    }

    /// Follows an operation left running, whose kind the list tells.
    fn wait(&self, job: &Wait) -> Outcome {
        let (server, id) = (job.server.as_str(), job.id.as_str());
        self.note_following("operation", server, id);
        if let Err(outcome) = self.check_status() {
            return outcome;
        }
        // The list tells the kind, and whether the operation exists at all:
        // a 404 on a poll can be the real server's under load.
        let what = format!("GET {}", self.client.operations_url(server));
        let kind = match retry::call(self.retry, self.clock, self.log, &what, || {
            self.client.operations(server)
        }) {
            Ok((listed, _)) => match listed.into_iter().find(|op| op.id == id) {
                Some(entry) => Kind::from_api_type(&entry.api_type),
                None => {
                    let gone = Problem::Gone("it is not in the server's list of operations".into());
                    return self.report(Sub::Wait, "operation", server, id, End::Error(gone));
                }
            },
            Err(Problem::NotFound(message)) => {
                self.log.error(&unknown_to_the_api(server, &message));
                return Outcome::ApiError(Sub::Wait);
            }
            // Unread: polls may still get through.
            Err(_) => None,
        };
        let noun = kind.map_or("operation".into(), |k| format!("{} operation", k.label()));
        self.follow(Sub::Wait, &noun, server, id)
    }

    /// Polls `noun` `id` until it ends, and says how it ended.
    pub(crate) fn follow(&self, sub: Sub, noun: &str, server: &str, id: &str) -> Outcome {
        self.note_following(noun, server, id);
        let what = format!("GET {}", self.client.operation_url(server, id));
        let end = poll::wait_for(
            self.clock,
            self.log,
            (self.retry, self.poll),
            (noun, id, &what),
            |limit| self.client.operation_status(server, id, limit),
        );
        self.report(sub, noun, server, id, end)
    }

    /// The log line and outcome of `end`.
    fn report(&self, sub: Sub, noun: &str, server: &str, id: &str, end: End) -> Outcome {
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
        let command = resume::wait_command(&self.resume, server, id);
        format!("Resume with: {command}")
    }

    /// GET /status must answer the JSON string "OK". Every failure here
    /// comes before anything was created, so each is 254, with its cause.
    pub(crate) fn check_status(&self) -> Result<(), Outcome> {
        let endpoint = self.client.status_url();
        let what = format!("GET {endpoint}");
        let status = retry::call(self.retry, self.clock, self.log, &what, || {
            self.client.status()
        });
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
                let hint = match problem {
                    Problem::Status { code: 404, .. } => self.wrong_path_hint(),
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

    /// Creates the operation (src/create.rs), and keeps the termination
    /// line and the record (`guard`) true while a POST is out. `Err` is the
    /// run's outcome, its cause logged.
    fn create(
        &self,
        sub: Sub,
        server: &str,
        operation: &NewOperation,
        guard: Option<&Guard>,
    ) -> Result<String, Outcome> {
        let operations = self.client.operations_url(server);
        let (post_what, list_what) = (format!("POST {operations}"), format!("GET {operations}"));
        let label = operation.kind.label();
        let setting = Setting {
            clock: self.clock,
            log: self.log,
            retry: self.retry,
            max_wait: self.poll.max_wait,
            kind: operation.kind,
            post_what: &post_what,
            list_what: &list_what,
        };
        let failed = |problem: &Problem| {
            if let Problem::NotFound(message) = problem {
                self.log.error(&unknown_to_the_api(server, message));
            }
            Outcome::ApiError(sub)
        };
        let mut list = || self.list(server, operation.kind);
        let known = create::read_list(&setting, &mut list).map_err(|p| failed(&p))?;
        if let Some(guard) = guard {
            // Before anything is sent: a record that cannot be written
            // would leave a restore nobody can track.
            guard
                .pending(&known)
                .map_err(|why| guard.unusable(self.log, &why))?;
        }
        let post = |known: &[Listed]| {
            if let Some(guard) = guard {
                guard.keep(self.log, guard.pending(known));
            }
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
            if let (Some(guard), Err(problem)) = (guard, &created) {
                if !problem.may_have_created() {
                    guard.keep(self.log, guard.nothing_sent());
                }
            }
            created
        };
        let created = create::create_once(&setting, known, post, list);
        if let (Some(guard), Ok(id)) = (guard, &created) {
            guard.keep(self.log, guard.created(id));
        }
        created.map_err(|p| failed(&p))
    }

    /// From now on, a termination leaves operation `id` running.
    fn note_following(&self, noun: &str, server: &str, id: &str) {
        signals::note(format!(
            "the {noun} {id} goes on on the Barman host; follow it at {}. {}",
            self.client.operation_url(server, id),
            self.resume_with(server, id)
        ));
    }

    /// The server's operations; odd entries are skipped, and said once.
    fn list(&self, server: &str, kind: Kind) -> Result<Vec<Listed>, Problem> {
        let (operations, skipped) = self.client.operations(server)?;
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
fn unknown_to_the_api(server: &str, message: &str) -> String {
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
