//! The retry budget: how many attempts a request gets and how long to wait
//! between them. Whether a failure is worth retrying at all is decided by
//! `Problem::retried`; this module only counts, logs and pauses.

use crate::clock::Clock;
use crate::failure::{Problem, Request};
use crate::log::Logger;
use crate::text::seconds;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Pause after a failed attempt (`--retry-wait`).
    pub wait: Duration,
    /// Attempts in all, at least one (`--max-retries`).
    pub attempts: u32,
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    RetryAfter(Duration),
    GiveUp,
}

/// Counts the failures of one request, or of one operation's polls, where a
/// good answer starts the count again.
pub struct Budget {
    policy: RetryPolicy,
    request: Request,
    failures: u32,
    /// The run goes on after this request gives up (`check`).
    goes_on: bool,
}

impl Budget {
    pub fn new(policy: RetryPolicy, request: Request) -> Budget {
        Budget {
            policy,
            request,
            failures: 0,
            goes_on: false,
        }
    }

    /// A good answer: an outage later on gets the whole budget again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Attempts not used yet.
    pub fn left(&self) -> u32 {
        self.policy.attempts.max(1).saturating_sub(self.failures)
    }

    /// Says so when the run stops because the attempts ran out; called where
    /// the caller really gives up.
    pub fn give_up(&self, log: &Logger) {
        if self.failures >= self.policy.attempts.max(1) {
            match self.goes_on {
                true => log.warning("Maximum number of retries exceeded; going on."),
                false => log.error("Maximum number of retries exceeded, exiting."),
            }
        }
    }

    /// Records a failed attempt at `what` ("GET http://..."), logs it, and
    /// says whether to try again: `then`, after `pause`. Loops take `step`,
    /// or this and `pause_or_give_up` for words of their own (create.rs);
    /// alone, it is for a run that goes on after the last attempt.
    pub fn record_then(
        &mut self,
        log: &Logger,
        what: &str,
        problem: &Problem,
        pause: Duration,
        then: &str,
    ) -> Next {
        if !problem.retried(self.request) {
            log.error(&format!("{what} failed: {problem} (not retried)."));
            return Next::GiveUp;
        }
        self.failures += 1;
        let attempts = self.policy.attempts.max(1);
        let attempt = format!(
            "Attempt {} of {attempts} on {what} failed: {problem}",
            self.failures
        );
        if self.failures >= attempts {
            log.error(&format!("{attempt}."));
            return Next::GiveUp;
        }
        match pause.is_zero() {
            true => log.warning(&format!("{attempt}; {then} now.")),
            false => log.warning(&format!("{attempt}; {then} in {} s.", seconds(pause))),
        }
        Next::RetryAfter(pause)
    }

    /// The step every retry loop takes after a failure: records it and
    /// gives the pause before the next attempt, or says why the run stops
    /// and gives `None`.
    pub fn step(&mut self, log: &Logger, what: &str, problem: &Problem) -> Option<Duration> {
        let next = self.record_then(log, what, problem, self.policy.wait, "retrying");
        self.pause_or_give_up(log, next)
    }

    /// After `record_then`: the pause it gave, or, when it gave up, the
    /// line that says the retries ran out, and `None`.
    pub fn pause_or_give_up(&self, log: &Logger, next: Next) -> Option<Duration> {
        match next {
            Next::RetryAfter(pause) => Some(pause),
            Next::GiveUp => {
                self.give_up(log);
                None
            }
        }
    }
}

/// What every retried request needs: the policy, the clock it waits on
/// and the log it says each failure in. Jobs and the creation driver call
/// every retried request through it.
#[derive(Clone, Copy)]
pub struct Retrier<'a> {
    pub policy: RetryPolicy,
    pub clock: &'a dyn Clock,
    pub log: &'a Logger,
    /// The run goes on when a request gives up (`check`): running out of
    /// attempts is not said to end it.
    pub goes_on: bool,
}

impl Retrier<'_> {
    /// For a run that goes on when a request gives up.
    pub fn going_on(self) -> Self {
        Retrier {
            goes_on: true,
            ..self
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or runs out of
    /// attempts; the error returned is the last one.
    pub fn call<T>(
        self,
        request: Request,
        what: &str,
        mut attempt: impl FnMut() -> Result<T, Problem>,
    ) -> Result<T, Problem> {
        let mut budget = Budget::new(self.policy, request);
        budget.goes_on = self.goes_on;
        call_with(budget, self.clock, self.log, what, &mut attempt)
    }
}

/// The loop, once per type of answer rather than once per closure.
fn call_with<T>(
    mut budget: Budget,
    clock: &dyn Clock,
    log: &Logger,
    what: &str,
    attempt: &mut dyn FnMut() -> Result<T, Problem>,
) -> Result<T, Problem> {
    loop {
        let problem = match attempt() {
            Ok(value) => return Ok(value),
            Err(problem) => problem,
        };
        let Some(pause) = budget.step(log, what, &problem) else {
            return Err(problem);
        };
        clock.sleep(pause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;

    fn call<T>(
        policy: RetryPolicy,
        clock: &dyn Clock,
        log: &Logger,
        what: &str,
        attempt: impl FnMut() -> Result<T, Problem>,
    ) -> Result<T, Problem> {
        Retrier {
            policy,
            clock,
            log,
            goes_on: false,
        }
        .call(Request::List, what, attempt)
    }

    const POLICY: RetryPolicy = RetryPolicy {
        wait: Duration::from_millis(250),
        attempts: 3,
    };

    fn refused() -> Problem {
        Problem::Unreachable("connection refused".into())
    }

    #[test]
    fn transient_failures_use_every_attempt_and_wait_between_only() {
        let (clock, log) = (FakeClock::new(), Logger::capture());
        let mut tries = 0;
        let result: Result<(), _> = call(POLICY, &clock, &log, "GET u", || {
            tries += 1;
            Err(refused())
        });
        assert_eq!(result, Err(refused()));
        assert_eq!(tries, 3);
        assert_eq!(*clock.slept.borrow(), vec![POLICY.wait; 2]);
        assert_eq!(
            log.lines(),
            vec![
                "WARNING: Attempt 1 of 3 on GET u failed: cannot connect: connection refused; retrying in 0.25 s.",
                "WARNING: Attempt 2 of 3 on GET u failed: cannot connect: connection refused; retrying in 0.25 s.",
                "ERROR: Attempt 3 of 3 on GET u failed: cannot connect: connection refused.",
                "ERROR: Maximum number of retries exceeded, exiting.",
            ]
        );
    }

    #[test]
    fn definitive_failures_are_not_retried() {
        let (clock, log) = (FakeClock::new(), Logger::capture());
        let mut tries = 0;
        let gone = Problem::Status {
            code: 404,
            message: "Resource not found".into(),
            location: None,
        };
        let result: Result<(), _> = call(POLICY, &clock, &log, "GET u", || {
            tries += 1;
            Err(gone.clone())
        });
        assert_eq!((result, tries), (Err(gone), 1));
        assert!(clock.slept.borrow().is_empty());
        assert_eq!(
            log.lines(),
            vec!["ERROR: GET u failed: HTTP 404: Resource not found (not retried)."]
        );
    }

    #[test]
    fn zero_attempts_still_makes_one() {
        let (clock, log) = (FakeClock::new(), Logger::capture());
        let policy = RetryPolicy {
            attempts: 0,
            ..POLICY
        };
        let mut tries = 0;
        let _ = call(policy, &clock, &log, "GET u", || -> Result<(), _> {
            tries += 1;
            Err(refused())
        });
        assert_eq!(tries, 1);
    }

    #[test]
    fn a_success_after_failures_returns_its_value() {
        let (clock, log) = (FakeClock::new(), Logger::capture());
        let mut tries = 0;
        let result = call(POLICY, &clock, &log, "GET u", || {
            tries += 1;
            if tries < 3 {
                Err(refused())
            } else {
                Ok(tries)
            }
        });
        assert_eq!(result, Ok(3));
    }
}
