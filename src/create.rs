//! Creating the operation: at most one per run, and never following one
//! that may be another client's.
//!
//! After a failed POST, what it may have done (`PostFate`, src/failure.rs)
//! decides what comes next (`decide`):
//!
//! | fate       | next                                                         | why |
//! | ---------- | ------------------------------------------------------------ | --- |
//! | `NotSent`  | `Send`: POST again after `--retry-wait`                      | it never reached pg-backup-api, or was turned away before it acted |
//! | `Answered` | `LookThenSend`: after max(`--retry-wait`, 1 s) plus up to 1 s of jitter, read the list (a new entry is named in a WARNING, never followed; a list that cannot be read stops the run), then POST again | pg-backup-api's own 500 leaves no running operation: it is the same-second collision (nothing written) or a job whose worker never started (it reads IN_PROGRESS forever). A new id falls in a later second of the server's clock, and the jitter spreads runs that collided |
//! | `InFlight` | `LookOnly`: every max(`--retry-wait`, 1 s), read the list, for the attempts left (one look when the failure is not retried, a body over its limit); the one new operation of the type is followed ("adopted"); several new ones, or none, stop the run | the server may still be creating it: a second POST could start a second one |
//! | `Refused`  | `Stop`                                                       | refused for good |
//!
//! Every POST counts against `--max-retries`, and so does every look after
//! a lost answer; each read of the list has its own retries besides. The driver
//! (`create_once`) runs this against `post` and `list` closures, as
//! `poll::wait_for` runs its `ask`, so that the unit tests below script the
//! server and the clock.

use crate::api::{Kind, Listed};
use crate::clock::Clock;
use crate::failure::{PostFate, Problem, Request};
use crate::log::Logger;
use crate::retry::{self, Budget, Next, RetryPolicy};
use crate::text::seconds;
use std::collections::BTreeSet;
use std::time::Duration;

/// pg-backup-api's ids have one-second resolution: a POST within the same
/// second as another for the server is refused.
pub const SAME_SECOND: Duration = Duration::from_secs(1);

/// What to do after a failed POST.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Send(Duration),
    LookThenSend(Duration),
    LookOnly(Duration),
    Stop,
}

/// The rule of the table above. `jitter` is a random pause under 1 s.
pub fn decide(fate: PostFate, retry_wait: Duration, jitter: Duration) -> Decision {
    let look_pause = retry_wait.max(SAME_SECOND);
    match fate {
        PostFate::NotSent => Decision::Send(retry_wait),
        PostFate::Answered => Decision::LookThenSend(look_pause + jitter),
        PostFate::InFlight => Decision::LookOnly(look_pause),
        PostFate::Refused => Decision::Stop,
    }
}

/// What the driver needs besides the closures.
pub struct Setting<'a> {
    pub clock: &'a dyn Clock,
    pub log: &'a Logger,
    pub retry: RetryPolicy,
    pub kind: Kind,
    /// "POST http://..." and "GET http://...", for log lines.
    pub post_what: &'a str,
    pub list_what: &'a str,
}

/// Creates the operation with `post`, looking at `list` where the table
/// says so: the id of the operation to follow, created or adopted. `Err` is
/// the failure that ended it, already logged.
pub fn create_once(
    setting: &Setting,
    mut post: impl FnMut() -> Result<String, Problem>,
    mut list: impl FnMut() -> Result<Vec<Listed>, Problem>,
) -> Result<String, Problem> {
    let Setting {
        clock, log, retry, ..
    } = *setting;
    let label = setting.kind.label();
    let mut known = retry::call(retry, clock, log, setting.list_what, &mut list)?;
    let mut budget = Budget::new(retry, Request::Other);
    loop {
        let problem = match post() {
            Ok(id) => {
                log.info(&format!("Created the {label} operation with ID {id}"));
                return Ok(id);
            }
            Err(problem) => problem,
        };
        let decision = decide(problem.post_fate(), retry.wait, clock.jitter(SAME_SECOND));
        let what = setting.post_what;
        let next = match decision {
            Decision::Stop => budget.step(log, what, &problem),
            Decision::Send(pause) => budget.step_then(log, (what, &problem), (pause, "retrying")),
            Decision::LookThenSend(pause) => {
                let then = "pg-backup-api answered, so no operation of this POST runs: \
                            sending it again";
                budget.step_then(log, (what, &problem), (pause, then))
            }
            Decision::LookOnly(pause) => {
                let looks = looks_left(&mut budget, log, (what, &problem), pause);
                return look_only(setting, &mut list, &known, (pause, looks), &budget)
                    .and_then(|found| found.ok_or(problem));
            }
        };
        let Some(pause) = next else {
            return Err(problem);
        };
        clock.sleep(pause);
        if let Decision::LookThenSend(_) = decision {
            known = name_strangers(setting, &mut list, &known)?;
        }
    }
}

/// After a POST whose answer was lost: records the failure and says how
/// many looks at the list the attempts left allow. Not a `Budget::step`:
/// even the last attempt still gets its one look, since the operation may
/// exist.
fn looks_left(budget: &mut Budget, log: &Logger, failed: (&str, &Problem), pause: Duration) -> u32 {
    let then = "the server may still be at work on it, so looking for its operation in \
                the server's list";
    match budget.record_then(log, failed, (pause, then)) {
        Next::RetryAfter(_) => budget.left() + 1,
        Next::GiveUp => {
            let after = seconds(pause);
            log.info(&format!(
                "Looking for its operation in the server's list in {after} s."
            ));
            1
        }
    }
}

/// After pg-backup-api answered a POST: an operation of the kind that is
/// new in the list is not this run's, and is named so that nobody takes it
/// for one. Returns the list to compare with next time; a list that cannot
/// be read stops the run, since a stuck job left out of it could later be
/// taken for this run's operation.
fn name_strangers(
    setting: &Setting,
    list: &mut impl FnMut() -> Result<Vec<Listed>, Problem>,
    known: &[Listed],
) -> Result<Vec<Listed>, Problem> {
    let Setting {
        clock, log, retry, ..
    } = *setting;
    let now = retry::call(retry, clock, log, setting.list_what, &mut *list).inspect_err(|_| {
        log.error(
            "Cannot read the server's list after pg-backup-api's 500: not sending the POST \
             again, since a job it left behind could not be told from this run's operation.",
        );
    })?;
    for id in new_operations(known, &now, setting.kind) {
        log.warning(&format!(
            "The {} operation {id} appeared in the server's list after pg-backup-api \
             answered the POST; not following it: it is another client's, or a job whose \
             worker never started (it reads IN_PROGRESS forever).",
            setting.kind.label()
        ));
    }
    Ok(now)
}

/// After a POST whose answer was lost: reads the list `looks` times,
/// `pause` apart, and follows the one operation that appears. `Ok(None)`
/// when none did, or several (one may be another client's: none is taken).
fn look_only(
    setting: &Setting,
    list: &mut impl FnMut() -> Result<Vec<Listed>, Problem>,
    known: &[Listed],
    (pause, looks): (Duration, u32),
    budget: &Budget,
) -> Result<Option<String>, Problem> {
    let Setting {
        clock, log, retry, ..
    } = *setting;
    let label = setting.kind.label();
    for look in 1..=looks {
        if look > 1 {
            log.warning(&format!(
                "No new operation in the list yet: the server may still be at work on the \
                 POST, so looking again in {} s ({} of {}) instead of sending another.",
                seconds(pause),
                look - 1,
                looks - 1
            ));
        }
        clock.sleep(pause);
        let now =
            retry::call(retry, clock, log, setting.list_what, &mut *list).inspect_err(|_| {
                log.error(&format!(
                    "The failed POST may have created a {label} operation all the same: \
                 check the server's operations before running again."
                ));
            })?;
        match new_operations(known, &now, setting.kind).as_slice() {
            [] => {}
            [id] => {
                log.warning(&format!(
                    "The {label} operation with ID {id} appeared although the POST failed; \
                     following it instead of creating another."
                ));
                return Ok(Some(id.clone()));
            }
            several => {
                log.error(&format!(
                    "{} {label} operations appeared after the failed POST ({}): one may be \
                     another client's, so none is followed. Check the server's operations \
                     before running again.",
                    several.len(),
                    several.join(", ")
                ));
                budget.give_up(log);
                return Ok(None);
            }
        }
    }
    log.error(&format!(
        "No {label} operation appeared after the failed POST; not sending another, which \
         could start a second one. Check the server's operations before running again."
    ));
    budget.give_up(log);
    Ok(None)
}

/// The operations of `kind` in `now` that are not in `before`, oldest
/// first. Ids are timestamps (`20261125T171209`), so they sort by time.
fn new_operations(before: &[Listed], now: &[Listed], kind: Kind) -> Vec<String> {
    let old: BTreeSet<&str> = before.iter().map(|op| op.id.as_str()).collect();
    let new: BTreeSet<&str> = now
        .iter()
        .filter(|op| op.api_type == kind.api_type() && !old.contains(op.id.as_str()))
        .map(|op| op.id.as_str())
        .collect();
    new.into_iter().map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use std::cell::RefCell;

    const WAIT: Duration = Duration::from_millis(50);
    const JITTER: Duration = Duration::from_millis(300);
    const RETRY: RetryPolicy = RetryPolicy {
        wait: WAIT,
        attempts: 3,
    };

    fn status(code: u16) -> Problem {
        Problem::Status {
            code,
            message: "m".into(),
            location: None,
        }
    }

    fn listed(id: &str, api_type: &str) -> Listed {
        Listed {
            id: id.into(),
            api_type: api_type.into(),
        }
    }

    #[test]
    fn each_fate_has_its_row() {
        let wait = Duration::from_millis(50);
        let long = Duration::from_secs(3);
        let table = [
            (PostFate::NotSent, wait, Decision::Send(wait)),
            (
                PostFate::Answered,
                wait,
                Decision::LookThenSend(SAME_SECOND + JITTER),
            ),
            (
                PostFate::Answered,
                long,
                Decision::LookThenSend(long + JITTER),
            ),
            (PostFate::InFlight, wait, Decision::LookOnly(SAME_SECOND)),
            (PostFate::InFlight, long, Decision::LookOnly(long)),
            (PostFate::Refused, wait, Decision::Stop),
        ];
        for (fate, retry_wait, decision) in table {
            assert_eq!(decide(fate, retry_wait, JITTER), decision, "{fate:?}");
        }
    }

    /// A server scripted by two queues of answers; records what was asked.
    struct Script {
        posts: RefCell<Vec<Result<String, Problem>>>,
        lists: RefCell<Vec<Result<Vec<Listed>, Problem>>>,
        asked: RefCell<Vec<&'static str>>,
    }

    impl Script {
        fn new(
            posts: Vec<Result<String, Problem>>,
            lists: Vec<Result<Vec<Listed>, Problem>>,
        ) -> Script {
            Script {
                posts: RefCell::new(posts),
                lists: RefCell::new(lists),
                asked: RefCell::default(),
            }
        }

        fn run(&self, retry: RetryPolicy) -> (Result<String, Problem>, FakeClock, Vec<String>) {
            let (clock, log) = (FakeClock::with_jitter(JITTER), Logger::capture());
            let setting = Setting {
                clock: &clock,
                log: &log,
                retry,
                kind: Kind::ConfigSwitch,
                post_what: "POST u",
                list_what: "GET l",
            };
            let result = create_once(
                &setting,
                || {
                    self.asked.borrow_mut().push("post");
                    self.posts.borrow_mut().remove(0)
                },
                || {
                    self.asked.borrow_mut().push("list");
                    self.lists.borrow_mut().remove(0)
                },
            );
            (result, clock, log.lines())
        }
    }

    fn empty() -> Result<Vec<Listed>, Problem> {
        Ok(vec![])
    }

    fn one(id: &str) -> Result<Vec<Listed>, Problem> {
        Ok(vec![listed(id, "config_switch")])
    }

    /// Fails with every captured line when none holds `part`.
    fn assert_logged(lines: &[String], part: &str) {
        assert!(lines.iter().any(|l| l.contains(part)), "{part}: {lines:?}");
    }

    #[test]
    fn a_post_that_never_left_is_sent_again_after_the_retry_wait() {
        let refused = Problem::Unreachable("refused".into());
        let script = Script::new(vec![Err(refused), Ok("7".into())], vec![empty()]);
        let (result, clock, _) = script.run(RETRY);
        assert_eq!(result.as_deref(), Ok("7"));
        assert_eq!(*script.asked.borrow(), ["list", "post", "post"]);
        assert_eq!(*clock.slept.borrow(), [WAIT]);
    }

    #[test]
    fn after_the_apis_own_500_a_new_entry_is_named_never_followed() {
        // Another client's operation appeared in the collision's second.
        let script = Script::new(
            vec![Err(status(500)), Ok("9".into())],
            vec![empty(), one("8")],
        );
        let (result, clock, lines) = script.run(RETRY);
        assert_eq!(result.as_deref(), Ok("9"));
        assert_eq!(*script.asked.borrow(), ["list", "post", "list", "post"]);
        // At least a second, whatever --retry-wait, plus the jitter.
        assert_eq!(*clock.slept.borrow(), [SAME_SECOND + JITTER]);
        assert!(
            lines.iter().any(|l| l.starts_with(
                "WARNING: The config switch operation 8 appeared in the server's list"
            ) && l.contains("not following it")),
            "{lines:?}"
        );
    }

    #[test]
    fn answered_posts_stop_when_the_attempts_run_out() {
        let script = Script::new(
            vec![Err(status(500)), Err(status(500)), Err(status(500))],
            vec![empty(), one("1"), one("1")],
        );
        let (result, _, lines) = script.run(RETRY);
        assert_eq!(result, Err(status(500)));
        assert_eq!(
            *script.asked.borrow(),
            ["list", "post", "list", "post", "list", "post"]
        );
        // The stray operation is named once, not at every look.
        let named = lines.iter().filter(|l| l.contains("operation 1 appeared"));
        assert_eq!(named.count(), 1, "{lines:?}");
        assert_eq!(
            lines.last().unwrap(),
            "ERROR: Maximum number of retries exceeded, exiting."
        );
    }

    #[test]
    fn after_a_lost_answer_the_new_operation_is_adopted_and_no_post_is_sent() {
        let timeout = Problem::Timeout(Duration::from_secs(1));
        let script = Script::new(vec![Err(timeout)], vec![empty(), empty(), one("5")]);
        let (result, clock, _) = script.run(RETRY);
        assert_eq!(result.as_deref(), Ok("5"));
        assert_eq!(*script.asked.borrow(), ["list", "post", "list", "list"]);
        assert_eq!(*clock.slept.borrow(), [SAME_SECOND; 2]);
    }

    #[test]
    fn after_a_lost_answer_with_nothing_new_the_run_stops_without_a_second_post() {
        let script = Script::new(
            vec![Err(status(504))],
            vec![empty(), empty(), empty(), empty()],
        );
        let (result, _, lines) = script.run(RETRY);
        assert_eq!(result, Err(status(504)));
        // One look after the POST, then one per attempt left.
        assert_eq!(
            *script.asked.borrow(),
            ["list", "post", "list", "list", "list"]
        );
        assert!(
            lines
                .last()
                .unwrap()
                .starts_with("ERROR: No config switch operation appeared after the failed POST"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_list_unreadable_after_a_lost_answer_says_the_operation_may_exist() {
        let broken = Problem::Broken("reset".into());
        let down = Problem::Unreachable("refused".into());
        let lists = vec![empty(), Err(down.clone()), Err(down.clone()), Err(down)];
        let script = Script::new(vec![Err(broken)], lists);
        let (result, _, lines) = script.run(RETRY);
        assert!(matches!(result, Err(Problem::Unreachable(_))));
        assert_logged(
            &lines,
            "may have created a config switch operation all the same",
        );
    }

    #[test]
    fn a_list_unreadable_after_a_500_stops_instead_of_posting_blind() {
        let down = || Err(Problem::Unreachable("refused".into()));
        let script = Script::new(
            vec![Err(status(500))],
            vec![empty(), down(), down(), down()],
        );
        let (result, _, lines) = script.run(RETRY);
        assert!(matches!(result, Err(Problem::Unreachable(_))));
        assert_eq!(
            *script.asked.borrow(),
            ["list", "post", "list", "list", "list"]
        );
        assert_logged(&lines, "not sending the POST again");
    }

    #[test]
    fn after_a_lost_answer_two_new_operations_are_not_told_apart() {
        // A stuck job of an earlier 500 and this POST's: neither is taken.
        let two = Ok(vec![
            listed("20261125T100000", "config_switch"),
            listed("20261125T100001", "config_switch"),
        ]);
        let script = Script::new(vec![Err(status(504))], vec![empty(), two]);
        let (result, _, lines) = script.run(RETRY);
        assert_eq!(result, Err(status(504)));
        assert_logged(
            &lines,
            "2 config switch operations appeared after the failed POST \
             (20261125T100000, 20261125T100001)",
        );
    }

    #[test]
    fn an_answer_over_the_body_limit_gets_one_look_at_the_list() {
        // Not read, so maybe a 202: not retried, but its operation is sought.
        let huge = Problem::TooLarge("body over 1048576 bytes".into());
        let script = Script::new(vec![Err(huge)], vec![empty(), one("4")]);
        let (result, _, lines) = script.run(RETRY);
        assert_eq!(result.as_deref(), Ok("4"));
        assert_eq!(*script.asked.borrow(), ["list", "post", "list"]);
        assert_logged(&lines, "(not retried)");
    }

    #[test]
    fn a_refused_post_stops_at_once() {
        let script = Script::new(vec![Err(status(400))], vec![empty()]);
        let (result, clock, lines) = script.run(RETRY);
        assert_eq!(result, Err(status(400)));
        assert_eq!(*script.asked.borrow(), ["list", "post"]);
        assert!(clock.slept.borrow().is_empty());
        assert_eq!(lines, ["ERROR: POST u failed: HTTP 400: m (not retried)."]);
    }

    #[test]
    fn the_last_allowed_attempt_still_looks_once_after_a_lost_answer() {
        let retry = RetryPolicy {
            attempts: 1,
            ..RETRY
        };
        let script = Script::new(
            vec![Err(Problem::Broken("closed".into()))],
            vec![empty(), one("3")],
        );
        let (result, _, lines) = script.run(retry);
        assert_eq!(result.as_deref(), Ok("3"));
        assert!(
            !lines.iter().any(|l| l.contains("Maximum number")),
            "{lines:?}"
        );
    }

    #[test]
    fn only_new_operations_of_the_same_type_count() {
        let before = [
            listed("20261125T100000", "recovery"),
            listed("20261125T100001", "config_switch"),
        ];
        let mut now = before.to_vec();
        assert!(new_operations(&before, &now, Kind::Recovery).is_empty());
        now.push(listed("20261125T110000", "config_switch"));
        assert!(new_operations(&before, &now, Kind::Recovery).is_empty());
        now.push(listed("20261125T110005", "recovery"));
        now.push(listed("20261125T110002", "recovery"));
        assert_eq!(
            new_operations(&before, &now, Kind::Recovery),
            ["20261125T110002", "20261125T110005"]
        );
    }
}
