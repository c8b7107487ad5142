//! `recover` against the stub API: every exit code, Patroni's calling
//! conventions, and the exact requests sent.

mod common;
use common::*;

fn created_id(ran: &Ran) -> String {
    let line = ran
        .log()
        .into_iter()
        .find(|l| l.contains("Created the recovery operation with ID "))
        .unwrap();
    line.rsplit(' ').next().unwrap().to_string()
}

#[test]
fn done_exits_0_after_polling_with_exact_requests() {
    let stub = Scenario::real().course(Course::DoneAfterPolls(2)).start();
    let args = recover_args(&stub.url(), &[]);
    let ran = run_strings(&args);
    ran.expect_code(0);
    let id = created_id(&ran);
    assert_eq!(
        ran.log(),
        vec![
            "INFO: Ignoring option --scope, which patroni_barman does not use.".to_string(),
            format!("INFO: Created the recovery operation with ID {id}"),
            format!("INFO: Recovery operation {id} is still in progress"),
            format!("INFO: Recovery operation {id} is still in progress"),
            "INFO: Recovery operation finished successfully.".to_string(),
        ]
    );
    let poll = format!("GET /servers/main/operations/{id}");
    assert_eq!(
        stub.lines(),
        vec![
            "GET /status",
            "GET /servers/main/operations",
            "POST /servers/main/operations",
            &poll,
            &poll,
            &poll
        ]
    );
    let post = &stub.requests()[2];
    assert_eq!(post.header("content-type"), Some("application/json"));
    let data = data_dir_in(&args).display().to_string();
    assert_eq!(
        post.json(),
        format!(
            r#"{{"backup_id":"latest","destination_directory":"{data}","remote_ssh_command":"ssh postgres@pg1","type":"recovery"}}"#
        )
    );
}

#[test]
fn failed_operation_exits_1() {
    let stub = Scenario::real().course(Course::FailedAfterPolls(1)).start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(1)
        .expect_last_line_starting("ERROR: Recovery operation failed.");
}

#[test]
fn unknown_server_exits_2_within_the_retry_budget_and_says_so() {
    // Under load the real server denies servers that exist: a 404 is one
    // failed try, and one that persists ends within --max-retries.
    let stub = Scenario::real().servers(&["other"]).start();
    let ran = run_strings(&recover_args(&stub.url(), &["--max-retries", "3"]));
    ran.expect_code(2)
        .expect_logged(&[
            "Attempt 3 of 3 on GET",
            "HTTP 404: No barman config found for 'main'",
        ])
        .expect_last_line_starting(
            "ERROR: pg-backup-api does not know server main (it answered HTTP 404 \"No barman \
             config found for 'main'\" to every attempt): check --barman-server",
        );
    let mut expected = vec!["GET /status"];
    expected.extend(["GET /servers/main/operations"; 3]);
    assert_eq!(stub.lines(), expected);
}

#[test]
fn false_404s_on_the_list_and_the_post_are_ridden_out() {
    // pg-backup-api serve under load: the list and the POST of a server
    // that exists answer 404 now and then.
    let stub = Scenario::real()
        .fault_at(Route::List, 0, 2, Action::NoConfig)
        .fault_at(Route::Create, 0, 2, Action::NoConfig)
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0).expect_logged(&[
        "HTTP 404: No barman config found for 'main'; retrying",
        "HTTP 404: Server 'main' does not exist; retrying",
    ]);
    let routes: Vec<String> = stub.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(
        routes,
        ["status", "list", "list", "list", "create", "create", "create", "poll"]
    );
    assert_eq!(
        stub.requests()
            .iter()
            .filter(|r| r.created.is_some())
            .count(),
        1
    );
}

#[test]
fn unknown_backup_exits_2_and_shows_why() {
    let stub = Scenario::real().start();
    let mut args = recover_args(&stub.url(), &[]);
    args.push("--backup-id=20200101T000000".into());
    let ran = run_strings(&args);
    ran.expect_code(2)
        .expect_logged(&["HTTP 404: Backup '20200101T000000' does not exist"])
        .expect_last_line_starting(
            "ERROR: pg-backup-api does not know that backup of server main (it answered \
             HTTP 404 \"Backup '20200101T000000' does not exist\" to every attempt): check \
             --backup-id.",
        );
    // A 404 is retried (the real server gives false ones under load).
    assert_eq!(
        stub.lines()
            .iter()
            .filter(|l| l.starts_with("POST"))
            .count(),
        5
    );
}

#[test]
fn status_not_ok_exits_254_and_creates_nothing() {
    let stub = Scenario::real().status_body(r#""MAINTENANCE""#).start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(254)
        .expect_logged(&[r#"answered "MAINTENANCE", expected "OK""#]);
    assert_eq!(stub.lines(), vec!["GET /status"]);
}

#[test]
fn unreachable_api_exits_254_after_the_retries() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ran = run_strings(&recover_args(
        &format!("http://127.0.0.1:{port}"),
        &["--max-retries", "3"],
    ));
    ran.expect_code(254);
    let attempts = ran
        .log()
        .iter()
        .filter(|l| l.contains("status failed: cannot connect: connection refused"))
        .count();
    ran.expect(attempts == 3, "3 attempts")
        .expect_logged(&["Maximum number of retries exceeded, exiting."]);
}

#[test]
fn replica_method_call_with_empty_connstring_and_path_prefix() {
    let stub = Scenario::real().prefix("/pgbackup").start();
    let url = format!("{}/pgbackup", stub.url());
    // The record goes beside the data directory, in its parent.
    let datadir = format!("--datadir={}", record_dir().join("replica").display());
    let ran = run(&[
        "--api-url",
        &url,
        "recover",
        "--scope=batman",
        &datadir,
        "--role=replica",
        "--connstring=",
        "--barman-server=main",
        "--backup-id=oldest",
        "--ssh-command=ssh -p 2222 postgres@pg2",
        "--loop-wait=0.05",
    ]);
    ran.expect_code(0);
    for option in ["--scope", "--role", "--connstring"] {
        ran.expect_logged(&[&format!("Ignoring option {option},")]);
    }
    let requests = stub.requests();
    assert!(
        requests.iter().all(|r| r.path.starts_with("/pgbackup/")),
        "{:?}",
        stub.lines()
    );
    assert!(
        requests[2].body.contains(r#""backup_id":"oldest""#),
        "{}",
        requests[2].body
    );
    assert!(requests[2]
        .body
        .contains(r#""remote_ssh_command":"ssh -p 2222 postgres@pg2""#));
}

#[test]
fn global_options_from_the_method_section_come_after_the_subcommand() {
    let stub = Scenario::real().prefix("/pgbackup").start();
    let api_url = format!("--api-url={}/pgbackup/", stub.url());
    let datadir = format!("--datadir={}", record_dir().join("data").display());
    let ran = run(&[
        "recover",
        "--scope=batman",
        &datadir,
        &api_url,
        "--barman-server=main",
        "--ssh-command=ssh postgres@pg1",
        "--loop-wait=0.05",
        "--max-retries=2",
    ]);
    ran.expect_code(0);
    assert_eq!(stub.lines()[0], "GET /pgbackup/status");
}

#[test]
fn odd_server_names_stay_one_encoded_segment() {
    let stub = Scenario::real().servers(&["pg main/1", ".."]).start();
    for (name, encoded) in [("pg main/1", "pg%20main%2F1"), ("..", "%2E%2E")] {
        let mut args = recover_args(&stub.url(), &[]);
        args.retain(|a| a != "--barman-server=main");
        args.push(format!("--barman-server={name}"));
        let ran = run_strings(&args);
        let post = stub
            .requests()
            .into_iter()
            .rfind(|r| r.method == "POST")
            .unwrap();
        assert_eq!(post.path, format!("/servers/{encoded}/operations"));
        // The stub decodes each segment on its own, as a proxy keeping %2F
        // would (Werkzeug itself routes a decoded "/" apart: a 404 there).
        ran.expect_code_for(name, 0);
        let polled = stub.requests().pop().unwrap();
        assert!(polled
            .path
            .starts_with(&format!("/servers/{encoded}/operations/")));
    }
}

#[test]
fn a_fifo_nobody_reads_as_log_file_is_no_hang_and_the_run_goes_on() {
    let fifo = scratch_dir().join("log.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let stub = Scenario::real().start();
    let mut args = recover_args(&stub.url(), &[]);
    args.push(format!("--log-file={}", fifo.display()));
    let ran = run_strings(&args);
    ran.expect_code(0).expect_logged(&[
        &format!(
            "WARNING: Cannot open --log-file {}: a FIFO that no process reads; logging to stderr instead.",
            fifo.display()
        ),
        "Recovery operation finished successfully.",
    ]);
}

#[test]
fn a_log_file_that_cannot_be_written_falls_back_to_stderr() {
    let stub = Scenario::real().start();
    let mut args = recover_args(&stub.url(), &[]);
    args.push("--log-file=/dev/full".into());
    let ran = run_strings(&args);
    ran.expect_code(0)
        .expect(
            ran.stderr
                .starts_with("patroni_barman: cannot write to --log-file (No space left on device"),
            "stderr starts with the --log-file error",
        )
        .expect_logged(&["Recovery operation finished successfully."]);
    assert_eq!(ran.stderr.matches("cannot write").count(), 1);
}

#[test]
fn log_file_gets_the_lines_appended_and_stderr_stays_empty() {
    let stub = Scenario::real().start();
    let dir = scratch_dir();
    let log = dir.join("barman.log");
    std::fs::write(&log, "earlier line\n").unwrap();
    let mut args = recover_args(&stub.url(), &[]);
    args.push(format!("--log-file={}", log.display()));
    let ran = run_strings(&args);
    ran.expect_code(0);
    assert_eq!(ran.stderr, "");
    let text = std::fs::read_to_string(&log).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    assert_eq!(first, "earlier line");
    assert!(log_messages(rest)
        .last()
        .unwrap()
        .ends_with("Recovery operation finished successfully."));
}

#[test]
fn a_log_file_that_cannot_be_opened_costs_nothing_but_a_warning() {
    // on_role_change runs only during a failover: a log file in a missing
    // directory must not cost the config switch.
    let stub = Scenario::real().start();
    let mut args = switch_args(
        &stub.url(),
        "primary",
        &["--reset", "--switch-when", "always"],
    );
    args.push("--log-file=/nonexistent/dir/x.log".into());
    let ran = run_strings(&args);
    ran.expect_code(0);
    let first = ran.log().remove(0);
    assert_eq!(
        first,
        "WARNING: Cannot open --log-file /nonexistent/dir/x.log: No such file or directory \
         (os error 2); logging to stderr instead."
    );
    ran.expect_logged(&["Config switch operation finished successfully."]);
}
