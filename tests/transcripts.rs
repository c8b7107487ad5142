//! The main stories of each subcommand as whole, redacted transcripts
//! (tests/common/transcript.rs): exit code, every log line in order, stdout,
//! and every request the stub received. `PATRONI_BARMAN_BLESS=1 cargo test
//! --test transcripts` rewrites tests/transcripts/ after a deliberate change.

mod common;
use common::*;
use patroni_barman::sub::Sub;

fn switch(stub: &Stub, role: &str, extra: &[&str]) -> Ran {
    let mut args = vec!["--barman-model=main-pg1", "--switch-when=promoted"];
    args.extend(extra);
    run_strings(&switch_args(&stub.url(), role, &args))
}

#[test]
fn recover_stories() {
    let done = Scenario::real().course(Course::DoneAfterPolls(2)).start();
    let ran = run_strings(&recover_args(&done.url(), &[]));
    expect_transcript("recover-done", &ran, Some(&done));

    let failed = Scenario::real().course(Course::FailedAfterPolls(1)).start();
    let ran = run_strings(&recover_args(&failed.url(), &[]));
    expect_transcript("recover-failed", &ran, Some(&failed));

    let retried = Scenario::real()
        .fault_at(
            Route::Poll,
            0,
            2,
            Action::page(502, "<title>502 Bad Gateway</title>"),
        )
        .start();
    let ran = run_strings(&recover_args(&retried.url(), &[]));
    expect_transcript("recover-retried", &ran, Some(&retried));

    let elsewhere = Scenario::real().course(Course::DoneElsewhere(0.0)).start();
    let ran = run_strings(&recover_args(&elsewhere.url(), &[]));
    expect_transcript("recover-not-here", &ran, Some(&elsewhere));
}

#[test]
fn recover_terminated_while_it_polls() {
    let stub = Scenario::real().course(Course::Stuck).start();
    // The pause after the first poll is 0.25 s: the signal comes in it.
    let args = recover_args(&stub.url(), &["--loop-wait=10"]);
    let ran = signalled_after_polls(&args, &stub, 0, "TERM");
    // How many polls came before the signal varies: not the requests.
    expect_transcript("recover-terminated", &ran, None);
}

#[test]
fn config_switch_stories() {
    let done = Scenario::real().start();
    expect_transcript("switch-done", &switch(&done, "primary", &[]), Some(&done));

    let skipped = Scenario::real().start();
    expect_transcript(
        "switch-skipped",
        &switch(&skipped, "replica", &[]),
        Some(&skipped),
    );

    let failed = Scenario::real().course(Course::FailedAfterPolls(0)).start();
    expect_transcript(
        "switch-failed",
        &switch(&failed, "primary", &[]),
        Some(&failed),
    );

    let collided = Scenario::real()
        .fault(Route::Create, Action::Collide)
        .start();
    let ran = switch(&collided, "primary", &[]);
    expect_transcript("switch-collided", &ran, Some(&collided));
}

#[test]
fn check_and_wait_stories() {
    let stub = Scenario::real().start();
    let ran = run(&[
        "--api-url",
        &stub.url(),
        "check",
        "--barman-server=main",
        "--barman-model=main-pg1",
    ]);
    expect_transcript("check-ok", &ran, Some(&stub));

    let stub = Scenario::real()
        .existing_recovery("20261101T000000", "DONE")
        .start();
    let mut args: Vec<String> = ["--api-url", &stub.url(), "wait", "--barman-server=main"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push("--operation-id=20261101T000000".into());
    args.extend(FAST.iter().map(|s| s.to_string()));
    expect_transcript("wait-done", &run_strings(&args), Some(&stub));
}

#[test]
fn usage_errors() {
    // Every subcommand without its required options (a new one does not
    // build until it has its transcript), and bad values.
    let bare = Sub::ALL.map(|sub| {
        let name = match sub {
            Sub::Recover => "usage-recover-bare",
            Sub::ConfigSwitch => "usage-switch-bare",
            Sub::Check => "usage-check-bare",
            Sub::Wait => "usage-wait-bare",
        };
        (name, vec!["--api-url", "http://127.0.0.1:9", sub.name()])
    });
    let others = [
        (
            "usage-no-subcommand",
            vec!["--api-url", "http://127.0.0.1:9"],
        ),
        (
            "usage-bad-progress-interval",
            vec![
                "--api-url=http://127.0.0.1:9",
                "recover",
                "--barman-server=m",
                "--ssh-command=ssh x",
                "--datadir=/d",
                "--progress-interval=soon",
            ],
        ),
        (
            "usage-unknown-subcommand",
            vec!["--api-url", "http://127.0.0.1:9", "list"],
        ),
    ];
    for (name, args) in bare.into_iter().chain(others) {
        expect_transcript(name, &run(&args), None);
    }
}
