//! `config-switch` as Patroni's on_role_change callback, against the stub.

mod common;
use common::*;

#[test]
fn promoted_primary_applies_the_model_and_exits_0() {
    let stub = Scenario::real().course(Course::DoneAfterPolls(1)).start();
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--barman-model", "m1", "--switch-when", "promoted"],
    ));
    ran.expect_code(0);
    let log = ran.log();
    assert!(
        log[0].starts_with("INFO: Created the config switch operation with ID "),
        "{log:?}"
    );
    assert!(
        log[1].starts_with("INFO: Config switch operation ")
            && log[1].ends_with(" is still in progress")
    );
    assert_eq!(
        log[2],
        "INFO: Config switch operation finished successfully."
    );
    let lines = stub.lines();
    assert_eq!(
        lines[..3],
        [
            "GET /status",
            "GET /servers/main/operations",
            "POST /servers/main/operations"
        ]
    );
    assert_eq!(lines.len(), 5);
    assert_eq!(
        stub.requests()[2].json(),
        r#"{"model_name":"m1","type":"config_switch"}"#
    );
}

#[test]
fn reset_sends_reset_true() {
    let stub = Scenario::real().start();
    let ran = run_strings(&switch_args(
        &stub.url(),
        "replica",
        &["--reset", "--switch-when", "demoted"],
    ));
    ran.expect_code(0);
    assert_eq!(
        stub.requests()[2].json(),
        r#"{"reset":true,"type":"config_switch"}"#
    );
}

#[test]
fn master_from_patroni_3_counts_as_primary() {
    let stub = Scenario::real().start();
    let ran = run_strings(&switch_args(
        &stub.url(),
        "master",
        &["--barman-model=m", "--switch-when=promoted"],
    ));
    ran.expect_code(0);
}

#[test]
fn role_not_matching_exits_1_and_sends_nothing() {
    let stub = Scenario::real().start();
    for (role, when) in [
        ("replica", "promoted"),
        ("standby_leader", "promoted"),
        ("primary", "demoted"),
    ] {
        let ran = run_strings(&switch_args(
            &stub.url(),
            role,
            &["--barman-model", "m", "--switch-when", when],
        ));
        ran.expect_code(1);
        assert_eq!(
            ran.log(),
            vec![format!(
                "INFO: Config switch operation was skipped (role={role}, switch_when={when})."
            )]
        );
    }
    assert!(stub.requests().is_empty(), "{:?}", stub.lines());
}

#[test]
fn failed_operation_exits_2() {
    let stub = Scenario::real().course(Course::FailedAfterPolls(0)).start();
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--barman-model", "nosuch", "--switch-when", "always"],
    ));
    ran.expect_code(2)
        .expect_logged(&["ERROR: Config switch operation failed."]);
}

#[test]
fn api_error_exits_3_with_the_api_message() {
    let stub = Scenario::real().servers(&["other"]).start();
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--barman-model", "m", "--switch-when", "always"],
    ));
    ran.expect_code(3)
        .expect_logged(&["HTTP 404: No barman config found for 'main'"])
        .expect_last_line_starting("ERROR: pg-backup-api does not know server main");
}

#[test]
fn false_404s_and_500s_on_the_list_and_the_post_are_ridden_out() {
    // pg-backup-api serve under load, and a 500 raised before the job file.
    let stub = Scenario::real()
        .fault_at(Route::List, 0, 1, Action::NoConfig)
        .fault_at(Route::Create, 0, 1, Action::NoConfig)
        .fault_at(Route::Create, 1, 1, Action::empty(500))
        .start();
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--barman-model", "m", "--switch-when", "always"],
    ));
    ran.expect_code(0);
    let routes: Vec<String> = stub.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(
        routes,
        ["status", "list", "list", "create", "create", "list", "create", "poll"]
    );
}

#[test]
fn invalid_model_or_reset_exits_4_and_sends_nothing() {
    let stub = Scenario::real().start();
    for extra in [
        &["--barman-model="][..],
        &[],
        &["--barman-model", "m", "--reset"],
    ] {
        let mut options = vec!["--switch-when", "always"];
        options.extend_from_slice(extra);
        let ran = run_strings(&switch_args(&stub.url(), "primary", &options));
        ran.expect_code_for(extra, 4).expect(
            ran.log()[0].starts_with("ERROR: Invalid config switch: "),
            "the first line is the error",
        );
    }
    assert!(stub.requests().is_empty());
}

#[test]
fn status_not_ok_exits_254() {
    let stub = Scenario::real().status_body("not json").start();
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--reset", "--switch-when", "always", "--max-retries", "2"],
    ));
    ran.expect_code(254)
        .expect_logged(&["body is not JSON: not json"]);
    assert_eq!(stub.lines(), vec!["GET /status", "GET /status"]);
}

#[test]
fn posts_answered_500_that_left_nothing_are_ridden_out_past_max_retries() {
    // pg-backup-api serve under load (make e2e, scenario 6): its
    // configuration race answers a POST 500 before any job file is written,
    // for longer than --max-retries x --retry-wait. Nothing was created, so
    // nothing counts; the list after each one shows it. Two 500s against
    // one attempt: the pauses (a second, plus up to 2 s then 4 s of spread)
    // are the real server's, whatever --retry-wait says.
    let stub = Scenario::real()
        .fault_at(Route::Create, 0, 2, Action::empty(500))
        .start();
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &[
            "--barman-model=main-pg1",
            "--switch-when=promoted",
            "--max-retries=1",
            "--retry-wait=0.1",
        ],
    ));
    ran.expect_code(0)
        .expect_not_logged(&["Attempt ", "ERROR"])
        .expect_logged(&["(collision 2)"]);
    let routes: Vec<String> = stub.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(
        routes.iter().filter(|r| *r == "create").count(),
        3,
        "{routes:?}"
    );
}
