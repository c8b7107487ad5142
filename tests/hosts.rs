//! What real hosts do to a run: Patroni's signals, thread limits, a full
//! stderr, runs that collide on one Barman server.

mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `signal_when` of tests/common, 0.1 s into the request or the pause
/// that follows what the stub saw.
fn signal_when(args: &[String], stub: &Stub, ready: impl Fn(&[Seen]) -> bool, signal: &str) -> Ran {
    common::signal_when(args, stub, ready, Duration::from_millis(100), signal)
}

fn polled(requests: &[Seen]) -> bool {
    requests.iter().any(|r| r.route == "poll")
}

fn created_id(stub: &Stub) -> String {
    stub.requests()
        .iter()
        .find_map(|r| r.created.clone())
        .expect("an operation was created")
}

#[test]
fn sigterm_during_a_poll_names_the_operation_that_goes_on() {
    let stub = Scenario::real().always(Route::Poll, Action::Hang).start();
    let args = recover_args(&stub.url(), &["--http-timeout", "30"]);
    let ran = signal_when(&args, &stub, polled, "TERM");
    ran.expect_code(143);
    let id = created_id(&stub);
    assert_eq!(
        ran.last_line(),
        format!(
            "ERROR: Terminated by SIGTERM: the recovery operation {id} goes on on the Barman \
             host; follow it at {url}/servers/main/operations/{id}. Resume with: \
             patroni_barman --api-url {url} wait --barman-server main --operation-id {id}",
            url = stub.url()
        )
    );
    assert!(ran.elapsed < Duration::from_secs(5), "{:?}", ran.elapsed);
}

#[test]
fn sigterm_during_a_pause_between_polls_names_the_operation_too() {
    // A poll fails, and the run pauses 10 s before the next one.
    let stub = Scenario::real()
        .course(Course::Stuck)
        .always(Route::Poll, Action::empty(502))
        .start();
    let log = scratch_dir().join("run.log");
    let log_option = format!("--log-file={}", log.display());
    let args = recover_args(&stub.url(), &["--retry-wait", "10", &log_option]);
    let ran = signal_when(&args, &stub, polled, "TERM");
    ran.expect_code(143);
    // The line goes where the log goes.
    let lines = log_messages(&std::fs::read_to_string(&log).unwrap());
    let id = created_id(&stub);
    let last = lines.last().unwrap();
    assert!(
        last.starts_with(&format!(
            "ERROR: Terminated by SIGTERM: the recovery operation {id} goes on"
        )),
        "{last}"
    );
}

#[test]
fn a_signal_before_the_post_says_nothing_was_created() {
    for (signal, code, name) in [
        ("TERM", 143, "SIGTERM"),
        ("INT", 130, "SIGINT"),
        ("HUP", 129, "SIGHUP"),
    ] {
        let stub = Scenario::real().always(Route::Status, Action::Hang).start();
        let args = recover_args(&stub.url(), &["--http-timeout", "30"]);
        let ran = signal_when(&args, &stub, |r| !r.is_empty(), signal);
        ran.expect_code(code);
        assert_eq!(
            ran.last_line(),
            format!("ERROR: Terminated by {name}: no operation was created.")
        );
    }
}

#[test]
fn a_signal_while_the_post_is_out_says_to_check_the_list() {
    let stub = Scenario::real().always(Route::Create, Action::Hang).start();
    let args = recover_args(&stub.url(), &["--http-timeout", "30"]);
    let ran = signal_when(
        &args,
        &stub,
        |r| r.iter().any(|r| r.method == "POST"),
        "TERM",
    );
    ran.expect_code(143);
    assert_eq!(
        ran.last_line(),
        format!(
            "ERROR: Terminated by SIGTERM: a POST that creates a recovery operation was out: \
             check {}/servers/main/operations for a new one before running again.",
            stub.url()
        )
    );
}

#[test]
fn a_host_that_refuses_every_thread_still_completes_the_run() {
    // RLIMIT_NPROC of 1 for an unused uid: the process itself is its one
    // task, so every thread is refused (the old http:// client aborted
    // here, exit 134). `localhost` needs a name lookup, done inline then.
    if !is_root() {
        eprintln!("SKIPPED: setting another uid needs root");
        return;
    }
    if skip_under_emulation("qemu-user starts a thread of its own, which nproc=1 refuses") {
        return;
    }
    let stub = Scenario::real().start();
    let url = format!("http://localhost:{}", stub.port);
    let args = switch_args(&url, "primary", &["--reset", "--switch-when", "always"]);
    // A copy every user can reach: the checkout may lie under a 0700
    // directory (/root, a mktemp -d), which the other uid cannot enter.
    let shared = std::env::temp_dir().join(format!("patroni_barman-bin-{}", std::process::id()));
    std::fs::create_dir_all(&shared).unwrap();
    let binary = shared.join("patroni_barman");
    std::fs::copy(bin(), &binary).unwrap();
    use std::os::unix::fs::PermissionsExt;
    for (path, mode) in [(&shared, 0o755), (&binary, 0o755)] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=64321", "--regid=64321", "--clear-groups"])
        .args(["prlimit", "--nproc=1:1"])
        .arg(&binary)
        .args(&args);
    let ran = run_command(&mut command, Duration::from_secs(30));
    std::fs::remove_dir_all(&shared).unwrap();
    ran.expect_code(0).expect_logged(&[
        "WARNING: Cannot watch for SIGTERM (",
        "a termination will leave no log line.",
        "Config switch operation finished successfully.",
    ]);
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// /dev/full, where every write fails (ENOSPC).
fn full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
}

#[test]
fn a_usage_error_or_help_with_nowhere_to_print_keeps_its_exit_code() {
    // A usage error says so with its exit code, even with nowhere to say it.
    let status = command().arg("frobnicate").stderr(full()).status().unwrap();
    assert_eq!(status.code(), Some(64));
    let status = command().arg("--help").stdout(full()).status().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_run_with_its_log_lost_to_a_full_stderr_still_does_its_job() {
    let stub = Scenario::real().start();
    let args = switch_args(
        &stub.url(),
        "primary",
        &["--reset", "--switch-when", "always"],
    );
    let status = command().args(&args).stderr(full()).status().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn odd_entries_of_the_list_are_skipped_and_said_once() {
    // Raw JSON: entries the list must not hold, which the builder does not spell.
    let odd_entries = r#"[{"id": 5}, "junk", {"id": "x\u200by", "type": "recovery"}]"#;
    let stub = Scenario::real()
        .key("list_extra", odd_entries)
        .fault(Route::Create, Action::AfterCreate("drop"))
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0).expect_logged(&[
        "Skipped 3 entries of the server's operations list",
        "appeared although the POST failed",
    ]);
    assert_eq!(ran.stderr.matches("Skipped 3 entries").count(), 1);
}

#[test]
fn a_status_with_an_invisible_character_is_shown_escaped() {
    let stub = Scenario::real()
        .fault_at(Route::Poll, 0, 1, Action::json(r#"{"status": "DONE "}"#))
        .fault_at(
            Route::Poll,
            1,
            1,
            Action::json(r#"{"status": "DONE\ufeff"}"#),
        )
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(0).expect_logged(&[
        r#"unknown operation status "DONE "; retrying"#,
        r#"unknown operation status "DONE\u{feff}"; retrying"#,
    ]);
}

#[test]
fn twenty_nodes_restoring_from_one_server_at_once_all_get_their_own_operation() {
    // pg-backup-api takes one POST per server per second and answers the
    // others 500. Twenty replicas created at the same moment, with the
    // default options: a collision is "spread out and try again", not a
    // fault that burns --max-retries.
    const RUNS: usize = 20;
    let stub = Scenario::real().course(Course::DoneAfter(0.2)).start();
    let url = stub.url();
    let records = format!("--record-dir={}", record_dir().display());
    let data = scratch_dir();
    let runs: Vec<_> = (0..RUNS)
        .map(|n| {
            let args: Vec<String> = [
                "--api-url",
                &url,
                "recover",
                "--barman-server=main",
                "--ssh-command=ssh postgres@pg1",
                &format!("--datadir={}/node{n}", data.display()),
                &records,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            std::thread::spawn(move || {
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                run_for(&refs, Duration::from_secs(240))
            })
        })
        .collect();
    let ran: Vec<Ran> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    let requests = stub.requests();
    for (n, ran) in ran.iter().enumerate() {
        ran.expect_code_for(n, 0)
            .expect_not_logged(&["appeared although", "following it."]);
        // The id it followed is the one its own POST (its directory) created.
        let own: Vec<&str> = requests
            .iter()
            .filter(|r| r.body.contains(&format!("/node{n}\"")))
            .filter_map(|r| r.created.as_deref())
            .collect();
        assert_eq!(own.len(), 1, "{n}: {own:?}");
        ran.expect_logged(&[&format!(
            "Created the recovery operation with ID {}",
            own[0]
        )]);
    }
    // Twenty operations, no more: no run left one behind, and none polled
    // an operation that no run created.
    let created: Vec<&str> = requests
        .iter()
        .filter_map(|r| r.created.as_deref())
        .collect();
    assert_eq!(created.len(), RUNS);
    for poll in requests.iter().filter(|r| r.route == "poll") {
        assert!(
            created.iter().any(|id| poll.path.ends_with(id)),
            "{}",
            poll.path
        );
    }
    let collisions = requests.iter().filter(|r| r.code == Some(500)).count();
    eprintln!(
        "{RUNS} runs: {collisions} collisions, the last done after {:?}",
        ran.iter().map(|r| r.elapsed).max().unwrap()
    );
}

/// A pipe whose every byte of room is taken: a write to it blocks until
/// someone reads, which nobody does. The read end is returned to keep it
/// open.
fn full_pipe() -> (std::fs::File, std::fs::File) {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    extern "C" {
        fn pipe(fds: *mut i32) -> i32;
        fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    }
    const F_GETFL: i32 = 3;
    const F_SETFL: i32 = 4;
    const O_NONBLOCK: i32 = 0o4000;
    let mut fds = [0i32; 2];
    // SAFETY: pipe fills two descriptors that this test then owns; fcntl
    // works on the write end only.
    let (reader, mut writer) = unsafe {
        assert_eq!(pipe(fds.as_mut_ptr()), 0);
        let flags = fcntl(fds[1], F_GETFL);
        fcntl(fds[1], F_SETFL, flags | O_NONBLOCK);
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    };
    while writer.write(&[b'x'; 4096]).is_ok() {}
    while writer.write(b"x").is_ok() {}
    // Blocking again, for the process that inherits it.
    unsafe {
        let flags = fcntl(fds[1], F_GETFL);
        fcntl(fds[1], F_SETFL, flags & !O_NONBLOCK);
    }
    (reader, writer)
}

/// Whether thread `pid` of `pid` is blocked in write(2): the first field
/// of /proc/PID/syscall is the syscall number (write is 1 on x86_64, 64
/// on aarch64).
fn blocked_in_write(pid: u32) -> bool {
    let write = if cfg!(target_arch = "aarch64") {
        "64"
    } else {
        "1"
    };
    std::fs::read_to_string(format!("/proc/{pid}/syscall"))
        .is_ok_and(|text| text.split_whitespace().next() == Some(write))
}

#[test]
fn sigterm_ends_the_run_while_its_stderr_is_a_full_pipe() {
    // A stuck log collector: stderr is a pipe nobody reads, and the run is
    // blocked writing a line. SIGTERM must still end it, at once.
    if skip_under_emulation("/proc/PID/syscall shows qemu's own system calls") {
        return;
    }
    let stub = Scenario::real().course(Course::Stuck).start();
    let (_reader, writer) = full_pipe();
    let mut child = command()
        .args(recover_args(&stub.url(), &[]))
        .stdout(Stdio::null())
        .stderr(writer)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !blocked_in_write(child.id()) {
        assert!(started.elapsed() < Duration::from_secs(10), "never blocked");
        std::thread::sleep(Duration::from_millis(10));
    }
    let sent = Instant::now();
    send_signal(&child, "TERM");
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if sent.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!("still running 5 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(code, Some(143));
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "{:?}",
        sent.elapsed()
    );
}

#[test]
fn sigterm_with_a_log_file_writes_its_line_there_whatever_stderr_does() {
    let stub = Scenario::real().course(Course::Stuck).start();
    let log = stub.dir.join("run.log");
    let (_reader, writer) = full_pipe();
    let mut child = command()
        .args(recover_args(
            &stub.url(),
            &["--log-file", log.to_str().unwrap()],
        ))
        .stdout(Stdio::null())
        .stderr(writer)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !polled(&stub.requests()) {
        assert!(started.elapsed() < Duration::from_secs(10), "never polled");
        std::thread::sleep(Duration::from_millis(10));
    }
    send_signal(&child, "TERM");
    assert_eq!(child.wait().unwrap().code(), Some(143));
    let text = std::fs::read_to_string(&log).unwrap();
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.contains("ERROR: Terminated by SIGTERM: the recovery operation"),
        "{text}"
    );
}

#[test]
fn a_signal_during_wait_names_the_operation_it_follows() {
    let stub = Scenario::real().always(Route::Status, Action::Hang).start();
    let args: Vec<String> = [
        "--api-url",
        &stub.url(),
        "--http-timeout",
        "30",
        "wait",
        "--barman-server",
        "main",
        "--operation-id",
        "20261125T171025",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let ran = signal_when(&args, &stub, |r| !r.is_empty(), "TERM");
    ran.expect_code(143).expect_last_line_starting(
        "ERROR: Terminated by SIGTERM: the operation 20261125T171025 goes on on the Barman host",
    );
}

#[test]
fn a_log_file_that_is_a_socket_is_named_so_and_the_run_goes_on() {
    // journald hands a service a socket as stderr: /dev/stderr then cannot
    // be opened, and the config switch must happen all the same.
    use std::io::Read;
    use std::os::unix::net::UnixStream;
    let stub = Scenario::real().start();
    let (ours, theirs) = UnixStream::pair().unwrap();
    let mut args = switch_args(
        &stub.url(),
        "primary",
        &["--reset", "--switch-when", "always"],
    );
    args.extend(["--log-file".to_string(), "/dev/stderr".to_string()]);
    let status = command()
        .args(&args)
        .stderr(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .status()
        .unwrap();
    let mut log = String::new();
    (&ours).read_to_string(&mut log).unwrap();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(
        log.contains("WARNING: Cannot open --log-file /dev/stderr: a socket"),
        "{log}"
    );
    assert!(log.contains("logging to stderr instead"), "{log}");
    assert_eq!(stub.posts(), 1);
}

#[test]
fn a_trailing_space_in_the_api_url_is_named_as_such() {
    let stub = Scenario::real().start();
    let ran = run_strings(&recover_args(&format!("{} ", stub.url()), &[]));
    ran.expect_code(64)
        .expect_logged(&["--api-url ends with white space (a trailing space?): remove it"]);
    assert!(stub.requests().is_empty());
}

#[test]
fn a_status_answer_with_invisible_characters_is_shown_escaped() {
    let stub = Scenario::real().status_body("\"OK\u{feff}\"").start();
    let ran = run_strings(&recover_args(&stub.url(), &[]));
    ran.expect_code(254)
        .expect_logged(&[r#"answered "OK\u{feff}", expected "OK"."#]);
    assert_eq!(stub.posts(), 0);
}
