//! Years in production: JSON log lines for log shippers (src/log.rs), the
//! metrics file for alerting (src/metrics.rs), and secrets kept out of the
//! process list (src/secrets.rs).

mod common;
use common::*;
use miniserde::json::{self, Number, Object, Value};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Every line of `text` as a JSON object; panics on a line that is not one.
fn objects(text: &str) -> Vec<Object> {
    text.lines()
        .map(|line| match json::from_str::<Value>(line) {
            Ok(Value::Object(object)) => object,
            _ => panic!("not a JSON object: {line:?}"),
        })
        .collect()
}

fn text<'a>(object: &'a Object, key: &str) -> Option<&'a str> {
    match object.get(key) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn number(object: &Object, key: &str) -> Option<u64> {
    match object.get(key) {
        Some(Value::Number(Number::U64(n))) => Some(*n),
        _ => None,
    }
}

/// Error pages with what a hostile or broken server may send: controls, a
/// bidi override, quotes, backslashes, and a byte that is not UTF-8 (the
/// stub sends raw text as latin-1: \u{ff} is the byte 0xff).
const NOT_UTF8: &str = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n\
    Content-Length: 14\r\nConnection: close\r\n\r\n<p>bad \u{ff} \x07</p>";
const HOSTILE: &str = "<p>bad \x1b[31m\"q\" \\ \u{e9}\u{202e}x</p>";

fn hostile() -> Scenario {
    Scenario::real()
        .fault_at(Route::List, 0, 1, Action::Raw(NOT_UTF8))
        .fault_at(Route::List, 1, 1, Action::page(500, HOSTILE))
}

#[test]
fn json_lines_parse_back_whatever_the_server_said() {
    let stub = hostile().course(Course::DoneAfterPolls(1)).start();
    let log_file = scratch_dir().join("tool.log");
    let mut args = recover_args(&stub.url(), &["--log-format=json"]);
    let ran = run_strings(&args);
    ran.expect_code(0);
    args.push(format!("--log-file={}", log_file.display()));
    let stub_again = hostile().start();
    let url = stub.url();
    args.iter_mut()
        .filter(|a| a.contains(&url))
        .for_each(|a| *a = a.replace(&url, &stub_again.url()));
    let in_file = run_strings(&args);
    in_file.expect_code(0);
    assert_eq!(in_file.stderr, "", "all of it goes to the file");
    for lines in [
        objects(&ran.stderr),
        objects(&std::fs::read_to_string(&log_file).unwrap()),
    ] {
        let id = stub.requests().iter().find_map(|r| r.created.clone());
        for (n, line) in lines.iter().enumerate() {
            let asctime = text(line, "asctime").unwrap();
            assert_eq!(asctime.len(), "2026-12-07 00:47:16,648".len(), "{asctime}");
            assert!(["INFO", "WARNING", "ERROR"].contains(&text(line, "levelname").unwrap()));
            assert!(text(line, "message").is_some());
            assert_eq!(text(line, "subcommand"), Some("recover"));
            assert_eq!(text(line, "server"), Some("main"));
            let last = n + 1 == lines.len();
            assert_eq!(number(line, "exit_code").is_some(), last, "{n}");
            if last {
                assert_eq!(number(line, "exit_code"), Some(0));
                assert_eq!(text(line, "message"), Some("Exit code 0."));
            }
        }
        let retried: Vec<&str> = lines
            .iter()
            .filter(|l| text(l, "levelname") == Some("WARNING"))
            .map(|l| text(l, "message").unwrap())
            .collect();
        assert_eq!(retried.len(), 2, "{retried:?}");
        // The server's own text, read back: invalid UTF-8 replaced.
        assert!(retried[0].contains("bad \u{fffd}"), "{:?}", retried[0]);
        // As the tool words a server's text: controls and bidi dropped.
        assert!(
            retried[1].contains("bad [31m\"q\" \\ \u{e9}x"),
            "{:?}",
            retried[1]
        );
        assert!(lines
            .iter()
            .take(2)
            .all(|l| text(l, "operation_id").is_none()));
        let created = lines
            .iter()
            .position(|l| {
                text(l, "message")
                    .unwrap()
                    .starts_with("Created the recovery")
            })
            .unwrap();
        if lines.len() == objects(&ran.stderr).len() {
            assert!(lines[created..]
                .iter()
                .all(|l| text(l, "operation_id") == id.as_deref()));
        }
    }
}

#[test]
fn json_fields_keep_a_strange_server_name_as_it_is_on_one_line() {
    let name = "ma\u{1b}[31min\u{202e}\"\n";
    let stub = Scenario::real().servers(&[name]).start();
    let mut args = recover_args(&stub.url(), &["--log-format=json"]);
    args.retain(|a| !a.starts_with("--barman-server"));
    args.push(format!("--barman-server={name}"));
    let ran = run_strings(&args);
    ran.expect_code(0);
    for line in objects(&ran.stderr) {
        assert_eq!(text(&line, "server"), Some(name));
    }
    // Raw, the escape, the bidi override and the newline are \u escapes.
    assert!(
        ran.stderr.contains(r#"ma\u001b[31min\u202e\"\u000a""#),
        "{}",
        ran.stderr
    );
}

#[test]
fn the_signals_last_line_is_json_with_its_exit_code() {
    let stub = Scenario::real().course(Course::Stuck).start();
    let args = recover_args(&stub.url(), &["--log-format", "json"]);
    let ran = signalled_after_polls(&args, &stub, 0, "TERM");
    ran.expect_code(143);
    let lines = objects(&ran.stderr);
    let last = lines.last().unwrap();
    assert_eq!(text(last, "levelname"), Some("ERROR"));
    assert!(text(last, "message")
        .unwrap()
        .starts_with("Terminated by SIGTERM: "));
    assert_eq!(number(last, "exit_code"), Some(143));
    assert!(text(last, "operation_id").is_some());
}

#[test]
fn usage_errors_before_the_option_is_read_stay_plain() {
    let ran = run(&[
        "--log-format=json",
        "--api-url",
        "http://127.0.0.1:9",
        "recover",
    ]);
    ran.expect_code(64);
    assert!(
        ran.stderr
            .starts_with("patroni_barman: error: --barman-server"),
        "{}",
        ran.stderr
    );
}

/// The samples of a metrics file: name{labels} -> value, after checking
/// that every line is a comment or a sample without a timestamp.
fn samples(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(name.ends_with('}'), "one value, no timestamp: {line}");
            assert!(value.parse::<f64>().is_ok(), "{line}");
            (name.to_string(), value.to_string())
        })
        .collect()
}

fn sample<'a>(all: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let labels = r#"{subcommand="config-switch",server="main"}"#;
    let wanted = format!("patroni_barman_{name}{labels}");
    all.iter()
        .find(|(n, _)| *n == wanted)
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_metrics_file_says_how_each_run_ended_and_keeps_the_last_success() {
    let dir = scratch_dir();
    let metrics = dir.join("patroni_barman_switch.prom");
    let flag = format!("--metrics-file={}", metrics.display());
    let switch = |stub: &Stub| {
        run_strings(&switch_args(
            &stub.url(),
            "primary",
            &["--barman-model=main-pg1", "--switch-when=promoted", &flag],
        ))
    };
    let good = Scenario::real().start();
    switch(&good).expect_code(0);
    let first = samples(&metrics);
    assert_eq!(first.len(), 4, "{first:?}");
    assert_eq!(sample(&first, "last_exit_code"), Some("0"));
    let success = sample(&first, "last_success_timestamp_seconds").unwrap();
    assert_eq!(sample(&first, "last_run_timestamp_seconds"), Some(success));
    let took: f64 = sample(&first, "last_run_duration_seconds")
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.0..10.0).contains(&took), "{took}");
    let inode = std::fs::metadata(&metrics).unwrap().ino();
    // A failed switch: its code, and the success of before kept.
    let down = Scenario::real().status_body("\"DOWN\"").start();
    switch(&down).expect_code(254);
    let second = samples(&metrics);
    assert_eq!(sample(&second, "last_exit_code"), Some("254"));
    assert_eq!(
        sample(&second, "last_success_timestamp_seconds"),
        Some(success)
    );
    assert_ne!(sample(&second, "last_run_timestamp_seconds"), Some(success));
    // Replaced by a rename, with nothing left beside it.
    assert_ne!(std::fs::metadata(&metrics).unwrap().ino(), inode);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["patroni_barman_switch.prom"]);
}

#[test]
fn a_metrics_file_that_cannot_be_written_costs_a_warning_not_the_exit_code() {
    let stub = Scenario::real().start();
    let nowhere = scratch_dir().join("no/such/dir/m.prom");
    let ran = run_strings(&switch_args(
        &stub.url(),
        "primary",
        &[
            "--barman-model=main-pg1",
            "--switch-when=promoted",
            &format!("--metrics-file={}", nowhere.display()),
        ],
    ));
    ran.expect_code(0).expect_logged(&[&format!(
        "WARNING: Cannot write --metrics-file {}: ",
        nowhere.display()
    )]);
    assert_eq!(
        ran.log()
            .iter()
            .filter(|l| l.starts_with("WARNING"))
            .count(),
        1
    );
}

#[test]
fn recovers_metrics_give_the_bytes_restored_and_a_signal_writes_them_too() {
    let stub = Scenario::real()
        .course(Course::Restores {
            seconds: 0.2,
            bytes: 100_000,
            tablespace: 0,
        })
        .course(Course::Stuck)
        .start();
    let metrics = scratch_dir().join("recover.prom");
    let flag = format!("--metrics-file={}", metrics.display());
    run_strings(&recover_args(&stub.url(), &[&flag])).expect_code(0);
    let text = std::fs::read_to_string(&metrics).unwrap();
    let restored = text
        .lines()
        .find(|l| l.starts_with("patroni_barman_last_restored_bytes{subcommand=\"recover\""))
        .unwrap();
    let bytes: u64 = restored.rsplit_once(' ').unwrap().1.parse().unwrap();
    // The base files, PG_VERSION and pg_control.
    assert_eq!(bytes, 100_000 + 3 + 8192, "{restored}");
    // Terminated while it polls a stuck operation: 143 in the file.
    let polled = stub.requests().iter().filter(|r| r.route == "poll").count();
    let args = recover_args(&stub.url(), &[&flag]);
    signalled_after_polls(&args, &stub, polled, "TERM").expect_code(143);
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains("patroni_barman_last_exit_code{subcommand=\"recover\",server=\"main\"} 143"),
        "{text}"
    );
    assert!(
        text.contains("last_success_timestamp_seconds{"),
        "kept: {text}"
    );
}

#[test]
fn the_api_password_comes_from_a_file_and_loose_modes_are_warned_about() {
    let stub = Scenario::real().start();
    let dir = scratch_dir();
    let password = dir.join("api-password");
    std::fs::write(&password, "s3cr:t\n").unwrap();
    std::fs::set_permissions(&password, std::fs::Permissions::from_mode(0o600)).unwrap();
    let url = stub.url().replace("http://", "http://patroni@");
    let flag = format!("--api-password-file={}", password.display());
    let args = [
        "--barman-model=main-pg1",
        "--switch-when=promoted",
        flag.as_str(),
    ];
    let ran = run_strings(&switch_args(&url, "primary", &args));
    ran.expect_code(0).expect_not_logged(&["WARNING", "s3cr"]);
    // base64("patroni:s3cr:t")
    for request in stub.requests() {
        assert_eq!(
            request.header("authorization"),
            Some("Basic cGF0cm9uaTpzM2NyOnQ=")
        );
    }
    // Readable by others: one WARNING each, naming the mode; the run goes on.
    let key = dir.join("client.key");
    std::fs::write(&key, "not used over http").unwrap();
    for file in [&password, &key] {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let key_flag = format!("--key-file={}", key.display());
    let mut loose = args.to_vec();
    loose.push(&key_flag);
    let stub = Scenario::real().start();
    let url = stub.url().replace("http://", "http://patroni@");
    let ran = run_strings(&switch_args(&url, "primary", &loose));
    ran.expect_code(0).expect_logged(&[
        &format!(
            "WARNING: --api-password-file {} may be read by others (mode 0644): chmod",
            password.display()
        ),
        &format!(
            "WARNING: --key-file {} may be read by others (mode 0644): chmod",
            key.display()
        ),
    ]);
    // Without a user in the URL, or with a password there too: usage errors.
    for (url, why) in [
        (stub.url(), "needs a user in --api-url"),
        (stub.url().replace("http://", "http://u:p@"), "not both"),
    ] {
        let ran = run_strings(&switch_args(&url, "primary", &args));
        ran.expect_code_for(why, 64);
        assert!(ran.stderr.contains(why), "{}", ran.stderr);
    }
}
