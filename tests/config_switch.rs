//! `config-switch` as Patroni's on_role_change callback, against the stub.

mod common;
use common::*;

#[test]
fn promoted_primary_applies_the_model_and_exits_0() {
    let stub = Stub::start(r#"{"operations": [{"in_progress_polls": 1, "result": "DONE"}]}"#);
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
    let stub = Stub::start("{}");
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
    let stub = Stub::start("{}");
    let ran = run_strings(&switch_args(
        &stub.url(),
        "master",
        &["--barman-model=m", "--switch-when=promoted"],
    ));
    ran.expect_code(0);
}

#[test]
fn role_not_matching_exits_1_and_sends_nothing() {
    let stub = Stub::start("{}");
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
    let stub = Stub::start(r#"{"operations": [{"result": "FAILED"}]}"#);
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--barman-model", "nosuch", "--switch-when", "always"],
    ));
    ran.expect_code(2);
    assert!(
        ran.logged("ERROR: Config switch operation failed."),
        "{}",
        ran.stderr
    );
}

#[test]
fn api_error_exits_3_with_the_api_message() {
    let stub = Stub::start(r#"{"servers": ["other"]}"#);
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--barman-model", "m", "--switch-when", "always"],
    ));
    ran.expect_code(3);
    assert!(
        ran.logged("HTTP 404: No barman config found for 'main'"),
        "{}",
        ran.stderr
    );
}

#[test]
fn invalid_model_or_reset_exits_4_and_sends_nothing() {
    let stub = Stub::start("{}");
    for extra in [
        &["--barman-model="][..],
        &[],
        &["--barman-model", "m", "--reset"],
    ] {
        let mut options = vec!["--switch-when", "always"];
        options.extend_from_slice(extra);
        let ran = run_strings(&switch_args(&stub.url(), "primary", &options));
        assert_eq!(ran.code, 4, "{extra:?}: {}", ran.stderr);
        assert!(
            ran.log()[0].starts_with("ERROR: Invalid config switch: "),
            "{}",
            ran.stderr
        );
    }
    assert!(stub.requests().is_empty());
}

#[test]
fn status_not_ok_exits_254() {
    let stub = Stub::start(r#"{"status_body": "not json"}"#);
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &["--reset", "--switch-when", "always", "--max-retries", "2"],
    ));
    ran.expect_code(254);
    assert!(ran.logged("body is not JSON: not json"), "{}", ran.stderr);
    assert_eq!(stub.lines(), vec!["GET /status", "GET /status"]);
}
