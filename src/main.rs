//! patroni_barman: drives Barman through pg-backup-api for Patroni, as a
//! custom bootstrap or replica creation method (`recover`) and as the
//! `on_role_change` callback (`config-switch`).
//!
//! `main` parses, runs, and turns the outcome into the exit code; nothing
//! else exits the process.

use patroni_barman::outcome::Outcome;
use patroni_barman::{cli, run, SystemClock};
use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic is a bug (ours, or minreq 3.0.0's header budget: see README,
    // "Known limitations"): one line instead of a backtrace, then the abort.
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let what = payload.downcast_ref::<&str>().copied();
        let what = what.or_else(|| payload.downcast_ref::<String>().map(String::as_str));
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()));
        eprintln!(
            "patroni_barman: internal error: {}{}",
            what.unwrap_or("panic"),
            at.unwrap_or_default()
        );
    }));
    let outcome = match cli::parse(std::env::args_os().skip(1)) {
        Ok(cli::Parsed::Print(text)) => {
            print!("{text}");
            Outcome::Success
        }
        Ok(cli::Parsed::NoSubcommand) => {
            eprintln!("patroni_barman: error: no subcommand given: use recover or config-switch (see --help)");
            Outcome::NoSubcommand
        }
        Ok(cli::Parsed::Run(command)) => {
            run::run(*command, &SystemClock).unwrap_or_else(usage_error)
        }
        Err(message) => usage_error(message),
    };
    ExitCode::from(outcome.exit_code())
}

fn usage_error(message: String) -> Outcome {
    eprintln!("patroni_barman: error: {message} (see --help)");
    Outcome::Usage
}
