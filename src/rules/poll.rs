//! Waiting for an operation: when to poll, and when to stop waiting.

use crate::api::Status;
use crate::failure::{Problem, Request, Retried};
use crate::log::Logger;
use crate::rules::retry::{Budget, Retrier};
use crate::text::{capitalized, seconds};
use std::time::{Duration, Instant};

/// The shortest pause between polls, when the operation has just started.
pub const FIRST_PAUSE: Duration = Duration::from_millis(250);

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PollPolicy {
    /// The longest pause between two polls (`--loop-wait`).
    pub loop_wait: Duration,
    /// Give up waiting after this long (`--max-wait`); `None` waits forever.
    pub max_wait: Option<Duration>,
    /// How long after its last good answer pg-backup-api's own 404 on the
    /// operation is ridden out without counting against `--max-retries`:
    /// NOT_FOUND_PATIENCE for an operation known to exist, zero otherwise.
    pub not_found_patience: Duration,
}

/// Under load, pg-backup-api's development server answers 404 `No barman
/// config found` for seconds on end about an operation that exists (seen
/// in `make e2e`: five polls in a row, 10 s); giving up then made Patroni
/// fall back to pg_basebackup while Barman still restored.
pub const NOT_FOUND_PATIENCE: Duration = Duration::from_secs(300);

/// The pause before the next poll of an operation that has been running for
/// `age`: a twelfth of its age, at least 0.25 s and at most `loop_wait`. A
/// config switch (0.3-2.5 s) is seen within a quarter of a second of its end,
/// anything that ends within 10 s within 0.85 s, and a recovery of hours is
/// polled every `loop_wait`. The first poll, right after the POST, has no pause.
pub fn pause_before_next_poll(age: Duration, loop_wait: Duration) -> Duration {
    (age / 12).max(FIRST_PAUSE).min(loop_wait)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    Finished(Status),
    /// `--max-wait` ran out; the operation goes on on the Barman host, as
    /// far as anyone knows: with the problem when the last poll failed.
    StillRunning(Option<Problem>),
    Error(Problem),
}

/// The least time a poll gets, even right at `--max-wait`.
const LAST_POLL: Duration = Duration::from_secs(1);

/// The operation followed, for log lines: `noun` `id` ("recovery
/// operation 2026..."), and `what` is polled ("GET http://...").
pub struct Followed<'a> {
    pub noun: &'a str,
    pub id: &'a str,
    pub what: &'a str,
}

/// Polls the operation with `ask` until it is DONE or FAILED, the retries
/// run out, or `max_wait` passes. A good answer restores the retry budget,
/// so an outage shorter than the budget is ridden out at any point of a
/// long wait. `ask` gets the time a poll may take: no more than what is left
/// of `max_wait` (at least LAST_POLL), so a hung poll ends near it too.
pub fn wait_for(
    retrier: Retrier,
    poll: PollPolicy,
    followed: &Followed,
    mut ask: impl FnMut(Duration) -> Result<Status, Problem>,
) -> End {
    wait_with(retrier, poll, followed, &mut ask)
}

/// The loop, once for every caller.
fn wait_with(
    Retrier {
        policy: retry,
        clock,
        log,
        ..
    }: Retrier,
    poll: PollPolicy,
    &Followed { noun, id, what }: &Followed,
    ask: &mut dyn FnMut(Duration) -> Result<Status, Problem>,
) -> End {
    let started = clock.now();
    let deadline = poll.max_wait.map(|limit| started + limit);
    let mut budget = Budget::new(retry, Request::Poll);
    let mut last_good = started;
    loop {
        let left = |deadline: Instant| deadline.saturating_duration_since(clock.now());
        let limit = deadline.map_or(Duration::MAX, |deadline| left(deadline).max(LAST_POLL));
        let failure = match ask(limit) {
            Ok(Status::InProgress) => {
                budget.reset();
                last_good = clock.now();
                log.info(&format!("{} {id} is still in progress", capitalized(noun)));
                None
            }
            Ok(finished) => return End::Finished(finished),
            Err(problem) => Some(problem),
        };
        let past_deadline = deadline.is_some_and(|deadline| clock.now() >= deadline);
        let pause = match failure {
            None if past_deadline => return End::StillRunning(None),
            None => {
                // Up to a fifth more, at random: the polls of runs started
                // together do not stay in step.
                let pause = pause_before_next_poll(clock.now() - started, poll.loop_wait);
                pause + clock.jitter(pause / 5)
            }
            Some(problem) => {
                let patient = clock.now() - last_good < poll.not_found_patience;
                let step = Failed {
                    past_deadline,
                    patient,
                    what,
                };
                match step.next(problem, &mut budget, log, retry.wait) {
                    Ok(pause) => pause,
                    Err(end) => return end,
                }
            }
        };
        clock.sleep(deadline.map_or(pause, |deadline| pause.min(left(deadline))));
    }
}

/// A poll that failed, and where the wait stands.
struct Failed<'a> {
    past_deadline: bool,
    /// The operation answered within `not_found_patience`.
    patient: bool,
    what: &'a str,
}

impl Failed<'_> {
    /// The pause before the next poll, or how the wait ends.
    fn next(
        &self,
        problem: Problem,
        budget: &mut Budget,
        log: &Logger,
        wait: Duration,
    ) -> Result<Duration, End> {
        let (rule, what) = (problem.rule(Request::Poll), self.what);
        // A failure for good still ends as an error, deadline or not.
        if self.past_deadline && rule.retried != Retried::Never {
            return Err(End::StillRunning(Some(problem)));
        }
        if rule.retried == Retried::Patiently && self.patient {
            log.warning(&format!(
                "{what} failed: {problem}; {}: not counted, polling again in {} s.",
                rule.why,
                seconds(wait)
            ));
            return Ok(wait);
        }
        budget.step(log, what, &problem).ok_or(End::Error(problem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, FakeClock};
    use crate::log::Logger;
    use crate::rules::retry::RetryPolicy;

    const SECOND: Duration = Duration::from_secs(1);
    const RETRY: RetryPolicy = RetryPolicy {
        wait: Duration::from_secs(2),
        attempts: 3,
    };
    const POLL: PollPolicy = PollPolicy {
        loop_wait: Duration::from_secs(10),
        max_wait: None,
        not_found_patience: NOT_FOUND_PATIENCE,
    };

    /// The usual 10 s between polls, with a `--max-wait`.
    fn waiting_at_most(max_wait: Duration) -> PollPolicy {
        PollPolicy {
            max_wait: Some(max_wait),
            ..POLL
        }
    }

    /// Waits for recovery operation 1 with RETRY and `poll`.
    fn recovery(
        clock: &FakeClock,
        log: &Logger,
        poll: PollPolicy,
        ask: impl FnMut(Duration) -> Result<Status, Problem>,
    ) -> End {
        let retrier = Retrier {
            policy: RETRY,
            clock,
            log,
            goes_on: false,
        };
        let followed = Followed {
            noun: "recovery operation",
            id: "1",
            what: "GET u",
        };
        wait_for(retrier, poll, &followed, ask)
    }

    #[test]
    fn a_404_while_polling_is_retried() {
        // The real server answers 404 while the worker writes its output.
        let (clock, log) = (FakeClock::new(), Logger::capture());
        let mut answers = vec![
            Err(Problem::Status {
                code: 404,
                message: "Resource not found".into(),
                location: None,
            }),
            Ok(Status::Done),
        ]
        .into_iter();
        let end = recovery(&clock, &log, POLL, |_| answers.next().unwrap());
        assert_eq!(end, End::Finished(Status::Done));
        assert_eq!(*clock.slept.borrow(), [RETRY.wait]);
    }

    fn no_config() -> Result<Status, Problem> {
        Err(Problem::NotFound("No barman config found for 'pg1'".into()))
    }

    #[test]
    fn pg_backup_apis_own_404s_on_an_operation_that_exists_are_not_counted() {
        // Ten in a row, more than the 3 attempts allowed, then the answer.
        let (clock, log) = (FakeClock::new(), Logger::capture());
        let mut answers = (0..10).map(|_| no_config()).chain([Ok(Status::Done)]);
        let end = recovery(&clock, &log, POLL, |_| answers.next().unwrap());
        assert_eq!(end, End::Finished(Status::Done));
        assert_eq!(*clock.slept.borrow(), [RETRY.wait; 10]);
        assert!(!log.lines().iter().any(|l| l.contains("Attempt")));
    }

    #[test]
    fn own_404s_count_again_once_the_patience_is_spent() {
        let (clock, log) = (FakeClock::new(), Logger::capture());
        // 2 s apart: 150 of them fill the 300 s, then 3 attempts.
        let end = recovery(&clock, &log, POLL, |_| no_config());
        assert!(matches!(end, End::Error(Problem::NotFound(_))), "{end:?}");
        assert_eq!(clock.slept.borrow().len(), 150 + 2);
        // Where it is not known to exist (an earlier run's), at once.
        let (clock, log) = (FakeClock::new(), Logger::capture());
        let unknown = PollPolicy {
            not_found_patience: Duration::ZERO,
            ..POLL
        };
        let end = recovery(&clock, &log, unknown, |_| no_config());
        assert!(matches!(end, End::Error(Problem::NotFound(_))), "{end:?}");
        assert_eq!(clock.slept.borrow().len(), 2);
    }

    #[test]
    fn pauses_grow_with_age_and_stay_within_bounds() {
        let ms = Duration::from_millis;
        let wait = |age_ms, loop_wait_ms| pause_before_next_poll(ms(age_ms), ms(loop_wait_ms));
        assert_eq!(wait(0, 10_000), ms(250));
        assert_eq!(wait(1_000, 10_000), ms(250));
        assert_eq!(wait(6_000, 10_000), ms(500));
        assert!(wait(9_990, 10_000) < ms(850));
        assert_eq!(wait(60_000, 5_000), ms(5_000));
        assert_eq!(wait(3_600_000, 10_000), ms(10_000));
        assert_eq!(wait(0, 50), ms(50));
    }

    #[test]
    fn polls_of_runs_started_together_drift_apart_by_up_to_a_fifth() {
        let clock = FakeClock::with_jitter(Duration::from_secs(60));
        let log = Logger::capture();
        let mut left = 3;
        let end = recovery(&clock, &log, POLL, |_| {
            left -= 1;
            Ok(if left == 0 {
                Status::Done
            } else {
                Status::InProgress
            })
        });
        assert_eq!(end, End::Finished(Status::Done));
        // The jitter is capped at a fifth of each pause: 0.25 s + 0.05 s.
        let extra = FIRST_PAUSE + FIRST_PAUSE / 5;
        assert_eq!(*clock.slept.borrow(), [extra; 2]);
    }

    #[test]
    fn an_operation_that_ends_within_10_s_is_seen_within_a_second() {
        for done_at_ms in (0..10_000).step_by(37) {
            let done_at = Duration::from_millis(done_at_ms);
            let (clock, log) = (FakeClock::new(), Logger::capture());
            let start = clock.now();
            let end = recovery(&clock, &log, POLL, |_| {
                Ok(if clock.now() - start >= done_at {
                    Status::Done
                } else {
                    Status::InProgress
                })
            });
            assert_eq!(end, End::Finished(Status::Done));
            assert!(
                clock.elapsed() - done_at < SECOND,
                "done at {done_at:?}, seen at {:?}",
                clock.elapsed()
            );
        }
    }

    #[test]
    fn an_answered_poll_restores_the_retry_budget() {
        let (clock, log) = (FakeClock::new(), Logger::capture());
        // Two failures, an answer, two failures, an answer, then DONE: never
        // three failures in a row, so never out of attempts.
        let mut script = "xx.xx.D".chars();
        let retrier = Retrier {
            policy: RETRY,
            clock: &clock,
            log: &log,
            goes_on: false,
        };
        let followed = Followed {
            noun: "config switch operation",
            id: "7",
            what: "GET u",
        };
        let end = wait_for(retrier, POLL, &followed, |_| match script.next().unwrap() {
            'x' => Err(Problem::Broken("reset".into())),
            '.' => Ok(Status::InProgress),
            _ => Ok(Status::Done),
        });
        assert_eq!(end, End::Finished(Status::Done));
        assert!(log
            .lines()
            .contains(&"INFO: Config switch operation 7 is still in progress".to_string()));
    }

    #[test]
    fn retries_run_out_during_a_long_outage() {
        let (clock, log) = (FakeClock::new(), Logger::capture());
        let end = recovery(&clock, &log, POLL, |_| {
            Err(Problem::Unreachable("refused".into()))
        });
        assert_eq!(end, End::Error(Problem::Unreachable("refused".into())));
        assert_eq!(*clock.slept.borrow(), vec![RETRY.wait; 2]);
    }

    #[test]
    fn max_wait_stops_waiting_at_the_deadline() {
        let (clock, log) = (FakeClock::new(), Logger::capture());
        let poll = waiting_at_most(Duration::from_secs(30));
        let mut polls = 0;
        let end = recovery(&clock, &log, poll, |_| {
            polls += 1;
            Ok(Status::InProgress)
        });
        assert_eq!(end, End::StillRunning(None));
        assert_eq!(clock.elapsed(), Duration::from_secs(30));
        assert!(polls > 2);
    }

    #[test]
    fn a_hung_poll_is_cut_near_max_wait_not_after_a_whole_http_timeout() {
        let (clock, log) = (FakeClock::new(), Logger::capture());
        let poll = waiting_at_most(Duration::from_millis(2_500));
        let mut limits = Vec::new();
        let end = recovery(&clock, &log, poll, |limit| {
            limits.push(limit);
            // A server that never answers: the poll takes all it may,
            // up to an --http-timeout of 30 s.
            let took = limit.min(Duration::from_secs(30));
            clock.sleep(took);
            Err(Problem::Timeout(took))
        });
        assert_eq!(
            end,
            End::StillRunning(Some(Problem::Timeout(Duration::from_millis(2_500))))
        );
        assert_eq!(limits, vec![Duration::from_millis(2_500)]);
        assert_eq!(clock.elapsed(), Duration::from_millis(2_500));
        // Stopping is not a failed attempt to report.
        assert!(log.lines().is_empty(), "{:?}", log.lines());
    }
}
