//! Kill-safe recover: at any moment at most one restore writes into a data
//! directory, across cancels (SIGTERM, SIGKILL), restarts and runs started
//! together (src/jobs/recover.rs, src/jobs/recover/record.rs).

mod common;
use common::*;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// How long the first operation stays IN_PROGRESS: long enough for a run
/// to be killed and another started meanwhile.
const FIRST_RUNS: f64 = 2.0;

/// A stub whose first operation runs FIRST_RUNS s and the next 0.2 s.
fn stub_with(extra: impl FnOnce(Scenario) -> Scenario) -> Stub {
    extra(
        Scenario::real()
            .course(Course::DoneAfter(FIRST_RUNS))
            .course(Course::DoneAfter(0.2)),
    )
    .start()
}

fn spawn(args: &[String]) -> Child {
    command()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (10 s at most) until the stub has seen what `ready` wants.
fn wait_until(stub: &Stub, ready: impl Fn(&[Seen]) -> bool) {
    let started = Instant::now();
    while !ready(&stub.requests()) {
        assert!(started.elapsed() < Duration::from_secs(10), "never ready");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn posts(stub: &Stub) -> Vec<Seen> {
    stub.requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect()
}

/// The second run followed the first run's operation to its end, then made
/// and followed its own, and removed the record.
fn expect_waited_then_restored(stub: &Stub, second: &Ran, args: &[String]) {
    second.expect_code(0);
    let posts = posts(stub);
    assert_eq!(posts.len(), 2, "{:?}", stub.lines());
    let own = posts[1]
        .created
        .clone()
        .expect("the second POST created one");
    // The first operation: the other one polled (an unanswered POST
    // recorded no id for it).
    let first_id = stub
        .requests()
        .iter()
        .filter(|r| r.route == "poll")
        .map(|r| r.path.rsplit('/').next().unwrap().to_string())
        .find(|id| *id != own)
        .expect("the first operation was polled");
    let data = data_dir_in(args).display().to_string();
    second.expect_logged(&[
        &format!("recovery operation {first_id} into {data}: following it to its end"),
        &format!("The earlier recovery operation {first_id} into {data} has ended (DONE)"),
    ]);
    // Its own POST came only once the first operation had ended.
    assert!(
        posts[1].time - posts[0].time >= FIRST_RUNS,
        "{:?}",
        posts.iter().map(|p| p.time).collect::<Vec<_>>()
    );
    second.expect_logged(&[&format!("Created the recovery operation with ID {own}")]);
    let left: Vec<_> = std::fs::read_dir(records_in(args)).unwrap().collect();
    assert!(
        left.is_empty(),
        "a successful run removes its record: {left:?}"
    );
}

/// Cancels a run with `signal` while it polls, runs the same command again,
/// and returns how the first one ended.
fn cancel_mid_poll_then_run_again(signal: &str) -> i32 {
    let stub = stub_with(|s| s);
    let args = recover_args(&stub.url(), &[]);
    let first = spawn(&args);
    wait_until(&stub, |seen| seen.iter().any(|r| r.route == "poll"));
    send_signal(&first, signal);
    let code = finish(first, Instant::now()).code;
    let second = run_strings(&args);
    expect_waited_then_restored(&stub, &second, &args);
    code
}

#[test]
fn sigterm_mid_poll_then_the_same_command_waits_for_the_first_restore() {
    assert_eq!(cancel_mid_poll_then_run_again("TERM"), 143);
}

#[test]
fn sigkill_mid_poll_then_the_same_command_waits_for_the_first_restore() {
    // Killed by the signal: no exit code at all.
    assert_eq!(cancel_mid_poll_then_run_again("KILL"), -1);
}

#[test]
fn sigkill_between_the_post_and_its_answer_is_covered_by_the_pending_record() {
    // The POST created the operation, then its answer never came: the
    // record, written before the POST, has the list to tell it by.
    let stub = stub_with(|s| s.fault(Route::Create, Action::AfterCreate("hang")));
    let args = recover_args(&stub.url(), &["--http-timeout", "30"]);
    let first = spawn(&args);
    wait_until(&stub, |seen| seen.iter().any(|r| r.route == "create"));
    send_signal(&first, "KILL");
    finish(first, Instant::now());
    let second = run_strings(&args);
    second.expect_logged(&["may have started (its POST went unanswered) recovery operation"]);
    expect_waited_then_restored(&stub, &second, &args);
}

#[test]
fn two_runs_at_once_for_one_directory_take_turns() {
    let stub = stub_with(|s| s);
    let args = recover_args(&stub.url(), &[]);
    let started = Instant::now();
    let first = spawn(&args);
    wait_until(&stub, |seen| seen.iter().any(|r| r.route == "poll"));
    let second = spawn(&args);
    let first = finish(first, started);
    let second = finish(second, started);
    first.expect_code(0);
    second.expect_code(0).expect_logged(&[
        "Another patroni_barman recover (pid ",
        ": waiting for it to end before this run starts its own restore.",
    ]);
    let posts = posts(&stub);
    assert_eq!(posts.len(), 2);
    assert!(posts[1].time - posts[0].time >= FIRST_RUNS);
}

#[test]
fn max_wait_bounds_the_wait_for_an_earlier_restore_with_its_own_exit_code() {
    let stub = Scenario::real().course(Course::Stuck).start();
    let args = recover_args(&stub.url(), &[]);
    let first = spawn(&args);
    wait_until(&stub, |seen| seen.iter().any(|r| r.route == "poll"));
    send_signal(&first, "KILL");
    finish(first, Instant::now());
    let mut again = args.clone();
    again.extend(["--max-wait", "0.5"].map(String::from));
    let second = run_strings(&again);
    second.expect_code(7).expect_last_line_starting(
        "ERROR: Stopped waiting after --max-wait 0.5 s: the earlier recovery operation",
    );
    assert_eq!(posts(&stub).len(), 1);
}

#[test]
fn a_record_that_cannot_be_kept_is_exit_8_before_any_request() {
    let stub = Scenario::real().start();
    // Beside a data directory whose parent cannot be made (a file is in
    // its way), and in a --record-dir that is a file.
    let file = record_dir().join("a-file");
    std::fs::write(&file, "").unwrap();
    let in_file = format!("--record-dir={}", file.display());
    let under_file = format!("--datadir={}", file.join("pg/data").display());
    for extra in [vec![under_file.as_str()], vec![in_file.as_str()]] {
        let mut args = recover_args(&stub.url(), &[]);
        args.retain(|a| !a.starts_with("--record-dir"));
        args.extend(extra.iter().map(|s| s.to_string()));
        let ran = run_strings(&args);
        ran.expect_code_for(&extra, 8)
            .expect_last_line_starting("ERROR: Cannot keep the record of the restore into ");
        ran.expect_logged(&["Nothing was sent"]);
    }
    assert!(stub.requests().is_empty(), "{:?}", stub.lines());
}

#[test]
fn a_record_written_by_another_program_is_not_taken_for_one() {
    let stub = Scenario::real().start();
    let args = recover_args(&stub.url(), &[]);
    let encoded = data_dir_in(&args).display().to_string().replace('/', "%2F");
    let record = records_in(&args).join(format!("{encoded}.patroni_barman"));
    std::fs::write(&record, "not a record\n").unwrap();
    let ran = run_strings(&args);
    ran.expect_code(8).expect_logged(&[
        "it is not a record patroni_barman wrote; remove it once no restore into the directory can be running",
    ]);
    assert!(stub.requests().is_empty());
}
