//! A server with years of history: pg-backup-api never deletes a job, so
//! its list of operations only grows (src/api/list.rs reads it as it
//! arrives). Every subcommand that reads the list works with 30,000
//! entries (1.4 MB) in 64 MiB of address space, and a recover's record
//! stays one line whatever the list holds.

mod common;
use common::*;
use std::process::Stdio;
use std::time::{Duration, Instant};

const HISTORY: &str = "30000";
/// 64 MiB of address space for the tool.
const LIMIT_KIB: u64 = 65_536;

fn long_history() -> Scenario {
    Scenario::real().key("history", HISTORY)
}

fn skipped_under_emulation() -> bool {
    skip_under_emulation("ulimit -v limits qemu's own memory, not the tool's")
}

#[test]
fn recover_and_config_switch_read_a_list_of_30000_operations() {
    if skipped_under_emulation() {
        return;
    }
    let stub = long_history().start();
    let ran = run_limited(&recover_args(&stub.url(), &[]), LIMIT_KIB);
    ran.expect_code(0).expect_not_logged(&["WARNING", "ERROR"]);
    assert_eq!(stub.posts(), 1);
    // Another stub: two POSTs in one second would collide.
    let stub = long_history().start();
    let ran = run_limited(
        &switch_args(
            &stub.url(),
            "primary",
            &["--barman-model=main-pg1", "--switch-when=promoted"],
        ),
        LIMIT_KIB,
    );
    ran.expect_code(0).expect_not_logged(&["WARNING", "ERROR"]);
    assert_eq!(stub.posts(), 1);
}

#[test]
fn check_counts_and_wait_finds_its_operation_among_30000() {
    if skipped_under_emulation() {
        return;
    }
    let stub = long_history().start();
    let check: Vec<String> = ["--api-url", &stub.url(), "check", "--barman-server=main"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let ran = run_limited(&check, LIMIT_KIB);
    ran.expect_code(0)
        .expect_stdout(&["ok      server main is known to pg-backup-api, with 30000 operations"]);
    let mut wait: Vec<String> = ["--api-url", &stub.url(), "wait", "--barman-server=main"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    wait.extend(["--operation-id".into(), "20190101T000000".into()]);
    wait.extend(FAST.iter().map(|s| s.to_string()));
    let ran = run_limited(&wait, LIMIT_KIB);
    ran.expect_code(0)
        .expect_logged(&["INFO: Recovery operation finished successfully."]);
}

#[test]
fn a_pending_record_names_one_id_whatever_the_list_holds() {
    // The POST hangs after creating: the record says "pending" meanwhile.
    let stub = long_history()
        .fault(Route::Create, Action::AfterCreate("hang"))
        .start();
    let args = recover_args(&stub.url(), &["--http-timeout=30"]);
    let mut child = command()
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let records = records_in(&args);
    let record = loop {
        let text = std::fs::read_dir(&records)
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
            .find(|text| text.contains("newest_before"));
        if let Some(text) = text {
            break text;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "never pending");
        std::thread::sleep(Duration::from_millis(10));
    };
    send_signal(&child, "KILL");
    let _ = child.wait();
    // Every tenth of the history is a recovery; the newest is the 29,991st.
    assert!(
        record.contains(r#""newest_before":"20220603T140000""#),
        "{record}"
    );
    assert!(record.len() < 300, "{} bytes: {record}", record.len());
}

#[test]
fn a_list_over_256_mib_is_refused() {
    let huge = Action::Huge {
        bytes: 300_000_000,
        framing: "length",
    };
    let stub = Scenario::real().fault(Route::List, huge).start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(2)
        .expect_logged(&["answer refused: body over 268435456 bytes (not retried)."]);
    assert_eq!(stub.posts(), 0);
}
