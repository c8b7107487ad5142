//! Failure handling beyond the Python tool: deadlines, retry classes, at most
//! one operation per run, bounded input, no secrets in logs.

mod common;
use common::*;
use std::time::Duration;

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
    let stub = Stub::start(
        r#"{"operations": [{"in_progress_polls": 3}],
            "faults": [{"route": "poll", "skip": 1, "action": {"outage": 5}},
                       {"route": "poll", "skip": 3, "action": {"outage": 2}}]}"#,
    );
    let ran = run_strings(&recover_args(
        &stub.url(),
        &["--retry-wait", "1.5", "--max-retries", "5"],
    ));
    ran.expect_code(0);
    assert_eq!(stub.posts(), 1);
    assert!(
        ran.logged("connection refused; retrying in 1.5 s."),
        "{}",
        ran.stderr
    );
    assert!(
        ran.log().iter().filter(|l| l.contains("Attempt ")).count() >= 6,
        "{}",
        ran.stderr
    );
    assert!(ran.elapsed >= Duration::from_secs(7));
    assert_eq!(polled_ids(&stub).len(), 1);
}

#[test]
fn a_hung_poll_is_timed_out_and_retried() {
    let stub = Stub::start(
        r#"{"operations": [{"in_progress_polls": 1}],
            "faults": [{"route": "poll", "skip": 1, "action": {"hang": true}}]}"#,
    );
    let ran = run_strings(&recover_args(&stub.url(), &["--http-timeout", "1"]));
    ran.expect_code(0);
    assert!(
        ran.logged("failed: no complete answer within 1 s; retrying"),
        "{}",
        ran.stderr
    );
    assert!(ran.elapsed < Duration::from_secs(4));
}

#[test]
fn a_trickling_server_is_cut_by_the_whole_request_deadline() {
    // One byte every 0.2 s would take half a minute for the whole answer.
    let stub = Stub::start(
        r#"{"faults": [{"route": "status", "times": -1, "action": {"trickle": 0.2}}]}"#,
    );
    let ran = run_strings(&recover_args(
        &stub.url(),
        &["--http-timeout", "1", "--max-retries", "2"],
    ));
    ran.expect_code(254);
    assert!(
        ran.logged("no complete answer within 1 s"),
        "{}",
        ran.stderr
    );
    assert!(ran.elapsed < Duration::from_secs(5), "{:?}", ran.elapsed);
}

#[test]
fn proxy_502_and_503_pages_are_retried() {
    let page = |code: u16, text: &str| {
        format!("<html><head><title>{code} {text}</title></head><body><h1>{code} {text}</h1><hr>nginx</body></html>")
    };
    let (bad_gateway, unavailable) = (page(502, "Bad Gateway"), page(503, "Service Unavailable"));
    let nginx = |code, body| Action::Respond {
        code,
        content_type: None,
        body,
    };
    let stub = Scenario::real()
        .fault_at(Route::Poll, 0, 1, nginx(502, &bad_gateway))
        .fault_at(Route::Poll, 1, 1, nginx(503, &unavailable))
        .start();
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--reset", "--switch-when", "always"],
    ));
    ran.expect_code(0);
    assert!(ran.logged("Attempt 1 of 5 on GET"), "{}", ran.stderr);
    assert!(
        ran.logged("failed: HTTP 502: 502 Bad Gateway; retrying"),
        "{}",
        ran.stderr
    );
    assert!(ran.logged("failed: HTTP 503: 503 Service Unavailable; retrying"));
}

#[test]
fn a_400_page_is_shown_verbatim_and_not_retried() {
    let stub = Stub::start(
        r#"{"faults": [{"route": "create", "action": {"respond": {"code": 400,
            "body": "<!doctype html>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n<p>Request body is missing ``backup_id`` for &#39;main&#39;</p>\n"}}}]}"#,
    );
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(2);
    assert!(
        ran.logged(
            "failed: HTTP 400: Request body is missing ``backup_id`` for 'main' (not retried)."
        ),
        "{}",
        ran.stderr
    );
    assert_eq!(stub.posts(), 1);
}

#[test]
fn a_job_whose_worker_never_started_is_named_never_followed() {
    // pg-backup-api wrote the job, its worker failed to start, it answered
    // 500: the job reads IN_PROGRESS forever. The run POSTs again a second
    // later and follows only what its own POST created.
    let stub =
        Stub::start(r#"{"faults": [{"route": "create", "action": {"after_create": "500"}}]}"#);
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0).expect_logged(&[
        "HTTP 500: The server encountered an internal error",
        "pg-backup-api answered, so no operation of this POST runs: sending it again in 1.",
        "appeared in the server's list after pg-backup-api answered the POST; not following it",
    ]);
    assert!(!ran.logged("following it instead"), "{}", ran.stderr);
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
    let stub =
        Stub::start(r#"{"faults": [{"route": "create", "action": {"after_create": "drop"}}]}"#);
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--barman-model", "m", "--switch-when", "always"],
    ));
    ran.expect_code(0);
    assert_eq!(stub.posts(), 1);
    assert!(
        ran.logged("appeared although the POST failed"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_post_answered_2xx_with_garbage_is_never_sent_again() {
    // A 2xx that is not the JSON expected may be a 202 whose body was
    // mangled on the way: the operation may exist, so only the list is read.
    let garbage = Action::Respond {
        code: 200,
        content_type: None,
        body: "<html>busy</html>",
    };
    let stub = Scenario::real().fault(Route::Create, garbage).start();
    let ran = run_strings(&recover_args(&stub.url(), &["--max-retries", "2"]));
    ran.expect_code(2).expect_logged(&[
        "failed: unexpected answer: body is not JSON: <html>busy</html>; the server may still be at work on it",
    ]);
    let routes: Vec<String> = stub.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(routes, ["status", "list", "create", "list", "list"]);
}

#[test]
fn a_post_dropped_or_cut_by_a_proxy_is_never_sent_again() {
    // Nothing was created, but a dropped connection or a proxy's 504 does
    // not say the server is done with the POST: only the list is read again.
    let gateway_timeout = || Action::Respond {
        code: 504,
        content_type: None,
        body: "<title>504 Gateway Time-out</title>",
    };
    for (action, name) in [(Action::Drop, "drop"), (gateway_timeout(), "504")] {
        let stub = Scenario::real().fault(Route::Create, action).start();
        let ran = run_strings(&recover_args(&stub.url(), &["--max-retries", "2"]));
        assert_eq!(ran.code, 2, "{name}: {}", ran.stderr);
        assert!(
            ran.logged(
                "the server may still be at work on the POST, so looking again in 1 s (1 of 1)"
            ),
            "{}",
            ran.stderr
        );
        assert!(
            ran.log().last().unwrap().starts_with(
                "ERROR: No recovery operation appeared after the failed POST; not sending another"
            ),
            "{}",
            ran.stderr
        );
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
    let stub = Stub::start(r#"{"faults": [{"route": "list", "action": {"outage": 0.3}}]}"#);
    let ran = run_strings(&recover_args(&stub.url(), &["--retry-wait", "0.2"]));
    ran.expect_code(0);
    assert_eq!(stub.posts(), 1);
}

#[test]
fn a_post_that_times_out_is_never_sent_again_and_its_late_operation_adopted() {
    // The server creates the operation 2.5 s after the POST, which gave up
    // after 1 s: the list is read again instead of sending a second POST.
    let stub = Stub::start(r#"{"faults": [{"route": "create", "action": {"delay": 2.5}}]}"#);
    let ran = run_strings(&recover_args(&stub.url(), &["--http-timeout", "1"]));
    ran.expect_code(0);
    assert!(
        ran.logged("the server may still be at work on the POST, so looking again in 1 s (1 of 4)")
            && ran.logged("appeared although the POST failed"),
        "{}",
        ran.stderr
    );
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
    ran.expect_code(2);
    assert!(
        ran.log().last().unwrap().starts_with(
            "ERROR: No recovery operation appeared after the failed POST; not sending another"
        ),
        "{}",
        ran.stderr
    );
    assert_eq!(stub.posts(), 1);
    let routes: Vec<String> = stub.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(routes, ["status", "list", "create", "list", "list"]);
}

#[test]
fn a_same_second_collision_is_posted_again_and_the_other_clients_operation_left_alone() {
    // Another client created an operation in this second: pg-backup-api
    // answers 500 and writes nothing for us. The run names the other one,
    // POSTs again in a later second, and follows its own.
    let stub = Stub::start(r#"{"faults": [{"route": "create", "action": {"collide": true}}]}"#);
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--barman-model", "m", "--switch-when", "always"],
    ));
    ran.expect_code(0).expect_logged(&[
        "HTTP 500: The server encountered an internal error",
        "it is another client's, or a job whose worker never started",
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
    let stub = Stub::start(r#"{"operations": [{"done_after": 0.3}]}"#);
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
        // Each run follows exactly one operation: its own, or (when its POST
        // collided) the one that appeared, which the list cannot tell apart.
        let followed = ran
            .log()
            .iter()
            .filter(|l| {
                l.contains("Created the config switch operation") || l.contains("appeared although")
            })
            .count();
        assert_eq!(followed, 1, "{}", ran.stderr);
    }
}

#[test]
fn a_redirect_is_not_followed_and_its_location_is_named() {
    let stub = Stub::start(
        r#"{"faults": [{"route": "status", "action": {"respond": {"code": 302, "headers": {"Location": "http://127.0.0.1:9/login"}}}}]}"#,
    );
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
        assert_eq!(ran.code, 2, "{framing}: {}", ran.stderr);
        assert!(
            ran.logged("answer refused: body over 1048576 bytes (not retried)."),
            "{}",
            ran.stderr
        );
    }
}

#[test]
fn oversized_headers_and_garbage_status_lines_are_errors() {
    let header = "X-Filler: ".to_string() + &"a".repeat(20_000);
    let raw = format!("HTTP/1.1 200 OK\r\n{header}\r\n\r\n\"OK\"");
    let stub = Scenario::real()
        .fault(Route::Status, Action::Raw(&raw))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(254)
        .expect_logged(&["answer refused: headers over"]);

    let stub = Stub::start(
        r#"{"faults": [{"route": "poll", "action": {"raw": "SPDY/9 banana\r\n\r\n"}}]}"#,
    );
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0);
    ran.expect_logged(&[
        "unexpected answer: not an HTTP/1.x status line: \"SPDY/9 banana\"; retrying",
    ]);
}

#[test]
fn not_json_binary_and_truncated_answers_are_retried() {
    let stub = Stub::start(
        r#"{"faults": [
            {"route": "poll", "action": {"respond": {"code": 200, "body": "<html>OK</html>"}}},
            {"route": "poll", "skip": 1, "action": {"raw": "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\u00ff\u00fe\u0000"}},
            {"route": "poll", "skip": 2, "action": {"truncate": true}},
            {"route": "poll", "skip": 3, "action": {"respond": {"code": 200, "content_type": "application/json", "body": "{\"status\": \"PAUSED\"}"}}}
        ]}"#,
    );
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0);
    for cause in [
        "body is not JSON: <html>OK</html>",
        "body is not UTF-8",
        "closed after",
        "unknown operation status \"PAUSED\"",
    ] {
        assert!(ran.logged(cause), "{cause}: {}", ran.stderr);
    }
}

#[test]
fn max_wait_exits_5_and_names_the_running_operation() {
    let stub = Stub::start(r#"{"operations": [{"stuck": true}]}"#);
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
    let stub =
        Stub::start(r#"{"faults": [{"route": "poll", "times": -1, "action": {"hang": true}}]}"#);
    let ran = run_strings(&recover_args(
        &stub.url(),
        &["--max-wait", "1", "--http-timeout", "30"],
    ));
    ran.expect_code(5);
    assert!(ran.elapsed < Duration::from_secs(4), "{:?}", ran.elapsed);
    assert!(
        ran.logged("Stopped waiting after --max-wait 1 s"),
        "{}",
        ran.stderr
    );
}

#[test]
fn polls_that_run_out_of_retries_say_where_to_follow_the_operation() {
    let stub = Stub::start(
        r#"{"operations": [{"stuck": true}],
            "faults": [{"route": "poll", "skip": 1, "times": -1, "action": {"respond": {"code": 502}}}]}"#,
    );
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
    let stub = Stub::start(
        r#"{"faults": [{"route": "poll", "times": -1, "action": {"respond": {"code": 403, "body": "<p>Forbidden</p>"}}}]}"#,
    );
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(2).expect_logged(&[
        "HTTP 403: Forbidden (not retried)",
        "may still be running on the Barman host",
    ]);
}

#[test]
fn a_one_off_404_on_a_poll_is_retried() {
    // The real server answers 404 while the worker writes the output file.
    let stub = Stub::start(
        r#"{"operations": [{"in_progress_polls": 1}],
            "faults": [{"route": "poll", "skip": 1, "action": {"half_written": true}}]}"#,
    );
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0).expect_logged(&[
        "Attempt 1 of 5 on GET http://127.0.0.1:",
        "failed: HTTP 404: Resource not found; retrying in 0.05 s.",
        "Recovery operation finished successfully.",
    ]);
    assert_eq!(stub.posts(), 1);
}

#[test]
fn a_no_config_404_under_load_is_retried_while_polling() {
    let stub = Stub::start(
        r#"{"faults": [{"route": "poll", "times": 2, "action": {"no_config": true}}]}"#,
    );
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0)
        .expect_logged(&["failed: HTTP 404: No barman config found for 'main'; retrying"]);
}

#[test]
fn polls_answered_404_until_the_retries_run_out_say_where_to_follow_it() {
    let stub = Stub::start(
        r#"{"faults": [{"route": "poll", "times": -1, "action": {"half_written": true}}]}"#,
    );
    let ran = run_strings(&recover_args(&stub.url(), &["--max-retries", "3"]));
    ran.expect_code(2)
        .expect_logged(&["Attempt 3 of 3 on GET", "HTTP 404: Resource not found."]);
    assert!(
        ran.last_line()
            .contains("may still be running on the Barman host; follow it at http://"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_post_answered_501_stops_without_a_look_or_another_post() {
    let stub =
        Stub::start(r#"{"faults": [{"route": "create", "action": {"respond": {"code": 501}}}]}"#);
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(2).expect_logged(&["HTTP 501"]);
    let routes: Vec<String> = stub.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(routes, ["status", "list", "create"], "{}", ran.stderr);
}

#[test]
fn a_list_unreadable_after_a_lost_answer_says_the_operation_may_exist() {
    let stub = Stub::start(
        r#"{"faults": [{"route": "create", "action": {"after_create": "drop"}},
                       {"route": "list", "skip": 1, "times": -1, "action": {"respond": {"code": 503}}}]}"#,
    );
    let ran = run_strings(&recover_args(&stub.url(), &["--max-retries", "2"]));
    ran.expect_code(2)
        .expect_logged(&["The failed POST may have created a recovery operation all the same"]);
    assert_eq!(stub.posts(), 1);
}

#[test]
fn max_wait_with_failing_polls_says_the_state_is_unknown() {
    let stub = Stub::start(
        r#"{"operations": [{"stuck": true}],
            "faults": [{"route": "poll", "skip": 1, "times": -1, "action": {"respond": {"code": 502}}}]}"#,
    );
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
    let stub = Stub::start(r#"{"operations": [{"stuck": true}]}"#);
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--reset", "--switch-when", "promoted", "--max-wait", "0.2"],
    ));
    ran.expect_code(5);
    assert!(
        ran.logged("Stopped waiting after --max-wait 0.2 s: config switch operation "),
        "{}",
        ran.stderr
    );
    assert_eq!(stub.posts(), 1);
}

#[test]
fn a_password_in_the_api_url_is_sent_but_never_logged() {
    let stub = Stub::start(r#"{"servers": ["other"]}"#);
    let url = format!("http://barman:s3cr%40t@127.0.0.1:{}", stub.port);
    let ran = run_strings(&switch_args(
        &url,
        "primary",
        &["--reset", "--switch-when", "always"],
    ));
    ran.expect_code(3);
    assert!(!ran.stderr.contains("s3cr"), "{}", ran.stderr);
    assert!(!ran.stderr.contains("barman:"), "{}", ran.stderr);
    assert!(ran.logged(&format!(
        "http://127.0.0.1:{}/servers/main/operations",
        stub.port
    )));
    // base64("barman:s3cr@t")
    assert_eq!(
        stub.requests()[0].header("authorization"),
        Some("Basic YmFybWFuOnMzY3JAdA==")
    );
}

#[test]
fn a_500_on_the_last_allowed_post_ends_the_run_following_nothing() {
    let stub =
        Stub::start(r#"{"faults": [{"route": "create", "action": {"after_create": "500"}}]}"#);
    let ran = run_strings(&recover_args(&stub.url(), &["--max-retries", "1"]));
    ran.expect_code(2);
    assert_eq!(
        ran.last_line(),
        "ERROR: Maximum number of retries exceeded, exiting."
    );
    assert_eq!(stub.posts(), 1);
    assert!(polled_ids(&stub).is_empty(), "{:?}", stub.lines());
}

#[test]
fn an_api_url_without_its_prefix_is_254_with_the_apis_message() {
    // Behind a proxy under /pgbackup, --api-url without the prefix gets
    // Flask's 404 at /status: pg-backup-api cannot be used, nothing created.
    let stub = Scenario::real().key("prefix", r#""/pgbackup""#).start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(254).expect_logged(&[
        "HTTP 404: The requested URL was not found on the server",
        "(not retried)",
    ]);
    assert!(
        ran.last_line().starts_with(&format!(
            "ERROR: pg-backup-api at {}/status cannot be used: HTTP 404",
            stub.url()
        )),
        "{}",
        ran.stderr
    );
    assert_eq!(stub.lines(), ["GET /status"]);
}
