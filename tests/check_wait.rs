//! `check` before a failover needs it, and `wait` for an operation left
//! running, against the stub's `/diagnose` and operations.

mod common;
use common::*;
use std::time::Duration;

fn check(stub: &Stub, extra: &[&str]) -> Ran {
    check_server(stub, "main", extra)
}

fn check_server(stub: &Stub, server: &str, extra: &[&str]) -> Ran {
    let mut args = vec!["--api-url", &stub.url(), "check", "--barman-server", server]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    args.extend(FAST.iter().chain(extra).map(|s| s.to_string()));
    run_strings(&args)
}

/// The stdout lines that start with `tag`.
fn lines<'a>(ran: &'a Ran, tag: &str) -> Vec<&'a str> {
    ran.stdout.lines().filter(|l| l.starts_with(tag)).collect()
}

/// `check` exited 6 with exactly these FAIL lines, in order.
fn expect_failed<S: AsRef<str>>(ran: &Ran, fails: &[S]) {
    ran.expect_code(6);
    let wanted: Vec<&str> = fails.iter().map(AsRef::as_ref).collect();
    assert_eq!(lines(ran, "FAIL"), wanted, "{}", ran.stderr);
}

#[test]
fn every_check_passes_for_a_sound_node() {
    let stub = Scenario::real().active_model("main", "main-pg1").start();
    let parent = record_dir();
    let datadir = format!("--datadir={}/data", parent.display());
    let ran = check(
        &stub,
        &[
            "--barman-model",
            "main-pg2",
            &datadir,
            "--ssh-command",
            "ssh pg1",
        ],
    );
    ran.expect_code(0);
    let url = stub.url();
    let parent = parent.display();
    assert_eq!(
        ran.stdout.lines().collect::<Vec<_>>(),
        [
            format!("ok      {url}/status answers \"OK\""),
            "ok      server main is known to pg-backup-api, with 0 operations".into(),
            "ok      server main: cluster main, active model main-pg1".into(),
            "ok      model main-pg2: a model of cluster main".into(),
            "ok      backup latest: is 20261102T000000, DONE, ended 2026-11-02T00:12:03.902117+00:00"
                .into(),
            format!("ok      record of {parent}/data: kept at {parent}/.data.patroni_barman"),
        ]
    );
    let routes: Vec<String> = stub.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(routes, ["status", "list", "diagnose"], "nothing is created");
}

#[test]
fn an_unknown_model_fails_and_names_the_models() {
    let stub = Scenario::real().start();
    let ran = check(&stub, &["--barman-model", "main-pg9"]);
    expect_failed(&ran, &["FAIL    model main-pg9: not in Barman's configuration (models: main-pg1, main-pg2, other-pg1)"]);
}

#[test]
fn a_model_of_another_cluster_fails() {
    let stub = Scenario::real().start();
    let ran = check(&stub, &["--barman-model", "other-pg1"]);
    expect_failed(&ran, &["FAIL    model other-pg1: belongs to cluster other, not main: Barman would refuse the switch"]);
}

#[test]
fn reset_says_what_it_would_drop() {
    let stub = Scenario::real().active_model("main", "main-pg1").start();
    let ran = check(&stub, &["--reset"]);
    ran.expect_code(0)
        .expect_stdout(&["ok      --reset: drops the active model main-pg1\n"]);
}

#[test]
fn a_reset_fails_only_where_barman_would_refuse_it_an_unknown_server() {
    // Barman resets any server it knows; a reset can only fail on one it
    // does not know, and check says so instead of what it would drop.
    let stub = Scenario::real().start();
    let ran = check_server(&stub, "nosuch", &["--reset"]);
    ran.expect_code(6)
        .expect_stdout(&["FAIL    server nosuch: not in Barman's diagnose\n"]);
    assert!(!ran.stdout.contains("--reset: "), "{}", ran.stdout);
}

/// A stub whose server "main" has one backup, which failed.
fn only_a_failed_backup() -> Stub {
    Scenario::real()
        .backup("main", "20261101T000000", "FAILED")
        .start()
}

#[test]
fn no_done_backup_behind_latest_fails() {
    let stub = only_a_failed_backup();
    let ran = check(&stub, &["--backup-id", "latest"]);
    expect_failed(
        &ran,
        &["FAIL    backup latest: no such backup of server main"],
    );
}

#[test]
fn a_failed_backup_named_by_its_id_is_found_and_refused() {
    let stub = only_a_failed_backup();
    let ran = check(&stub, &["--backup-id", "20261101T000000"]);
    expect_failed(&ran, &["FAIL    backup 20261101T000000: FAILED, not DONE"]);
}

#[test]
fn an_unknown_backup_id_fails() {
    let stub = Scenario::real().start();
    let ran = check(&stub, &["--backup-id", "20991231T000000"]);
    expect_failed(
        &ran,
        &["FAIL    backup 20991231T000000: no such backup of server main"],
    );
}

#[test]
fn an_unknown_server_fails_twice_over() {
    let stub = Scenario::real().start();
    let ran = check_server(&stub, "nosuch", &[]);
    // The list's 404s are retried, then check goes on: it never says it
    // exits.
    ran.expect_logged(&["WARNING: Maximum number of retries exceeded; going on."])
        .expect_not_logged(&["exiting"]);
    expect_failed(
        &ran,
        &[
            "FAIL    server nosuch: HTTP 404: No barman config found for 'nosuch'",
            "FAIL    server nosuch: not in Barman's diagnose",
        ],
    );
}

#[test]
fn the_api_down_is_254() {
    let stub = Scenario::real().start();
    let url = format!("http://127.0.0.1:{}", stub.port);
    drop(stub);
    let args = [
        "--api-url",
        &url,
        "--retry-wait",
        "0.05",
        "--max-retries",
        "2",
    ];
    let ran = run(&[&args[..], &["check", "--barman-server", "main"]].concat());
    ran.expect_code(254);
    assert_eq!(
        ran.stdout,
        format!(
            "FAIL    {url}/status cannot be used (see the log): pg-backup-api is down, or \
             --api-url or the TLS options are wrong\n"
        )
    );
    ran.expect_logged(&["connection refused"]);
}

#[test]
fn a_data_directory_whose_record_cannot_be_kept_fails() {
    let stub = Scenario::real().start();
    // A file where a directory of its path would go: recover cannot make it.
    let file = scratch_dir().join("a-file");
    std::fs::write(&file, "").unwrap();
    let data = file.join("pg/data");
    let ran = check(&stub, &[&format!("--datadir={}", data.display())]);
    expect_failed(
        &ran,
        &[&format!(
            "FAIL    record of {}: {} is not a directory: recover would exit 8 before \
             sending anything; give --record-dir a directory it can write",
            data.display(),
            file.display()
        )],
    );
}

#[test]
fn a_callback_that_would_race_the_new_primary_on_demotion_is_a_warning() {
    let stub = Scenario::real().start();
    for (change, when) in [
        ("--reset", "demoted"),
        ("--barman-model=main-pg1", "always"),
    ] {
        let ran = check(&stub, &[change, "--switch-when", when]);
        ran.expect_code_for(change, 0);
        let warnings = lines(&ran, "WARNING");
        assert_eq!(warnings.len(), 1, "{}", ran.stdout);
        assert!(warnings[0].contains("on demotion") || warnings[0].contains("demoted too"));
    }
    let ran = check(
        &stub,
        &["--barman-model=main-pg1", "--switch-when", "promoted"],
    );
    ran.expect_code(0);
    assert!(lines(&ran, "WARNING").is_empty(), "{}", ran.stdout);
}

#[test]
fn options_patroni_would_pass_but_cannot_work_are_warnings() {
    let stub = Scenario::real().start();
    let ran = check(&stub, &["--datadir=pg/data", "--ssh-command="]);
    ran.expect_code(0);
    let warnings = lines(&ran, "WARNING");
    ran.expect(warnings.len() == 2, "two warnings");
    assert!(warnings[0].starts_with("WARNING --data-directory pg/data: not an absolute path"));
    assert!(warnings[1].starts_with("WARNING --ssh-command is empty"));
}

#[test]
fn a_huge_diagnose_is_refused_with_bounded_memory() {
    if skip_under_emulation("ulimit -v limits qemu's own memory, not the tool's") {
        return;
    }
    let huge = Action::Huge {
        bytes: 500_000_000,
        framing: "close",
    };
    let stub = Scenario::real().always(Route::Diagnose, huge).start();
    let mut args: Vec<String> = ["--api-url", &stub.url(), "--max-retries", "1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["check", "--barman-server", "main"].map(String::from));
    // 256 MiB of address space: reading the whole answer would not fit.
    let ran = run_limited(&args, 262_144);
    expect_failed(
        &ran,
        &[format!(
            "FAIL    GET {}/diagnose: answer refused: body over 67108864 bytes, the limit of \
             --max-diagnose 64: raise it (in MiB) for a Barman host with this many servers \
             and backups",
            stub.url()
        )],
    );
}

#[test]
fn max_diagnose_sets_the_limit_of_the_diagnose_body() {
    // 100 servers of 50 backups: about 12 MB.
    let stub = Scenario::real().diagnose_grow(100, 50).start();
    let ran = check(&stub, &["--max-diagnose", "8"]);
    ran.expect_code(6)
        .expect_stdout(&["answer refused: body over 8388608 bytes, the limit of --max-diagnose 8"]);
    check(&stub, &["--max-diagnose", "16"]).expect_code(0);
    check(&stub, &["--max-diagnose", "0"]).expect_code(64);
}

#[test]
fn a_diagnose_of_5000_backups_is_read() {
    let stub = Scenario::real().diagnose_grow(100, 50).start();
    let ran = check(&stub, &["--backup-id", "oldest"]);
    ran.expect_code(0)
        .expect_stdout(&["ok      backup oldest: is 20230101T000000, DONE"]);
}

fn wait_args(stub: &Stub, id: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["--api-url", &stub.url(), "wait", "--barman-server", "main"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["--operation-id", id].map(String::from));
    args.extend(FAST.iter().chain(extra).map(|s| s.to_string()));
    args
}

#[test]
fn wait_on_a_done_operation_exits_0() {
    let stub = Scenario::real()
        .existing_recovery("20261125T171025", "DONE")
        .start();
    let ran = run_strings(&wait_args(&stub, "20261125T171025", &[]));
    ran.expect_code(0);
    assert_eq!(
        ran.last_line(),
        "INFO: Recovery operation finished successfully."
    );
    assert_eq!(stub.posts(), 0);
}

#[test]
fn wait_on_a_failed_operation_exits_1() {
    let stub = Scenario::real()
        .existing_recovery("20261125T171025", "FAILED")
        .start();
    let ran = run_strings(&wait_args(&stub, "20261125T171025", &[]));
    ran.expect_code(1)
        .expect_logged(&["Recovery operation failed. pg-backup-api does not say why"]);
}

#[test]
fn wait_on_a_missing_operation_exits_2_and_says_it_is_not_listed() {
    // A 404 on a poll can be the real server's under load; the list tells
    // whether the operation exists at all.
    let stub = Scenario::real().start();
    let ran = run_strings(&wait_args(&stub, "20200101T000000", &[]));
    ran.expect_code(2);
    assert_eq!(
        ran.last_line(),
        "ERROR: Cannot follow operation 20200101T000000 of server main: \
         no such operation: it is not in the server's list of operations."
    );
    assert_eq!(
        stub.lines(),
        ["GET /status", "GET /servers/main/operations"]
    );
}

#[test]
fn wait_rides_out_false_404s_and_names_an_unknown_server() {
    let stub = Scenario::real()
        .existing_recovery("20261125T171025", "DONE")
        .fault_at(Route::List, 0, 2, Action::NoConfig)
        .fault_at(Route::Poll, 0, 2, Action::NoConfig)
        .start();
    let ran = run_strings(&wait_args(&stub, "20261125T171025", &[]));
    ran.expect_code(0)
        .expect_logged(&["Recovery operation finished successfully."]);
    let stub = Scenario::real().servers(&["other"]).start();
    let ran = run_strings(&wait_args(
        &stub,
        "20261125T171025",
        &["--max-retries", "2"],
    ));
    ran.expect_code(2)
        .expect_last_line_starting("ERROR: pg-backup-api does not know server main");
}

#[test]
fn wait_stops_at_max_wait_and_the_printed_command_resumes_it() {
    // A recover gives up at --max-wait; the command its last line prints,
    // pasted into a shell, follows the same operation to its end.
    let stub = Scenario::real().course(Course::DoneAfter(1.5)).start();
    let ran = run_strings(&recover_args(&stub.url(), &["--max-wait", "0.2"]));
    ran.expect_code(5);
    let last = ran.last_line();
    let command = last
        .split("Resume with: ")
        .nth(1)
        .expect("a resume command");
    let id = stub
        .requests()
        .iter()
        .find_map(|r| r.created.clone())
        .unwrap();
    assert!(
        command.ends_with(&format!("--operation-id {id}")),
        "{command}"
    );
    // `patroni_barman` on PATH is the binary under test.
    let dir = scratch_dir();
    write_launcher(&dir.join("patroni_barman"));
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap());
    let mut shell = std::process::Command::new("sh");
    shell.args(["-c", command]).env("PATH", path);
    let resumed = run_command(&mut shell, Duration::from_secs(30));
    resumed
        .expect_code(0)
        .expect_logged(&[&format!("Recovery operation {id} is still in progress")]);
    let posts = stub
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1, "the resume created nothing");
}

#[test]
fn wait_at_max_wait_exits_5() {
    let stub = Scenario::real()
        .existing_recovery("20261125T171025", "DONE")
        .always(
            Route::Poll,
            Action::json(r#"{"operation_id": "20261125T171025", "status": "IN_PROGRESS"}"#),
        )
        .start();
    let ran = run_strings(&wait_args(&stub, "20261125T171025", &["--max-wait", "0.3"]));
    ran.expect_code(5).expect_last_line_starting(
        "ERROR: Stopped waiting after --max-wait 0.3 s: recovery operation 20261125T171025 \
         is still running",
    );
}
