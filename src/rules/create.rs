//! Creating the operation: at most one per run, and never following one
//! that may be another client's.
//!
//! After a failed POST, what it may have done (`PostFate`, the table in
//! src/failure.rs, which also says what comes next for each fate) decides
//! the next step. Every POST counts against `--max-retries`, and so does
//! every look after a lost answer, but for a collision while other clients
//! are at work (see `PostFate::Answered`). Each read of the list has its own
//! retries besides. The driver (`create_once`) runs against `post` and
//! `list` closures, as `poll::wait_for` runs its `ask`, so that the unit
//! tests below script the server and the clock.

use crate::api::{Kind, Listed};
use crate::failure::{PostFate, Problem, RequestKind};
use crate::log::Logger;
use crate::rules::retry::{Budget, Next, Retrier};
use crate::text::seconds;
use std::time::Duration;

/// pg-backup-api's ids have one-second resolution: a POST within the same
/// second as another for the server is refused.
pub const SAME_SECOND: Duration = Duration::from_secs(1);

/// The widest random part of the pause after a collision.
const WIDEST_SPREAD: Duration = Duration::from_secs(16);

/// The most 500s one run rides out: at the widest spread, 5 to 9 minutes.
pub const MAX_COLLISIONS: u32 = 32;

/// The bound of the random part of the pause after the `collisions`-th
/// 500 of a run: 2, 4, 8, then 16 s. Twenty runs that start together on
/// one server all get their operation, in about 30 s (README).
pub fn collision_spread(collisions: u32) -> Duration {
    let doubled = SAME_SECOND.saturating_mul(1 << collisions.clamp(1, 5));
    doubled.min(WIDEST_SPREAD)
}

/// What the driver needs besides the closures.
pub struct Setting<'a> {
    pub retrier: Retrier<'a>,
    /// `--max-wait`: also bounds how long collisions are ridden out.
    pub max_wait: Option<Duration>,
    pub kind: Kind,
    pub post_what: &'a str,
    pub list_what: &'a str,
}

/// The server's list, read with its own retries: what the first POST is
/// judged against.
pub fn read_list(
    setting: &Setting,
    list: &mut impl FnMut() -> Result<Vec<Listed>, Problem>,
) -> Result<Vec<Listed>, Problem> {
    setting.retrier.call(setting.list_what, list)
}

/// Creates the operation with `post`, looking at `list` where the table
/// says so: the id of the operation to follow, created or adopted. `known`
/// is the list read just before (`read_list`); `post` gets the list each
/// POST is judged against. `Err` is the failure that ended it, already
/// logged.
pub fn create_once(
    setting: &Setting,
    known: Vec<Listed>,
    mut post: impl FnMut(&[Listed]) -> Result<String, Problem>,
    mut list: impl FnMut() -> Result<Vec<Listed>, Problem>,
) -> Result<String, Problem> {
    create_with(setting, known, &mut post, &mut list)
}

/// A server's list, as the driver reads it.
type List<'a> = dyn FnMut() -> Result<Vec<Listed>, Problem> + 'a;

/// The driver, once for every caller.
fn create_with(
    setting: &Setting,
    mut known: Vec<Listed>,
    post: &mut dyn FnMut(&[Listed]) -> Result<String, Problem>,
    list: &mut List,
) -> Result<String, Problem> {
    let Retrier {
        policy: retry,
        clock,
        log,
        ..
    } = setting.retrier;
    let label = setting.kind.label();
    let what = setting.post_what;
    let started = clock.now();
    let mut budget = Budget::new(retry, RequestKind::Other);
    let mut collisions = 0;
    // Operations of the kind that appeared after a 500: not this run's.
    let mut strangers = Vec::new();
    loop {
        let problem = match post(&known) {
            Ok(id) => {
                log.info(&format!("Created the {label} operation with ID {id}"));
                return Ok(id);
            }
            Err(problem) => problem,
        };
        // After an answer pg-backup-api is done with, the list is read
        // first: at least a second later, as ids have one-second resolution.
        let look_pause = retry.wait.max(SAME_SECOND);
        match problem.post_fate() {
            PostFate::Refused => {
                budget.step(log, what, &problem);
                return Err(problem);
            }
            PostFate::NotSent => {
                let pause = budget
                    .step(log, what, &problem)
                    .ok_or_else(|| problem.clone())?;
                clock.sleep(pause);
            }
            PostFate::InFlight => {
                let looks = looks_left(&mut budget, log, what, &problem, look_pause);
                return look_only(setting, list, &known, look_pause, looks, &budget)
                    .and_then(|found| found.ok_or(problem));
            }
            PostFate::Unread => {
                let now = match look_now(setting, list, &known, &problem)? {
                    Ok(id) => return Ok(id),
                    Err(now) => now,
                };
                known = now;
                let then = "no operation of it in the server's list, so sending it again";
                let pause = budget
                    .step_then(log, what, &problem, look_pause, then)
                    .ok_or_else(|| problem.clone())?;
                clock.sleep(pause);
            }
            PostFate::Answered => {
                collisions += 1;
                let pause = look_pause + clock.jitter(collision_spread(collisions));
                let out_of_time = setting
                    .max_wait
                    .is_some_and(|limit| clock.now() + pause > started + limit);
                if collisions > MAX_COLLISIONS || out_of_time {
                    let bound = match out_of_time {
                        true => format!("--max-wait {} s", seconds(setting.max_wait.unwrap())),
                        false => format!("{MAX_COLLISIONS} collisions"),
                    };
                    log.error(&format!(
                        "{what} failed: {problem}; giving up after {bound}: the POSTs of \
                         other clients for this server kept taking every second."
                    ));
                    name_left_behind(setting, &strangers);
                    return Err(problem);
                }
                log.warning(&format!(
                    "{what} failed: {problem}: pg-backup-api ran nothing for it, most often \
                     because another POST for the server came in the same second (collision \
                     {collisions}); reading the server's list, then sending it again in {} s.",
                    seconds(pause)
                ));
                clock.sleep(pause);
                let now = name_strangers(setting, list, &known, &mut strangers)?;
                // None new: pg-backup-api wrote nothing (under `serve` load
                // its configuration race answers 500 before any job file);
                // two or more: other clients are at work. Only one may be
                // this POST's own job whose worker never started.
                let own_job_maybe = new_entries(&known, &now) == 1;
                known = now;
                if own_job_maybe {
                    let then = "one operation appeared meanwhile, perhaps this POST's own whose \
                                worker never started, so it counts; sending it again";
                    let counted = budget.step_then(log, what, &problem, Duration::ZERO, then);
                    if counted.is_none() {
                        name_left_behind(setting, &strangers);
                        return Err(problem);
                    }
                }
            }
        }
    }
}

/// After a POST whose answer was lost: records the failure and says how
/// many looks at the list the attempts left allow. Not a `Budget::step`:
/// even the last attempt still gets its one look, since the operation may
/// exist.
fn looks_left(
    budget: &mut Budget,
    log: &Logger,
    what: &str,
    problem: &Problem,
    pause: Duration,
) -> u32 {
    let then = "the server may still be at work on it, so looking for its operation in \
                the server's list";
    match budget.record_then(log, what, problem, pause, then) {
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

/// After a 2xx answer without a usable id: the one new operation of the
/// kind is this POST's (`Ok(Ok(id))`); with none, the list to compare with
/// next time (`Ok(Err(list))`). Several, or a list that cannot be read,
/// stop the run: one of them may be another client's.
fn look_now(
    setting: &Setting,
    list: &mut List,
    known: &[Listed],
    problem: &Problem,
) -> Result<Result<String, Vec<Listed>>, Problem> {
    let log = setting.retrier.log;
    let label = setting.kind.label();
    log.warning(&format!(
        "{} answered without a usable operation id ({problem}); looking for its \
         operation in the server's list.",
        setting.post_what
    ));
    let now = setting
        .retrier
        .call(setting.list_what, &mut *list)
        .inspect_err(|_| {
            log.error(&format!(
                "The POST may have created a {label} operation: check the server's \
             operations before running again."
            ));
        })?;
    match new_operations(known, &now, setting.kind).as_slice() {
        [] => Ok(Err(now)),
        [id] => {
            log.warning(&format!(
                "The {label} operation with ID {id} appeared with that answer; following it."
            ));
            Ok(Ok(id.clone()))
        }
        several => {
            log.error(&format!(
                "{} {label} operations appeared with that answer ({}): one may be another \
                 client's, so none is followed. Check the server's operations before \
                 running again.",
                several.len(),
                several.join(", ")
            ));
            Err(problem.clone())
        }
    }
}

/// After pg-backup-api answered a POST: operations of the kind that are
/// new in the list are not this run's, and are named so that nobody takes
/// them for one. Returns the list to compare with next time; a list that
/// cannot be read stops the run, since a stuck job left out of it could
/// later be taken for this run's operation.
fn name_strangers(
    setting: &Setting,
    list: &mut List,
    known: &[Listed],
    named: &mut Vec<String>,
) -> Result<Vec<Listed>, Problem> {
    let log = setting.retrier.log;
    let now = setting
        .retrier
        .call(setting.list_what, &mut *list)
        .inspect_err(|_| {
            log.error(
                "Cannot read the server's list after pg-backup-api's 500: not sending the POST \
             again, since a job it left behind could not be told from this run's operation.",
            );
        })?;
    let strangers = new_operations(known, &now, setting.kind);
    if !strangers.is_empty() {
        log.warning(&format!(
            "The server's list shows {} operations that this run did not create: {}; \
             not following them: they are other clients', or jobs whose worker never \
             started (they read IN_PROGRESS forever).",
            setting.kind.label(),
            strangers.join(", ")
        ));
    }
    named.extend(strangers);
    Ok(now)
}

/// The last line of a run that gave up after pg-backup-api's 500s: what it
/// saw appear, which may be jobs stuck for ever.
fn name_left_behind(setting: &Setting, strangers: &[String]) {
    let label = setting.kind.label();
    let line = match strangers {
        [] => format!("No {label} operation of this run exists or runs."),
        ids => format!(
            "No {label} operation of this run runs. Not followed, and perhaps stuck \
             IN_PROGRESS for ever if their worker never started (is pg-backup-api on the \
             API's PATH?): {}.",
            ids.join(", ")
        ),
    };
    setting.retrier.log.error(&line);
}

/// After a POST whose answer was lost: reads the list `looks` times,
/// `pause` apart, and follows the one operation that appears. `Ok(None)`
/// when none did, or several (one may be another client's: none is taken).
fn look_only(
    setting: &Setting,
    list: &mut List,
    known: &[Listed],
    pause: Duration,
    looks: u32,
    budget: &Budget,
) -> Result<Option<String>, Problem> {
    let Retrier { clock, log, .. } = setting.retrier;
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
        let now = setting
            .retrier
            .call(setting.list_what, &mut *list)
            .inspect_err(|_| {
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

/// How many entries of `now`, of any kind, are not in `before`.
fn new_entries(before: &[Listed], now: &[Listed]) -> usize {
    fresh_ids(before, now.iter()).len()
}

/// The operations of `kind` in `now` that are not in `before`, oldest
/// first. Ids are timestamps (`20261125T171209`), so they sort by time.
fn new_operations(before: &[Listed], now: &[Listed], kind: Kind) -> Vec<String> {
    let of_kind = now.iter().filter(|op| op.api_type == kind.api_type());
    fresh_ids(before, of_kind)
        .into_iter()
        .map(String::from)
        .collect()
}

/// The ids of `now` not in `before`, sorted, each once: sorted slices and
/// binary searches, for lists of thousands of past operations.
fn fresh_ids<'a>(before: &[Listed], now: impl Iterator<Item = &'a Listed>) -> Vec<&'a str> {
    let mut old: Vec<&str> = before.iter().map(|op| op.id.as_str()).collect();
    old.sort_unstable();
    let mut fresh: Vec<&str> = now
        .map(|op| op.id.as_str())
        .filter(|id| old.binary_search(id).is_err())
        .collect();
    fresh.sort_unstable();
    fresh.dedup();
    fresh
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use crate::rules::retry::RetryPolicy;
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
    fn the_spread_after_a_collision_widens_to_16_s() {
        let spreads: Vec<u64> = (1..=7).map(|n| collision_spread(n).as_secs()).collect();
        assert_eq!(spreads, [2, 4, 8, 16, 16, 16, 16]);
    }

    /// A server scripted by two queues of answers; records what was asked.
    struct Script {
        posts: RefCell<Vec<Result<String, Problem>>>,
        lists: RefCell<Vec<Result<Vec<Listed>, Problem>>>,
        asked: RefCell<Vec<&'static str>>,
        max_wait: Option<Duration>,
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
                max_wait: None,
            }
        }

        fn run(&self, retry: RetryPolicy) -> (Result<String, Problem>, FakeClock, Vec<String>) {
            let (clock, log) = (FakeClock::with_jitter(JITTER), Logger::capture());
            let setting = Setting {
                retrier: Retrier {
                    policy: retry,
                    clock: &clock,
                    log: &log,
                },
                max_wait: self.max_wait,
                kind: Kind::ConfigSwitch,
                post_what: "POST u",
                list_what: "GET l",
            };
            let mut list = || {
                self.asked.borrow_mut().push("list");
                self.lists.borrow_mut().remove(0)
            };
            let post = |_: &[Listed]| {
                self.asked.borrow_mut().push("post");
                self.posts.borrow_mut().remove(0)
            };
            let result = read_list(&setting, &mut list)
                .and_then(|known| create_once(&setting, known, post, list));
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
        assert_logged(
            &lines,
            "WARNING: The server's list shows config switch operations that this run did \
             not create: 8; not following them",
        );
        assert_logged(
            &lines,
            "Attempt 1 of 3 on POST u failed: HTTP 500: m; one operation appeared meanwhile",
        );
    }

    #[test]
    fn answered_posts_that_left_nothing_in_the_list_do_not_count() {
        // pg-backup-api serve's configuration race (make e2e, scenario 6):
        // seven 500s raised before any job file, more than the 3 attempts.
        let mut posts: Vec<Result<String, Problem>> = (0..7).map(|_| Err(status(500))).collect();
        posts.push(Ok("9".into()));
        let script = Script::new(posts, (0..8).map(|_| empty()).collect());
        let (result, clock, lines) = script.run(RETRY);
        assert_eq!(result.as_deref(), Ok("9"));
        assert_eq!(clock.slept.borrow().len(), 7);
        assert!(!lines.iter().any(|l| l.contains("Attempt ")), "{lines:?}");
    }

    #[test]
    fn answered_posts_stop_when_the_attempts_run_out() {
        // A job whose worker never started after each 500 (scenario 7).
        let jobs = |ids: &[&str]| Ok(ids.iter().map(|id| listed(id, "config_switch")).collect());
        let script = Script::new(
            vec![Err(status(500)), Err(status(500)), Err(status(500))],
            vec![
                empty(),
                jobs(&["1"]),
                jobs(&["1", "2"]),
                jobs(&["1", "2", "3"]),
            ],
        );
        let (result, _, lines) = script.run(RETRY);
        assert_eq!(result, Err(status(500)));
        // A look after each 500 tells whether it counts.
        assert_eq!(
            *script.asked.borrow(),
            ["list", "post", "list", "post", "list", "post", "list"]
        );
        // The stray operation is named once, not at every look.
        let named = lines.iter().filter(|l| l.contains("did not create: 1;"));
        assert_eq!(named.count(), 1, "{lines:?}");
        // The last line names what may be stuck for ever.
        assert_eq!(
            &lines[lines.len() - 2..],
            [
                "ERROR: Maximum number of retries exceeded, exiting.",
                "ERROR: No config switch operation of this run runs. Not followed, and perhaps \
                 stuck IN_PROGRESS for ever if their worker never started (is pg-backup-api on \
                 the API's PATH?): 1, 2, 3."
            ]
        );
    }

    fn entries(ids: &[&str]) -> Result<Vec<Listed>, Problem> {
        Ok(ids.iter().map(|id| listed(id, "recovery")).collect())
    }

    #[test]
    fn collisions_while_other_clients_are_at_work_do_not_count() {
        // Six 500s, each followed by two new entries of other clients: more
        // than the 3 attempts allowed, yet the seventh POST is sent.
        let mut lists = vec![empty()];
        let mut seen: Vec<String> = Vec::new();
        for n in 0..6 {
            seen.push(format!("a{n}"));
            seen.push(format!("b{n}"));
            let ids: Vec<&str> = seen.iter().map(String::as_str).collect();
            lists.push(entries(&ids));
        }
        let mut posts: Vec<Result<String, Problem>> = (0..6).map(|_| Err(status(500))).collect();
        posts.push(Ok("7".into()));
        let script = Script::new(posts, lists);
        let (result, clock, lines) = script.run(RETRY);
        assert_eq!(result.as_deref(), Ok("7"), "{lines:?}");
        // Each pause: 1 s (the retry wait is shorter) and the jitter.
        assert_eq!(*clock.slept.borrow(), [SAME_SECOND + JITTER; 6]);
        assert!(!lines.iter().any(|l| l.contains("Attempt")), "{lines:?}");
        assert_logged(&lines, "(collision 6)");
    }

    #[test]
    fn collisions_are_ridden_out_no_longer_than_max_wait() {
        let mut script = Script::new(
            vec![Err(status(500)), Err(status(500))],
            vec![empty(), entries(&["a", "b"])],
        );
        script.max_wait = Some(Duration::from_secs(2));
        let (result, _, lines) = script.run(RETRY);
        assert_eq!(result, Err(status(500)));
        assert_eq!(*script.asked.borrow(), ["list", "post", "list", "post"]);
        assert_logged(&lines, "giving up after --max-wait 2 s");
        assert_eq!(
            lines.last().unwrap(),
            "ERROR: No config switch operation of this run exists or runs."
        );
    }

    #[test]
    fn a_404_on_the_post_is_sent_again() {
        // Under load the real server denies servers that exist.
        let denied = Problem::NotFound("Server 'main' does not exist".into());
        let script = Script::new(vec![Err(denied), Ok("2".into())], vec![empty()]);
        let (result, clock, lines) = script.run(RETRY);
        assert_eq!(result.as_deref(), Ok("2"));
        assert_eq!(*script.asked.borrow(), ["list", "post", "post"]);
        assert_eq!(*clock.slept.borrow(), [WAIT]);
        assert_logged(&lines, "HTTP 404: Server 'main' does not exist; retrying");
    }

    fn no_id() -> Result<String, Problem> {
        Err(Problem::NoId(
            "JSON answer lacks the string \"operation_id\"".into(),
        ))
    }

    #[test]
    fn a_2xx_without_an_id_and_nothing_new_is_sent_again() {
        let script = Script::new(
            vec![no_id(), no_id(), Ok("3".into())],
            vec![empty(), empty(), empty()],
        );
        let (result, clock, _) = script.run(RETRY);
        assert_eq!(result.as_deref(), Ok("3"));
        assert_eq!(
            *script.asked.borrow(),
            ["list", "post", "list", "post", "list", "post"]
        );
        assert_eq!(*clock.slept.borrow(), [SAME_SECOND; 2]);
    }

    #[test]
    fn a_2xx_without_an_id_follows_the_one_new_operation_at_once() {
        let script = Script::new(vec![no_id()], vec![empty(), one("4")]);
        let (result, clock, _) = script.run(RETRY);
        assert_eq!(result.as_deref(), Ok("4"));
        assert_eq!(*script.asked.borrow(), ["list", "post", "list"]);
        assert!(clock.slept.borrow().is_empty());
    }

    #[test]
    fn a_2xx_without_an_id_and_two_new_operations_stops() {
        let two = Ok(vec![
            listed("20261125T100000", "config_switch"),
            listed("20261125T100001", "config_switch"),
        ]);
        let script = Script::new(vec![no_id()], vec![empty(), two]);
        let (result, _, lines) = script.run(RETRY);
        assert!(matches!(result, Err(Problem::NoId(_))));
        assert_logged(
            &lines,
            "2 config switch operations appeared with that answer",
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
