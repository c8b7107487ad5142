//! Creating the operation: at most one per run, and never following one
//! that may be another client's.
//!
//! After a failed POST, what it may have done (`PostFate`, the table in
//! src/failure.rs, which also says what comes next for each fate) decides
//! the next step. Every POST counts against `--max-retries`, and so does
//! every look after a lost answer, but for a collision while other clients
//! are at work (see `PostFate::Collided`). Each read of the list has its own
//! retries besides: `list` is the jobs' one reader of it
//! (`Session::read_list`), which retries. The driver (`create_once`) runs against `post` and
//! `list` closures, as `poll::wait_for` runs its `ask`, so that the unit
//! tests below script the server and the clock.

use crate::api::{Kind, Listed};
use crate::failure::{PostFate, Problem, Request};
use crate::log::Logger;
use crate::rules::retry::{Budget, Next, Retrier};
use crate::text::seconds;
use std::time::{Duration, Instant};

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
}

/// Creates the operation with `post`, looking at `list` where the table
/// says so: the id of the operation to follow, created or adopted. `known`
/// is the list read just before; `post` gets the list each
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

/// What the driver does after a failed POST: send it again, or end with
/// the operation to follow or the failure, already logged.
type Step = Option<Result<String, Problem>>;

/// The driver's state across POSTs.
struct Creation<'s, 'a> {
    setting: &'s Setting<'a>,
    list: &'s mut List<'a>,
    /// The list each POST is judged against.
    known: Vec<Listed>,
    budget: Budget,
    started: Instant,
    collisions: u32,
    /// Operations of the kind that appeared after a collision: not this run's.
    strangers: Vec<String>,
}

/// The driver, once for every caller.
fn create_with(
    setting: &Setting,
    known: Vec<Listed>,
    post: &mut dyn FnMut(&[Listed]) -> Result<String, Problem>,
    list: &mut List,
) -> Result<String, Problem> {
    let Retrier {
        policy, clock, log, ..
    } = setting.retrier;
    let mut creation = Creation {
        setting,
        list,
        known,
        budget: Budget::new(policy, Request::Post),
        started: clock.now(),
        collisions: 0,
        strangers: Vec::new(),
    };
    loop {
        let problem = match post(&creation.known) {
            Ok(id) => {
                let label = setting.kind.label();
                log.info(&format!("Created the {label} operation with ID {id}"));
                return Ok(id);
            }
            Err(problem) => problem,
        };
        let step = match problem.post_fate() {
            PostFate::Refused => {
                creation.budget.step(log, setting.post_what, &problem);
                Some(Err(problem))
            }
            PostFate::NotSent => creation.not_sent(problem),
            PostFate::InFlight => Some(creation.in_flight(problem)),
            PostFate::Unread => creation.unread(problem),
            PostFate::Collided => creation.collided(problem),
        };
        if let Some(end) = step {
            return end;
        }
    }
}

impl Creation<'_, '_> {
    /// After an answer pg-backup-api is done with, the list is read first:
    /// at least a second later, as ids have one-second resolution.
    fn look_pause(&self) -> Duration {
        self.setting.retrier.policy.wait.max(SAME_SECOND)
    }

    /// Sends it again after `--retry-wait`, while attempts are left.
    fn not_sent(&mut self, problem: Problem) -> Step {
        let Retrier { clock, log, .. } = self.setting.retrier;
        match self.budget.step(log, self.setting.post_what, &problem) {
            Some(pause) => {
                clock.sleep(pause);
                None
            }
            None => Some(Err(problem)),
        }
    }

    /// Looks for the operation in the list; never sends another POST.
    fn in_flight(&mut self, problem: Problem) -> Result<String, Problem> {
        let (setting, pause) = (self.setting, self.look_pause());
        let log = setting.retrier.log;
        let looks = looks_left(&mut self.budget, log, setting.post_what, &problem, pause);
        look_only(setting, self.list, &self.known, pause, looks, &self.budget)
            .and_then(|found| found.ok_or(problem))
    }

    /// Follows the one new operation, or sends it again when none appeared.
    fn unread(&mut self, problem: Problem) -> Step {
        let (setting, pause) = (self.setting, self.look_pause());
        let Retrier { clock, log, .. } = setting.retrier;
        match look_now(setting, self.list, &self.known, &problem) {
            Err(problem) => return Some(Err(problem)),
            Ok(Ok(id)) => return Some(Ok(id)),
            Ok(Err(now)) => self.known = now,
        }
        let then = "no operation of it in the server's list, so sending it again";
        let next = self
            .budget
            .record_then(log, setting.post_what, &problem, pause, then);
        match self.budget.pause_or_give_up(log, next) {
            Some(pause) => {
                clock.sleep(pause);
                None
            }
            None => Some(Err(problem)),
        }
    }

    /// Rides out a collision: a pause that widens, a look at the list, and
    /// the POST again; counted only when one operation appeared meanwhile.
    fn collided(&mut self, problem: Problem) -> Step {
        let setting = self.setting;
        let Retrier { clock, log, .. } = setting.retrier;
        let what = setting.post_what;
        self.collisions += 1;
        let collisions = self.collisions;
        let pause = self.look_pause() + clock.jitter(collision_spread(collisions));
        let out_of_time = setting
            .max_wait
            .is_some_and(|limit| clock.now() + pause > self.started + limit);
        if collisions > MAX_COLLISIONS || out_of_time {
            let bound = match out_of_time {
                true => format!("--max-wait {} s", seconds(setting.max_wait.unwrap())),
                false => format!("{MAX_COLLISIONS} collisions"),
            };
            log.error(&format!(
                "{what} failed: {problem}; giving up after {bound}: the POSTs of \
                 other clients for this server kept taking every second."
            ));
            name_left_behind(setting, &self.strangers);
            return Some(Err(problem));
        }
        log.warning(&format!(
            "{what} failed: {problem}: {} (collision {collisions}); reading the server's \
             list, then sending it again in {} s.",
            problem.rule(Request::Post).why,
            seconds(pause)
        ));
        clock.sleep(pause);
        let now = match name_strangers(setting, self.list, &self.known, &mut self.strangers) {
            Ok(now) => now,
            Err(problem) => return Some(Err(problem)),
        };
        // None new: pg-backup-api wrote nothing (under `serve` load its
        // configuration race answers 500 before any job file); two or
        // more: other clients are at work. Only one may be this POST's own
        // job whose worker never started.
        let own_job_maybe = new_entries(&self.known, &now) == 1;
        self.known = now;
        if own_job_maybe {
            let then = "one operation appeared meanwhile, perhaps this POST's own whose \
                        worker never started, so it counts; sending it again";
            let next = self
                .budget
                .record_then(log, what, &problem, Duration::ZERO, then);
            let counted = self.budget.pause_or_give_up(log, next);
            if counted.is_none() {
                name_left_behind(setting, &self.strangers);
                return Some(Err(problem));
            }
        }
        None
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
    let now = list().inspect_err(|_| {
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
    let now = list().inspect_err(|_| {
        log.error(
            "Cannot read the server's list after pg-backup-api's answer: not sending the POST \
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
        let now = list().inspect_err(|_| {
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
mod tests;
