//! Test support: the stub pg-backup-api from `scripts/`, and the real binary.
//!
//! Each test starts its own stub on a free port, runs `patroni_barman`
//! against it over real sockets, then reads what the stub received.

#![allow(dead_code)]

mod scenario;
mod transcript;
#[allow(unused_imports)]
pub use scenario::{Action, Course, Route, Scenario};
#[allow(unused_imports)]
pub use transcript::expect_transcript;

use miniserde::json::{self, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The binary cargo built for these tests. Start the binary under test with
/// `command()` (or `invocation()`), which honour the two variables below.
pub const BIN: &str = env!("CARGO_BIN_EXE_patroni_barman");

/// The binary under test: `PATRONI_BARMAN_BIN` when set (`make test` sets it
/// to the aarch64 build), else `BIN`.
pub fn bin() -> PathBuf {
    std::env::var_os("PATRONI_BARMAN_BIN")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(BIN), PathBuf::from)
}

/// The runner prefix: `PATRONI_BARMAN_RUNNER` split on whitespace (`make test`
/// sets `qemu-aarch64` for the aarch64 build); empty when unset.
pub fn runner() -> Vec<String> {
    std::env::var("PATRONI_BARMAN_RUNNER")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Whether the binary runs under an emulator (a runner prefix is set).
pub fn under_emulation() -> bool {
    !runner().is_empty()
}

/// The words that start the binary under test: the runner prefix, then the
/// binary. For wrappers such as `sh -c 'ulimit ...; exec "$@"'` or `prlimit`.
pub fn invocation() -> Vec<std::ffi::OsString> {
    let mut words: Vec<std::ffi::OsString> = runner().into_iter().map(Into::into).collect();
    words.push(bin().into_os_string());
    words
}

/// A `Command` that starts the binary under test, through the runner prefix.
pub fn command() -> Command {
    let words = invocation();
    let mut command = Command::new(&words[0]);
    command.args(&words[1..]);
    command
}

/// For a test that cannot hold under emulation: when a runner prefix is set,
/// prints "SKIPPED under emulation: WHY" and returns true.
pub fn skip_under_emulation(why: &str) -> bool {
    let skip = under_emulation();
    if skip {
        eprintln!("SKIPPED under emulation: {why}");
    }
    skip
}

/// A fresh, empty directory for one test, under cargo's scratch space
/// for tests (target/tmp): nothing is left in /tmp.
pub fn scratch_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "patroni_barman-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One request as the stub recorded it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub route: String,
    pub body: String,
    pub time: f64,
    pub headers: Vec<(String, String)>,
    pub client_cert_cn: Option<String>,
    /// The status the stub answered; `None` when it sent no answer.
    pub code: Option<u16>,
    /// The operation this request created and answered 202 for.
    pub created: Option<String>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `METHOD path`, the short form most assertions compare.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The JSON body, with object keys sorted (miniserde's Object is ordered).
    pub fn json(&self) -> String {
        json::to_string(&json::from_str::<Value>(&self.body).expect("a JSON body"))
    }

    /// As `json`, or "" for a body that is not JSON (a GET's).
    pub fn json_if_any(&self) -> String {
        json::from_str::<Value>(&self.body)
            .map(|v| json::to_string(&v))
            .unwrap_or_default()
    }
}

pub struct Stub {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    record: PathBuf,
}

impl Stub {
    /// Starts the stub with a scenario as JSON text; tests build it with
    /// `Scenario` (`Scenario::real().start()` for the real API).
    pub fn start(scenario: &str) -> Stub {
        Stub::start_with(scenario, &[])
    }

    pub fn start_with(scenario: &str, extra: &[&str]) -> Stub {
        let dir = scratch_dir();
        let record = dir.join("requests.jsonl");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/stub_api.py");
        // From a file: a scenario with a megabyte body exceeds what one
        // argument may hold.
        let scenario_file = dir.join("scenario.json");
        std::fs::write(&scenario_file, scenario).unwrap();
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--scenario")
            .arg(format!("@{}", scenario_file.display()))
            .args(["--lifetime", "120", "--record"])
            .arg(&record)
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the stub");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok());
        let port = port.unwrap_or_else(|| panic!("stub did not start: {line:?}"));
        Stub {
            child,
            port,
            dir,
            record,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Seen> {
        let text = std::fs::read_to_string(&self.record).unwrap_or_default();
        text.lines().map(parse_seen).collect()
    }

    /// How many POSTs were received so far.
    pub fn posts(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count()
    }

    /// Requests received so far, as `METHOD path` lines.
    pub fn lines(&self) -> Vec<String> {
        self.requests().iter().map(Seen::line).collect()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn parse_seen(line: &str) -> Seen {
    let Ok(Value::Object(record)) = json::from_str::<Value>(line) else {
        panic!("bad record {line}")
    };
    let text = |key: &str| match record.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let headers = match record.get("headers") {
        Some(Value::Object(h)) => h
            .iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k.clone(), s.clone())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let time = match record.get("t") {
        Some(Value::Number(n)) => n.to_string().parse().unwrap(),
        _ => 0.0,
    };
    Seen {
        method: text("method").unwrap(),
        path: text("path").unwrap(),
        route: text("route").unwrap_or_default(),
        body: text("body").unwrap_or_default(),
        time,
        headers,
        client_cert_cn: text("client_cert_cn"),
        code: match record.get("code") {
            Some(Value::Number(n)) => n.to_string().parse().ok(),
            _ => None,
        },
        created: text("created"),
    }
}

/// How a run of the binary ended.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Ran {
    /// Log lines without their timestamp (`LEVEL: message`), after checking
    /// that each has the Python tool's format.
    pub fn log(&self) -> Vec<String> {
        log_messages(&self.stderr)
    }

    /// Whether some log line contains `text`.
    pub fn logged(&self, text: &str) -> bool {
        self.stderr.contains(text)
    }

    /// Asserts the exit code, showing the log when it is another.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Ran {
        assert_eq!(self.code, code, "exit code; the log:\n{}", self.stderr);
        self
    }

    /// Asserts that some log line (or a usage error's line: stderr) contains
    /// each of `texts`.
    #[track_caller]
    pub fn expect_logged(&self, texts: &[&str]) -> &Ran {
        for text in texts {
            assert!(
                self.logged(text),
                "no {text:?} in the log:\n{}",
                self.stderr
            );
        }
        self
    }

    /// As `expect_code`, for one `case` of a table, which a failure names.
    #[track_caller]
    pub fn expect_code_for(&self, case: impl std::fmt::Debug, code: i32) -> &Ran {
        assert_eq!(
            self.code, code,
            "{case:?}: exit code; the log:\n{}",
            self.stderr
        );
        self
    }

    /// Asserts that no log line contains any of `texts`.
    #[track_caller]
    pub fn expect_not_logged(&self, texts: &[&str]) -> &Ran {
        for text in texts {
            assert!(!self.logged(text), "{text:?} in the log:\n{}", self.stderr);
        }
        self
    }

    /// Asserts that stdout contains each of `texts`.
    #[track_caller]
    pub fn expect_stdout(&self, texts: &[&str]) -> &Ran {
        for text in texts {
            assert!(
                self.stdout.contains(text),
                "no {text:?} on stdout:\n{}\nthe log:\n{}",
                self.stdout,
                self.stderr
            );
        }
        self
    }

    /// Asserts that the last log line, without its timestamp, starts with `start`.
    #[track_caller]
    pub fn expect_last_line_starting(&self, start: &str) -> &Ran {
        assert!(
            self.last_line().starts_with(start),
            "the last line does not start with {start:?}; the log:\n{}",
            self.stderr
        );
        self
    }

    /// Asserts `ok`, a fact about this run that `what` states, showing
    /// stdout and the log when it is false.
    #[track_caller]
    pub fn expect(&self, ok: bool, what: &str) -> &Ran {
        assert!(
            ok,
            "not so: {what}; stdout:\n{}\nthe log:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The last log line, without its timestamp.
    pub fn last_line(&self) -> String {
        self.log().pop().unwrap_or_default()
    }
}

/// Strips and checks `YYYY-MM-DD HH:MM:SS,mmm ` from each line.
pub fn log_messages(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let shape = "dddd-dd-dd dd:dd:dd,ddd ";
            let ok = line.len() > shape.len()
                && line.bytes().zip(shape.bytes()).all(|(b, s)| {
                    if s == b'd' {
                        b.is_ascii_digit()
                    } else {
                        b == s
                    }
                });
            assert!(ok, "not a log line: {line:?}");
            line[shape.len()..].to_string()
        })
        .collect()
}

/// Sends `signal` ("TERM", "KILL", ...) to `child`.
pub fn send_signal(child: &Child, signal: &str) {
    let sent = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Runs the binary with `args`, waits (10 s at most) until the stub has
/// seen what `ready` wants, then `after` more, sends `signal` ("TERM", ...)
/// and collects how the run ended.
pub fn signal_when(
    args: &[String],
    stub: &Stub,
    ready: impl Fn(&[Seen]) -> bool,
    after: Duration,
    signal: &str,
) -> Ran {
    let started = Instant::now();
    let child = command()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while !ready(&stub.requests()) {
        assert!(started.elapsed() < Duration::from_secs(10), "never ready");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(after);
    send_signal(&child, signal);
    finish(child, started)
}

/// As `signal_when`, at once once `stub` has seen more than `seen` polls.
pub fn signalled_after_polls(args: &[String], stub: &Stub, seen: usize, signal: &str) -> Ran {
    let polls = |r: &[Seen]| r.iter().filter(|r| r.route == "poll").count() > seen;
    signal_when(args, stub, polls, Duration::ZERO, signal)
}

/// Waits for `child`, started at `started`, and collects how it ended.
pub fn finish(child: Child, started: Instant) -> Ran {
    let output = child.wait_with_output().unwrap();
    Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// Runs the binary with `args`; kills it if it outlives `limit`.
pub fn run_for(args: &[&str], limit: Duration) -> Ran {
    run_command(command().args(args), limit)
}

pub fn run(args: &[&str]) -> Ran {
    run_for(args, Duration::from_secs(60))
}

pub fn run_command(command: &mut Command, limit: Duration) -> Ran {
    let started = Instant::now();
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        while started.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(20));
            if !Path::new(&format!("/proc/{pid}")).exists() {
                return false;
            }
        }
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        true
    });
    let output = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    assert!(
        !watchdog.join().unwrap() || elapsed < limit,
        "patroni_barman hung: killed after {limit:?}"
    );
    Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed,
    }
}

/// Fast waits for tests: polls and retries in milliseconds.
pub const FAST: [&str; 6] = [
    "--loop-wait",
    "0.05",
    "--retry-wait",
    "0.05",
    "--http-timeout",
    "2",
];

/// A fresh directory for the records of `recover` runs (src/jobs/recover/record.rs):
/// runs of different tests never share one.
pub fn record_dir() -> PathBuf {
    scratch_dir()
}

/// `recover` as Patroni's bootstrap calls it, against `stub`, with `extra`
/// options, keeping its record in a fresh `record_dir()`. The data
/// directory is `data` in a fresh scratch directory: the stub restores
/// into it, as Barman does (`data_dir_in`).
pub fn recover_args(url: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["--api-url", url].iter().map(|s| s.to_string()).collect();
    args.extend(["recover".to_string(), "--scope=batman".to_string()]);
    args.push(format!(
        "--datadir={}",
        scratch_dir().join("data").display()
    ));
    args.extend(
        ["--barman-server=main", "--ssh-command=ssh postgres@pg1"]
            .iter()
            .map(|s| s.to_string()),
    );
    args.push(format!("--record-dir={}", record_dir().display()));
    args.extend(FAST.iter().map(|s| s.to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// The data directory that `recover_args` put in `args`.
pub fn data_dir_in(args: &[String]) -> PathBuf {
    let dir = args
        .iter()
        .rev()
        .find_map(|a| a.strip_prefix("--datadir="))
        .expect("recover_args names a data directory");
    dir.into()
}

/// The record dir that `recover_args` put in `args`.
pub fn records_in(args: &[String]) -> PathBuf {
    let dir = args
        .iter()
        .rev()
        .find_map(|a| a.strip_prefix("--record-dir="))
        .expect("recover_args names a record dir");
    dir.into()
}

/// `config-switch` as Patroni's on_role_change callback calls it.
pub fn switch_args(url: &str, role: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["--api-url", url, "config-switch", "--barman-server", "main"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(FAST.iter().map(|s| s.to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(
        ["on_role_change", role, "batman"]
            .iter()
            .map(|s| s.to_string()),
    );
    args
}

pub fn run_strings(args: &[String]) -> Ran {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs)
}

/// Runs the binary with `args` under an address-space limit of `kib` KiB
/// (`ulimit -v`): reading an answer whole past the limit would abort it.
pub fn run_limited(args: &[String], kib: u64) -> Ran {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -v {kib} && exec \"$@\""))
        .arg("sh")
        .args(invocation())
        .args(args);
    run_command(&mut command, Duration::from_secs(60))
}

/// Writes an executable script at `path` that runs the binary under test
/// with its arguments: `patroni_barman` on PATH, for commands the tool
/// prints to be pasted.
pub fn write_launcher(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let words: Vec<String> = invocation()
        .iter()
        .map(|w| format!("'{}'", w.to_string_lossy().replace('\'', r"'\''")))
        .collect();
    std::fs::write(
        path,
        format!("#!/bin/sh\nexec {} \"$@\"\n", words.join(" ")),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
