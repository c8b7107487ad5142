//! Failure handling beyond the Python tool: deadlines, retry classes, at most
//! one operation per run, bounded input, no secrets in logs.

mod common;
use common::*;
use std::time::Duration;

/// How a run that gave up on a POST without an answer ends.
const NO_OPERATION_APPEARED: &str =
    "ERROR: No recovery operation appeared after the failed POST; not sending another";

/// The ids of the operations polled, in order, without repeats.
fn polled_ids(stub: &Stub) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for r in stub.requests().iter().filter(|r| r.route == "poll") {
        let id = r.path.rsplit('/').next().unwrap().to_string();
        if ids.last() != Some(&id) {
            ids.push(id);
        }
    }
    ids
}

#[test]
fn an_api_outage_of_5_s_mid_poll_is_ridden_out() {
    // A 5 s outage, a good poll, then a 2 s outage: 4 + 2 failed attempts in
    // all, more than the 5 allowed, so this passes only because an answered
    // poll restores the budget.
    let stub = Scenario::real()
        .course(Course::DoneAfterPolls(3))
        .fault_at(Route::Poll, 1, 1, Action::Outage(5.0))
        .fault_at(Route::Poll, 3, 1, Action::Outage(2.0))
        .start();
    let ran = run_strings(&recover_args(
        &stub.url(),
        &["--retry-wait", "1.5", "--max-retries", "5"],
    ));
    ran.expect_code(0);
    assert_eq!(stub.posts(), 1);
    ran.expect_logged(&["connection refused; retrying in 1.5 s."])
        .expect(
            ran.log().iter().filter(|l| l.contains("Attempt ")).count() >= 6,
            "6 attempts or more",
        );
    assert!(ran.elapsed >= Duration::from_secs(7));
    assert_eq!(polled_ids(&stub).len(), 1);
}

#[test]
fn a_hung_poll_is_timed_out_and_retried() {
    let stub = Scenario::real()
        .course(Course::DoneAfterPolls(1))
        .fault_at(Route::Poll, 1, 1, Action::Hang)
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &["--http-timeout", "1"]));
    ran.expect_code(0)
        .expect_logged(&["failed: no complete answer within 1 s; retrying"]);
    assert!(ran.elapsed < Duration::from_secs(4));
}

#[test]
fn http_timeout_takes_fractions_of_a_second() {
    let stub = Scenario::real().always(Route::Status, Action::Hang).start();
    let ran = run_strings(&recover_args(
        &stub.url(),
        &["--http-timeout", "0.3", "--max-retries", "2"],
    ));
    ran.expect_code(254)
        .expect_logged(&["no complete answer within 0.3 s"]);
    assert!(ran.elapsed < Duration::from_secs(2), "{:?}", ran.elapsed);
}

#[test]
fn a_trickling_server_is_cut_by_the_whole_request_deadline() {
    // One byte every 0.2 s would take half a minute for the whole answer.
    let stub = Scenario::real()
        .always(Route::Status, Action::Trickle(0.2))
        .start();
    let ran = run_strings(&recover_args(
        &stub.url(),
        &["--http-timeout", "1", "--max-retries", "2"],
    ));
    ran.expect_code(254)
        .expect_logged(&["no complete answer within 1 s"]);
    assert!(ran.elapsed < Duration::from_secs(5), "{:?}", ran.elapsed);
}

#[test]
fn proxy_502_and_503_pages_are_retried() {
    let page = |code: u16, text: &str| {
        format!("<html><head><title>{code} {text}</title></head><body><h1>{code} {text}</h1><hr>nginx</body></html>")
    };
    let (bad_gateway, unavailable) = (page(502, "Bad Gateway"), page(503, "Service Unavailable"));
    let stub = Scenario::real()
        .fault_at(Route::Poll, 0, 1, Action::page(502, &bad_gateway))
        .fault_at(Route::Poll, 1, 1, Action::page(503, &unavailable))
        .start();
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--reset", "--switch-when", "always"],
    ));
    ran.expect_code(0).expect_logged(&[
        "Attempt 1 of 5 on GET",
        "failed: HTTP 502: 502 Bad Gateway; retrying",
        "failed: HTTP 503: 503 Service Unavailable; retrying",
    ]);
}

#[test]
fn a_400_page_is_shown_verbatim_and_not_retried() {
    let page = "<!doctype html>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n\
                <p>Request body is missing ``backup_id`` for &#39;main&#39;</p>\n";
    let stub = Scenario::real()
        .fault(Route::Create, Action::page(400, page))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(2).expect_logged(&[
        "failed: HTTP 400: Request body is missing ``backup_id`` for 'main' (not retried).",
    ]);
    assert_eq!(stub.posts(), 1);
}

#[test]
fn a_job_whose_worker_never_started_is_named_never_followed() {
    // pg-backup-api wrote the job, its worker failed to start, it answered
    // 500: the job reads IN_PROGRESS forever. The run POSTs again a second
    // later and follows only what its own POST created.
    let stub = Scenario::real()
        .fault(Route::Create, Action::AfterCreate("500"))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0).expect_logged(&[
        "HTTP 500: The server encountered an internal error",
        "pg-backup-api ran nothing for it, most often because another POST for the server \
         came in the same second (collision 1); reading the server's list, then sending it \
         again in ",
        "The server's list shows recovery operations that this run did not create: ",
    ]);
    ran.expect_not_logged(&["following it instead"]);
    let requests = stub.requests();
    let routes: Vec<&str> = requests.iter().map(|r| r.route.as_str()).take(5).collect();
    assert_eq!(routes, ["status", "list", "create", "list", "create"]);
    let posts: Vec<&Seen> = requests.iter().filter(|r| r.method == "POST").collect();
    assert!(posts[1].time - posts[0].time >= 1.0, "{posts:?}");
    let own = posts[1]
        .created
        .clone()
        .expect("the second POST created one");
    assert_eq!(polled_ids(&stub), [own]);
}

#[test]
fn a_post_dropped_after_the_operation_was_created_is_adopted() {
    let stub = Scenario::real()
        .fault(Route::Create, Action::AfterCreate("drop"))
        .start();
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--barman-model", "m", "--switch-when", "always"],
    ));
    ran.expect_code(0)
        .expect_logged(&["appeared although the POST failed"]);
    assert_eq!(stub.posts(), 1);
}

#[test]
fn a_post_answered_2xx_twice_without_an_id_is_sent_again_and_ends_0() {
    // pg-backup-api is done with a POST it answered whole: the list, read at
    // once, shows nothing new, so the POST is sent again a second later.
    let garbage = Action::page(200, "<html>busy</html>");
    let stub = Scenario::real()
        .fault_at(Route::Create, 0, 1, garbage)
        .fault_at(Route::Create, 1, 1, Action::json("{}"))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0).expect_logged(&[
        "answered without a usable operation id (unexpected answer: body is not JSON: <html>busy</html>)",
        "no operation of it in the server's list, so sending it again in 1 s.",
    ]);
    let requests = stub.requests();
    let routes: Vec<&str> = requests.iter().map(|r| r.route.as_str()).collect();
    assert_eq!(
        routes,
        ["status", "list", "create", "list", "create", "list", "create", "poll"]
    );
    let posts: Vec<&Seen> = requests.iter().filter(|r| r.method == "POST").collect();
    assert!(posts[1].time - posts[0].time >= 1.0, "{posts:?}");
    assert!(posts[2].time - posts[1].time >= 1.0, "{posts:?}");
    let created: Vec<&Seen> = requests.iter().filter(|r| r.created.is_some()).collect();
    assert_eq!(created.len(), 1);
    assert_eq!(polled_ids(&stub), [created[0].created.clone().unwrap()]);
}

#[test]
fn a_202_without_an_id_is_followed_through_the_list_and_not_sent_again() {
    let stub = Scenario::real()
        .fault(Route::Create, Action::AfterCreate("no_id"))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0)
        .expect_logged(&["appeared with that answer; following it."]);
    let routes: Vec<String> = stub.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(routes, ["status", "list", "create", "list", "poll"]);
}

#[test]
fn a_post_dropped_or_cut_by_a_proxy_is_never_sent_again() {
    // Nothing was created, but a dropped connection or a proxy's 504 does
    // not say the server is done with the POST: only the list is read again.
    let gateway_timeout = Action::page(504, "<title>504 Gateway Time-out</title>");
    for (action, name) in [(Action::Drop, "drop"), (gateway_timeout, "504")] {
        let stub = Scenario::real().fault(Route::Create, action).start();
        let ran = run_strings(&recover_args(&stub.url(), &["--max-retries", "2"]));
        ran.expect_code_for(name, 2)
            .expect_logged(&[
                "the server may still be at work on the POST, so looking again in 1 s (1 of 1)",
            ])
            .expect_last_line_starting(NO_OPERATION_APPEARED);
        let routes: Vec<String> = stub.requests().into_iter().map(|r| r.route).collect();
        assert_eq!(
            routes,
            ["status", "list", "create", "list", "list"],
            "{name}"
        );
    }
}

#[test]
fn a_refused_post_is_retried_blindly() {
    // The listener goes away while the list is read: the POST finds no one.
    let stub = Scenario::real()
        .fault(Route::List, Action::Outage(0.3))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &["--retry-wait", "0.2"]));
    ran.expect_code(0);
    assert_eq!(stub.posts(), 1);
}

#[test]
fn a_post_that_times_out_is_never_sent_again_and_its_late_operation_adopted() {
    // The server creates the operation 2.5 s after the POST, which gave up
    // after 1 s: the list is read again instead of sending a second POST.
    let stub = Scenario::real()
        .fault(Route::Create, Action::Delay(2.5))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &["--http-timeout", "1"]));
    ran.expect_code(0).expect_logged(&[
        "the server may still be at work on the POST, so looking again in 1 s (1 of 4)",
        "appeared although the POST failed",
    ]);
    assert_eq!(stub.posts(), 1);
    assert_eq!(polled_ids(&stub).len(), 1);
}

#[test]
fn a_post_that_never_gets_an_answer_and_creates_nothing_is_sent_once() {
    let stub = Scenario::real().fault(Route::Create, Action::Hang).start();
    let ran = run_strings(&recover_args(
        &stub.url(),
        &["--http-timeout", "1", "--max-retries", "2"],
    ));
    ran.expect_code(2)
        .expect_last_line_starting(NO_OPERATION_APPEARED);
    assert_eq!(stub.posts(), 1);
    let routes: Vec<String> = stub.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(routes, ["status", "list", "create", "list", "list"]);
}

#[test]
fn a_same_second_collision_is_posted_again_and_the_other_clients_operation_left_alone() {
    // Another client created an operation in this second: pg-backup-api
    // answers 500 and writes nothing for us. The run names the other one,
    // POSTs again in a later second, and follows its own.
    let stub = Scenario::real()
        .fault(Route::Create, Action::Collide)
        .start();
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--barman-model", "m", "--switch-when", "always"],
    ));
    ran.expect_code(0).expect_logged(&[
        "HTTP 500: The server encountered an internal error",
        "they are other clients', or jobs whose worker never started",
    ]);
    let requests = stub.requests();
    let routes: Vec<&str> = requests.iter().map(|r| r.route.as_str()).take(5).collect();
    assert_eq!(routes, ["status", "list", "create", "list", "create"]);
    let posts: Vec<&Seen> = requests.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 2);
    assert!(posts[1].time - posts[0].time >= 1.0);
    assert_eq!(posts[0].body, posts[1].body);
    assert_eq!(polled_ids(&stub), [posts[1].created.clone().unwrap()]);
}

#[test]
fn two_config_switches_in_the_same_second_both_succeed() {
    let stub = Scenario::real().course(Course::DoneAfter(0.3)).start();
    let args = switch_args(
        &stub.url(),
        "primary",
        &["--barman-model", "m", "--switch-when", "always"],
    );
    let first = {
        let args = args.clone();
        std::thread::spawn(move || run_strings(&args))
    };
    let second = run_strings(&args);
    let first = first.join().unwrap();
    for ran in [&first, &second] {
        assert_eq!(ran.code, 0, "{}\n{}", first.stderr, second.stderr);
        // The one whose POST collided got pg-backup-api's 500, which leaves
        // no operation to follow: it posted again, and follows its own.
        ran.expect_logged(&["Created the config switch operation with ID"])
            .expect_not_logged(&["appeared although"]);
    }
    assert_eq!(
        stub.requests()
            .iter()
            .filter(|r| r.created.is_some())
            .count(),
        2
    );
}

#[test]
fn a_redirect_is_not_followed_and_its_location_is_named() {
    let stub = Scenario::real()
        .fault(
            Route::Status,
            Action::Redirect(302, "http://127.0.0.1:9/login"),
        )
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(254).expect_logged(&[
        "HTTP 302 redirect to http://127.0.0.1:9/login, not followed",
        "pg-backup-api at http://127.0.0.1:",
    ]);
    assert_eq!(stub.lines(), vec!["GET /status"]);
}

#[test]
fn a_200_mb_body_is_refused_with_bounded_memory() {
    if skip_under_emulation("ulimit -v 64 MiB limits qemu, whose JIT takes 128 MiB") {
        return;
    }
    for framing in ["length", "chunked", "close"] {
        let huge = Action::Huge {
            bytes: 200_000_000,
            framing,
        };
        let stub = Scenario::real().fault(Route::Poll, huge).start();
        // 64 MiB of address space: reading 200 MB would abort.
        let ran = run_limited(&recover_args(&stub.url(), &[]), 65_536);
        ran.expect_code_for(framing, 2)
            .expect_logged(&["answer refused: body over 1048576 bytes (not retried)."]);
    }
}

#[test]
fn hostile_json_is_a_malformed_answer_in_bounded_memory() {
    // Nested a million deep, or a million values wide: within the body
    // limit, yet a tree of it would take a hundred MB. Both are refused
    // before any tree is built, and retried as malformed answers.
    if skip_under_emulation("ulimit -v limits qemu's own memory, not the tool's") {
        return;
    }
    let deep = "[".repeat(1_048_000);
    let wide = format!("[{}0]", "0,".repeat(520_000));
    for (body, why) in [
        (&deep, "JSON nested deeper than 64 levels"),
        (&wide, "JSON of more than 100000 values"),
    ] {
        let stub = Scenario::real()
            .fault(Route::Poll, Action::json(body))
            .start();
        // 60 MB of address space, as in the report that found it.
        let ran = run_limited(&recover_args(&stub.url(), &[]), 60_000);
        ran.expect_code_for(why, 0)
            .expect_logged(&[&format!("unexpected answer: {why}; retrying")]);
    }
    // The list is read entry by entry (src/api/list.rs): what is not its
    // shape is refused at its first byte, and an entry that never ends is
    // buffered only up to its limit.
    let endless = format!(r#"{{"operations": [{}"#, "[".repeat(1_048_000));
    for (body, why) in [
        (&deep, "body is not JSON (unexpected text): ["),
        (&wide, "body is not JSON (unexpected text): ["),
        (
            &endless,
            "body is not JSON (cut short): {\"operations\": [[[[",
        ),
    ] {
        let stub = Scenario::real()
            .fault(Route::List, Action::json(body))
            .start();
        let ran = run_limited(&recover_args(&stub.url(), &[]), 60_000);
        ran.expect_code_for(why, 0)
            .expect_logged(&[&format!("unexpected answer: {why}")]);
    }
}

#[test]
fn oversized_headers_are_a_malformed_answer_and_retried() {
    let header = "X-Filler: ".to_string() + &"a".repeat(20_000);
    let raw = format!("HTTP/1.1 200 OK\r\n{header}\r\n\r\n\"OK\"");
    let stub = Scenario::real()
        .fault(Route::Status, Action::Raw(&raw))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0)
        .expect_logged(&["unexpected answer: headers over 16384 bytes; retrying"]);
}

#[test]
fn oversized_headers_at_status_every_time_end_254() {
    let header = "X-Filler: ".to_string() + &"a".repeat(20_000);
    let raw = format!("HTTP/1.1 200 OK\r\n{header}\r\n\r\n\"OK\"");
    let stub = Scenario::real()
        .always(Route::Status, Action::Raw(&raw))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &["--max-retries", "2"]));
    ran.expect_code(254)
        .expect_logged(&["Attempt 2 of 2 on GET", "headers over 16384 bytes"]);
    assert_eq!(stub.posts(), 0);
}

#[test]
fn a_post_answered_202_with_a_hostile_head_is_followed_not_sent_again() {
    // The 202 came, but in a head no client takes: the operation exists.
    let stub = Scenario::real()
        .fault(Route::Create, Action::AfterCreate("huge_head"))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0).expect_logged(&[
        "unexpected answer: headers over 16384 bytes; the server may still be at work on it",
        "appeared although the POST failed; following it",
    ]);
    assert_eq!(stub.posts(), 1);
}

#[test]
fn a_post_answered_202_over_the_body_limit_gets_its_look_at_the_list() {
    let stub = Scenario::real()
        .fault(Route::Create, Action::AfterCreate("huge_body"))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0).expect_logged(&[
        "answer refused: body over 1048576 bytes (not retried).",
        "Looking for its operation in the server's list in",
        "appeared although the POST failed; following it",
    ]);
    assert_eq!(stub.posts(), 1);
}

#[test]
fn a_garbage_status_line_is_retried() {
    let stub = Scenario::real()
        .fault(Route::Poll, Action::Raw("SPDY/9 banana\r\n\r\n"))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0);
    ran.expect_logged(&[
        "unexpected answer: not an HTTP/1.x status line: \"SPDY/9 banana\"; retrying",
    ]);
}

#[test]
fn not_json_binary_and_truncated_answers_are_retried() {
    let binary = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\u{ff}\u{fe}\u{0}";
    let stub = Scenario::real()
        .fault_at(Route::Poll, 0, 1, Action::page(200, "<html>OK</html>"))
        .fault_at(Route::Poll, 1, 1, Action::Raw(binary))
        .fault_at(Route::Poll, 2, 1, Action::Truncate)
        .fault_at(Route::Poll, 3, 1, Action::json(r#"{"status": "PAUSED"}"#))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0);
    ran.expect_logged(&[
        "body is not JSON: <html>OK</html>",
        "body is not UTF-8",
        "closed after",
        "unknown operation status \"PAUSED\"",
    ]);
}

#[test]
fn max_wait_exits_5_and_names_the_running_operation() {
    let stub = Scenario::real().course(Course::Stuck).start();
    let ran = run_strings(&recover_args(&stub.url(), &["--max-wait", "0.3"]));
    ran.expect_code(5);
    let last = ran.log().pop().unwrap();
    assert!(
        last.starts_with("ERROR: Stopped waiting after --max-wait 0.3 s: recovery operation "),
        "{last}"
    );
    assert!(
        last.contains(" is still running on the Barman host; follow it at http://127.0.0.1:"),
        "{last}"
    );
    assert!(ran.elapsed < Duration::from_secs(2));
}

#[test]
fn max_wait_also_cuts_a_hung_poll_short_of_the_http_timeout() {
    let stub = Scenario::real().always(Route::Poll, Action::Hang).start();
    let ran = run_strings(&recover_args(
        &stub.url(),
        &["--max-wait", "1", "--http-timeout", "30"],
    ));
    ran.expect_code(5);
    assert!(ran.elapsed < Duration::from_secs(4), "{:?}", ran.elapsed);
    ran.expect_logged(&["Stopped waiting after --max-wait 1 s"]);
}

#[test]
fn polls_that_run_out_of_retries_say_where_to_follow_the_operation() {
    let stub = Scenario::real()
        .course(Course::Stuck)
        .fault_at(Route::Poll, 1, -1, Action::empty(502))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &["--max-retries", "2"]));
    ran.expect_code(2);
    let last = ran.last_line();
    assert!(
        last.contains("may still be running on the Barman host; follow it at http://"),
        "{last}"
    );
}

#[test]
fn a_poll_refused_for_good_says_the_operation_lives_on() {
    let stub = Scenario::real()
        .always(Route::Poll, Action::page(403, "<p>Forbidden</p>"))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(2).expect_logged(&[
        "HTTP 403: Forbidden (not retried)",
        "may still be running on the Barman host",
    ]);
}

#[test]
fn a_one_off_404_on_a_poll_is_retried() {
    // The real server answers 404 while the worker writes the output file.
    let stub = Scenario::real()
        .course(Course::DoneAfterPolls(1))
        .fault_at(Route::Poll, 1, 1, Action::HalfWritten)
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0).expect_logged(&[
        "failed: HTTP 404: Resource not found; pg-backup-api says so of operations that exist \
         when it is busy: not counted, polling again in 0.05 s.",
        "Recovery operation finished successfully.",
    ]);
    assert_eq!(stub.posts(), 1);
}

#[test]
fn polls_answered_404_until_max_wait_say_where_to_follow_it() {
    // pg-backup-api's own 404s about an operation this run created are
    // not counted (5 minutes after the last good answer): --max-wait ends
    // the wait, and the operation may well go on.
    let stub = Scenario::real()
        .always(Route::Poll, Action::HalfWritten)
        .start();
    let ran = run_strings(&recover_args(
        &stub.url(),
        &["--max-retries", "3", "--max-wait", "1"],
    ));
    ran.expect_code(5)
        .expect_logged(&["HTTP 404: Resource not found; pg-backup-api says so of operations that exist when it is busy: not counted"])
        .expect_not_logged(&["Attempt"]);
    ran.expect(
        ran.last_line()
            .contains("may still be running on the Barman host (the last poll failed: HTTP 404"),
        "the last line says the operation may go on",
    );
}

#[test]
fn a_burst_of_false_404s_longer_than_the_retries_is_ridden_out_while_polling() {
    // Seen in make e2e under `pg-backup-api serve`: five 404s in a row on
    // the run's own operation made it give up, and Patroni fell back to
    // pg_basebackup while Barman restored.
    let stub = Scenario::real()
        .fault_at(Route::Poll, 0, 8, Action::NoConfig)
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &["--max-retries", "3"]));
    ran.expect_code(0)
        .expect_logged(&["HTTP 404: No barman config found for 'main'; pg-backup-api says so"]);
    assert_eq!(stub.posts(), 1);
}

#[test]
fn a_post_answered_501_stops_without_a_look_or_another_post() {
    let stub = Scenario::real()
        .fault(Route::Create, Action::empty(501))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(2).expect_logged(&["HTTP 501"]);
    let routes: Vec<String> = stub.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(routes, ["status", "list", "create"]);
}

#[test]
fn a_list_unreadable_after_a_lost_answer_says_the_operation_may_exist() {
    let stub = Scenario::real()
        .fault(Route::Create, Action::AfterCreate("drop"))
        .fault_at(Route::List, 1, -1, Action::empty(503))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &["--max-retries", "2"]));
    ran.expect_code(2)
        .expect_logged(&["The failed POST may have created a recovery operation all the same"]);
    assert_eq!(stub.posts(), 1);
}

#[test]
fn max_wait_with_failing_polls_says_the_state_is_unknown() {
    let stub = Scenario::real()
        .course(Course::Stuck)
        .fault_at(Route::Poll, 1, -1, Action::empty(502))
        .start();
    let ran = run_strings(&recover_args(
        &stub.url(),
        &["--max-wait", "0.3", "--max-retries", "100"],
    ));
    ran.expect_code(5).expect_logged(&[
        "may still be running on the Barman host (the last poll failed: HTTP 502",
    ]);
}

#[test]
fn max_wait_exits_5_for_a_config_switch_too() {
    let stub = Scenario::real().course(Course::Stuck).start();
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--reset", "--switch-when", "promoted", "--max-wait", "0.2"],
    ));
    ran.expect_code(5)
        .expect_logged(&["Stopped waiting after --max-wait 0.2 s: config switch operation "]);
    assert_eq!(stub.posts(), 1);
}

#[test]
fn a_password_in_the_api_url_is_sent_but_never_logged() {
    let stub = Scenario::real().servers(&["other"]).start();
    let url = format!("http://barman:s3cr%40t@127.0.0.1:{}", stub.port);
    let ran = run_strings(&switch_args(
        &url,
        "primary",
        &["--reset", "--switch-when", "always"],
    ));
    ran.expect_code(3)
        .expect_not_logged(&["s3cr", "barman:"])
        .expect_logged(&[&format!(
            "http://127.0.0.1:{}/servers/main/operations",
            stub.port
        )]);
    // base64("barman:s3cr@t")
    assert_eq!(
        stub.requests()[0].header("authorization"),
        Some("Basic YmFybWFuOnMzY3JAdA==")
    );
}

#[test]
fn a_500_on_the_last_allowed_post_ends_the_run_following_nothing() {
    let stub = Scenario::real()
        .fault(Route::Create, Action::AfterCreate("500"))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &["--max-retries", "1"]));
    ran.expect_code(2)
        .expect_logged(&["ERROR: Maximum number of retries exceeded, exiting."]);
    // The last line names the job it left stuck.
    let last = ran.last_line();
    let stuck = last
        .strip_prefix(
            "ERROR: No recovery operation of this run runs. Not followed, and perhaps stuck \
             IN_PROGRESS for ever if their worker never started (is pg-backup-api on the API's \
             PATH?): ",
        )
        .unwrap_or_else(|| panic!("{last}"));
    assert_eq!(stuck.len(), "20261125T171209.".len(), "{last}");
    assert_eq!(stub.posts(), 1);
    assert!(polled_ids(&stub).is_empty(), "{:?}", stub.lines());
}

#[test]
fn an_api_url_without_its_prefix_is_254_with_the_apis_message() {
    // Behind a proxy under /pgbackup, --api-url without the prefix gets
    // Flask's 404 at /status: pg-backup-api cannot be used, nothing created.
    let stub = Scenario::real().prefix("/pgbackup").start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(254).expect_logged(&[
        "HTTP 404: The requested URL was not found on the server",
        "(not retried)",
    ]);
    ran.expect_last_line_starting(&format!(
        "ERROR: pg-backup-api at {}/status cannot be used: HTTP 404",
        stub.url()
    ))
    .expect_logged(&[
        "--api-url has no path: behind a proxy that serves pg-backup-api under a prefix, add it",
    ]);
    assert_eq!(stub.lines(), ["GET /status"]);
}

#[test]
fn a_404_at_status_under_a_path_says_the_path_is_kept_as_given() {
    let stub = Scenario::real().prefix("/pgbackup").start();
    let url = format!("{}/barman/pgbackup", stub.url());
    let ran = run_strings(&recover_args(&url, &[]));
    ran.expect_code(254).expect_logged(&[
        &format!(
            "ERROR: pg-backup-api at {url}/status cannot be used: HTTP 404: The requested URL"
        ),
        "try again. The path /barman/pgbackup of --api-url is kept as given, so \
         /barman/pgbackup/status was asked; check the proxy's prefix. (The Python tool drops \
         the last segment of a path without a trailing slash: it would have asked \
         /barman/status.)",
    ]);
}
