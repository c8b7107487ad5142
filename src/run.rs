//! The two jobs: check pg-backup-api, create one operation, wait for it.

use crate::api::{one_line, Client, Kind, Listed, NewOperation, Status};
use crate::cli::{Change, Command, ConfigSwitch, Job, Recover};
use crate::clock::Clock;
use crate::failure::{Class, Problem};
use crate::log::{seconds, Logger};
use crate::outcome::{Outcome, Sub};
use crate::poll::{self, capitalized, End, PollPolicy};
use crate::retry::{self, Budget, Next, RetryPolicy};
use crate::transport::Transport;
use crate::url::Scheme;
use std::time::Duration;

/// pg-backup-api refuses a second operation for a server within the same
/// second (its ids have one-second resolution).
const SAME_SECOND: Duration = Duration::from_secs(1);

/// Opens the log, prepares the transport and runs the job. `Err` is a usage
/// error (the log file or a certificate file cannot be used): nothing is sent.
pub fn run(command: Command, clock: &dyn Clock) -> Result<Outcome, String> {
    let log = match &command.log_file {
        Some(path) => {
            Logger::append_to(path).map_err(|e| format!("--log-file {}: {e}", path.display()))?
        }
        None => Logger::stderr(),
    };
    let transport = Transport::new(&command.api_url, command.http_timeout, &command.tls)?;
    let unused_tls = command.tls.given();
    if command.api_url.scheme == Scheme::Http && !unused_tls.is_empty() {
        log.warning(&format!(
            "Not using {}: --api-url is http://, which has no TLS.",
            unused_tls.join(", ")
        ));
    }
    for option in &command.ignored {
        log.info(&format!(
            "Ignoring option {option}, which patroni_barman does not use."
        ));
    }
    let session = Session {
        client: Client::new(command.api_url, transport),
        log: &log,
        clock,
        retry: command.retry,
        poll: command.poll,
    };
    Ok(match &command.job {
        Job::Recover(recover) => session.recover(recover),
        Job::ConfigSwitch(switch) => session.config_switch(switch),
    })
}

struct Session<'a> {
    client: Client,
    log: &'a Logger,
    clock: &'a dyn Clock,
    retry: RetryPolicy,
    poll: PollPolicy,
}

impl Session<'_> {
    fn recover(&self, job: &Recover) -> Outcome {
        let operation =
            NewOperation::recovery(&job.backup_id, &job.ssh_command, &job.data_directory);
        self.execute(Sub::Recover, &job.server, &operation)
    }

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

    /// Checks /status, creates the operation once, and waits for its end.
    fn execute(&self, sub: Sub, server: &str, operation: &NewOperation) -> Outcome {
        if let Err(outcome) = self.check_status(sub) {
            return outcome;
        }
        let Ok(id) = self.create_once(server, operation) else {
            return Outcome::ApiError(sub);
        };
        let kind = operation.kind;
        let endpoint = self.client.operation_endpoint(server, &id);
        let what = format!("GET {endpoint}");
        let policies = (self.retry, self.poll);
        let end = poll::wait_for(
            self.clock,
            self.log,
            policies,
            (kind, &id, &what),
            |limit| self.client.operation_status(server, &id, limit),
        );
        let label = capitalized(kind.label());
        match end {
            End::Finished(Status::Done) => {
                self.log
                    .info(&format!("{label} operation finished successfully."));
                Outcome::Success
            }
            End::Finished(_) => {
                self.log.error(&format!(
                    "{label} operation failed. pg-backup-api does not say why: read \
                     {server}/output/{id}.json under barman_home on the Barman host."
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
                    "Stopped waiting after --max-wait {waited} s: {} operation {id} {state}; \
                     follow it at {endpoint}.",
                    kind.label(),
                ));
                Outcome::StillRunning
            }
            End::Error(problem) => {
                // The operation lives on, unless the API says it knows no
                // such operation.
                if !matches!(problem, Problem::Status { code: 404, .. }) {
                    self.log.error(&format!(
                        "The {} operation {id} may still be running on the Barman host; \
                     follow it at {endpoint} before running again.",
                        kind.label()
                    ));
                }
                Outcome::ApiError(sub)
            }
        }
    }

    /// GET /status must answer the JSON string "OK". Not reaching it, after
    /// the retries, is 254; a definitive failure (a TLS certificate, a 4xx, a
    /// redirect) is a setup error, reported as the subcommand's API error.
    fn check_status(&self, sub: Sub) -> Result<(), Outcome> {
        let endpoint = self.client.status_endpoint();
        let what = format!("GET {endpoint}");
        match retry::call(self.retry, self.clock, self.log, &what, || {
            self.client.status()
        }) {
            Ok(status) if status == "OK" => Ok(()),
            Ok(status) => {
                self.log.error(&format!(
                    "pg-backup-api is not ready: {endpoint} answered {:?}, expected \"OK\".",
                    one_line(&status, 60)
                ));
                Err(Outcome::ApiNotOk)
            }
            Err(problem) if problem.class() == Class::Definitive => Err(Outcome::ApiError(sub)),
            Err(problem) => {
                self.log.error(&format!(
                    "pg-backup-api at {endpoint} cannot be reached: {problem}."
                ));
                Err(Outcome::ApiNotOk)
            }
        }
    }

    fn list(&self, server: &str) -> Result<Vec<Listed>, Problem> {
        let what = format!("GET {}", self.client.operations_endpoint(server));
        retry::call(self.retry, self.clock, self.log, &what, || {
            self.client.operations(server)
        })
    }

    /// Creates the operation, at most once per run. After a failure that may
    /// have created the operation anyway (no answer, a 5xx), the server's
    /// list of operations is compared with the one taken before the first
    /// POST, and a new operation of the same type is followed instead of
    /// creating another. A POST is sent again only when it surely created
    /// nothing: it never left, or pg-backup-api itself answered and the list
    /// shows nothing new. Otherwise the server may still be at work on it, so
    /// only the list is read again.
    fn create_once(&self, server: &str, operation: &NewOperation) -> Result<String, Problem> {
        let before = self.list(server)?;
        let what = format!("POST {}", self.client.operations_endpoint(server));
        let mut budget = Budget::new(self.retry);
        let kind = operation.kind;
        loop {
            let problem = match self.client.create(server, operation) {
                Ok(id) => {
                    let label = kind.label();
                    self.log
                        .info(&format!("Created the {label} operation with ID {id}"));
                    return Ok(id);
                }
                Err(problem) => problem,
            };
            if !problem.may_have_taken_effect() {
                match budget.record(self.log, &what, &problem) {
                    Next::RetryAfter(wait) => self.clock.sleep(wait),
                    Next::GiveUp => {
                        budget.give_up(self.log);
                        return Err(problem);
                    }
                }
                continue;
            }
            let pause = self.look_pause();
            let look = "looking for its operation in the server's list";
            let next = budget.record_then(self.log, &what, &problem, pause, look);
            if next == Next::GiveUp {
                let pause = seconds(pause);
                self.log.info(&format!(
                    "Looking for its operation in the server's list in {pause} s."
                ));
            }
            self.clock.sleep(pause);
            if let Some(id) = self.look_for_new(server, &before, kind, &problem)? {
                return Ok(id);
            }
            if !problem.server_is_done_with_it() {
                let looks = budget.left();
                let found = self.look_again(server, &before, kind, &problem, looks)?;
                if found.is_none() {
                    budget.give_up(self.log);
                }
                return found.ok_or(problem);
            }
            self.log.info("No new operation in the list.");
            if next == Next::GiveUp {
                budget.give_up(self.log);
                return Err(problem);
            }
            self.log.info("Sending the POST again.");
        }
    }

    /// The pause before reading the list after a POST that may have acted:
    /// the retry wait, but a full second at least, since the failure came
    /// after the server got the POST: a new POST then falls in another second
    /// of the server's clock.
    fn look_pause(&self) -> Duration {
        self.retry.wait.max(SAME_SECOND)
    }

    /// The operation of `kind` that appeared since `before`, if any, logged.
    fn look_for_new(
        &self,
        server: &str,
        before: &[Listed],
        kind: Kind,
        post_failure: &Problem,
    ) -> Result<Option<String>, Problem> {
        // A list that cannot be read leaves the question open: say so.
        let now = self
            .list(server)
            .map_err(|list_failed| self.report_may_exist(kind, list_failed))?;
        let found = newest_operation(before, &now, kind);
        if let Some(id) = &found {
            self.log.warning(&format!(
                "The {} operation with ID {id} appeared although the POST failed; \
                 following it instead of creating another.",
                kind.label()
            ));
            let answered_500 = matches!(post_failure, Problem::Status { code: 500, .. });
            if answered_500 && self.poll.max_wait.is_none() {
                self.log.warning(
                    "pg-backup-api also answers 500 when the operation's worker failed to \
                     start; such an operation reads IN_PROGRESS forever: --max-wait bounds \
                     the wait for it.",
                );
            }
        }
        Ok(found)
    }

    /// After a POST the server may still be at work on: looks at the list
    /// `looks` more times, and never sends another POST.
    fn look_again(
        &self,
        server: &str,
        before: &[Listed],
        kind: Kind,
        post_failure: &Problem,
        looks: u32,
    ) -> Result<Option<String>, Problem> {
        let pause = self.look_pause();
        for look in 1..=looks {
            self.log.warning(&format!(
                "No new operation in the list yet: the server may still be at work on the \
                 POST, so looking again in {} s ({look} of {looks}) instead of sending another.",
                seconds(pause)
            ));
            self.clock.sleep(pause);
            let found = self.look_for_new(server, before, kind, post_failure)?;
            if found.is_some() {
                return Ok(found);
            }
        }
        self.log.error(&format!(
            "No {} operation appeared after the failed POST; not sending another, which \
             could start a second one. Check the server's operations before running again.",
            kind.label()
        ));
        Ok(None)
    }

    /// The list could not be read after a POST that may have created an
    /// operation: says so, since nobody else will.
    fn report_may_exist(&self, kind: Kind, list_failed: Problem) -> Problem {
        self.log.error(&format!(
            "The failed POST may have created a {} operation all the same: check the \
             server's operations before running again.",
            kind.label()
        ));
        list_failed
    }
}

/// The newest operation of `kind` in `now` that was not in `before`. Ids are
/// timestamps (`20261125T171209`), so the greatest is the newest.
fn newest_operation(before: &[Listed], now: &[Listed], kind: Kind) -> Option<String> {
    now.iter()
        .filter(|op| op.api_type == kind.api_type() && !before.iter().any(|old| old.id == op.id))
        .map(|op| op.id.clone())
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(id: &str, api_type: &str) -> Listed {
        Listed {
            id: id.into(),
            api_type: api_type.into(),
        }
    }

    #[test]
    fn only_a_new_operation_of_the_same_type_is_adopted() {
        let before = [
            listed("20261125T100000", "recovery"),
            listed("20261125T100001", "config_switch"),
        ];
        let mut now = before.to_vec();
        assert_eq!(newest_operation(&before, &now, Kind::Recovery), None);
        now.push(listed("20261125T110000", "config_switch"));
        assert_eq!(newest_operation(&before, &now, Kind::Recovery), None);
        now.push(listed("20261125T110005", "recovery"));
        now.push(listed("20261125T110002", "recovery"));
        assert_eq!(
            newest_operation(&before, &now, Kind::Recovery).as_deref(),
            Some("20261125T110005")
        );
    }
}
