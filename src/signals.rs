//! SIGTERM, SIGINT and SIGHUP: one ERROR line that says what goes on on the
//! Barman host, then exit 128+signal at once.
//!
//! Patroni cancels a replica creation with SIGTERM, and a new
//! `on_role_change` callback kills the running one: without that line, the
//! next attempt cannot tell that an operation is still at work. The signals
//! are blocked in every thread and taken by one thread in `sigwait`, where a
//! log line can be written safely (a signal handler could not format one).
//! This thread is the one place besides `main` that ends the process.

use crate::log::{Level, Logger};
use crate::outcome::Outcome;
use crate::sys::{
    pthread_sigmask, sigaddset, sigemptyset, sigwait, SigSet, SIG_BLOCK, SIG_UNBLOCK,
};
use std::ffi::c_int;
use std::sync::Mutex;

/// Linux's signal numbers, the same on x86_64 and aarch64.
const WATCHED: [(c_int, &str); 3] = [(1, "SIGHUP"), (2, "SIGINT"), (15, "SIGTERM")];

/// What the run leaves behind if it ends now; the signal's line says it.
static STATE: Mutex<String> = Mutex::new(String::new());

/// What a termination does before it exits, with the exit code (write the
/// metrics file).
type AtExit = Box<dyn Fn(u8) + Send>;
static AT_EXIT: Mutex<Option<AtExit>> = Mutex::new(None);

/// Runs `last` before a termination ends the process.
pub fn at_exit(last: AtExit) {
    *AT_EXIT.lock().unwrap_or_else(|p| p.into_inner()) = Some(last);
}

/// Records what a termination now would leave behind, in words that finish
/// "Terminated by SIGTERM: ...".
pub fn note(state: String) {
    *STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = state;
}

fn watched_set() -> SigSet {
    let mut set = SigSet([0; 16]);
    // SAFETY: `set` is a valid sigset_t-sized buffer; the numbers are valid.
    unsafe {
        sigemptyset(&mut set);
        for (signal, _) in WATCHED {
            sigaddset(&mut set, signal);
        }
    }
    set
}

/// Blocks the signals and starts the thread that takes them. Must run
/// before any other thread starts, so that all of them inherit the mask.
/// When no thread can be started, the signals keep their default action
/// and the returned message says so.
pub fn watch(log: &'static Logger) -> Result<(), String> {
    let set = watched_set();
    // SAFETY: a valid set; the old mask is not wanted.
    unsafe { pthread_sigmask(SIG_BLOCK, &set, std::ptr::null_mut()) };
    let watcher = std::thread::Builder::new()
        .stack_size(64 << 10)
        .spawn(move || loop {
            let mut signal: c_int = 0;
            // SAFETY: valid pointers to a set and an int.
            if unsafe { sigwait(&set, &mut signal) } != 0 {
                continue;
            }
            let name = WATCHED.iter().find(|(n, _)| *n == signal).map(|w| w.1);
            let state = STATE.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let line = format!("Terminated by {}: {state}", name.unwrap_or("a signal"));
            let code = Outcome::Terminated(signal as u8).exit_code();
            log.last_line(Level::Error, &line, code);
            if let Some(last) = AT_EXIT.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                last(code);
            }
            std::process::exit(i32::from(code));
        });
    match watcher {
        Ok(_) => Ok(()),
        Err(e) => {
            // SAFETY: as above.
            unsafe { pthread_sigmask(SIG_UNBLOCK, &set, std::ptr::null_mut()) };
            Err(format!(
                "cannot watch for SIGTERM ({e}): a termination will leave no log line"
            ))
        }
    }
}
