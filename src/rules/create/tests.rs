//! The unit tests of src/rules/create.rs.

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
                goes_on: false,
            },
            max_wait: self.max_wait,
            kind: Kind::ConfigSwitch,
            post_what: "POST u",
        };
        // Read with retries, as the jobs read it (src/jobs/session.rs).
        let list = || {
            setting.retrier.call(Request::List, "GET l", || {
                self.asked.borrow_mut().push("list");
                self.lists.borrow_mut().remove(0)
            })
        };
        let post = |_: &[Listed]| {
            self.asked.borrow_mut().push("post");
            self.posts.borrow_mut().remove(0)
        };
        let result = list().and_then(|known| create_once(&setting, known, post, list));
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
