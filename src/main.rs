//! patroni_barman: drives Barman through pg-backup-api for Patroni, as a
//! custom bootstrap or replica creation method (`recover`) and as the
//! `on_role_change` callback (`config-switch`).
//!
//! `main` parses, runs, and turns the outcome into the exit code; nothing
//! else exits the process.

use patroni_barman::outcome::Outcome;
use patroni_barman::{cli, jobs, SystemClock};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic is a bug: one line instead of a backtrace, then the abort.
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let what = payload.downcast_ref::<&str>().copied();
        let what = what.or_else(|| payload.downcast_ref::<String>().map(String::as_str));
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()));
        say(
            &mut std::io::stderr(),
            &format!(
                "patroni_barman: internal error: {}{}\n",
                what.unwrap_or("panic"),
                at.unwrap_or_default()
            ),
        );
    }));
    let outcome = match cli::parse(std::env::args_os().skip(1)) {
        Ok(cli::Parsed::Print(text)) => {
            say(&mut std::io::stdout(), &text);
            Outcome::Success
        }
        Ok(cli::Parsed::NoSubcommand) => {
            let mut line = "patroni_barman: error: no subcommand given: use ".to_string();
            line += patroni_barman::sub::NAMES_LISTED;
            say(&mut std::io::stderr(), &(line + " (see --help)\n"));
            Outcome::NoSubcommand
        }
        Ok(cli::Parsed::Run(command)) => {
            jobs::run(*command, &SystemClock).unwrap_or_else(usage_error)
        }
        Err(message) => usage_error(message),
    };
    ExitCode::from(outcome.exit_code())
}

fn usage_error(message: String) -> Outcome {
    say(
        &mut std::io::stderr(),
        &format!("patroni_barman: error: {message} (see --help)\n"),
    );
    Outcome::Usage
}

/// Writes `text` where it may fail (stderr on /dev/full, a closed stdout):
/// unlike `print!`, never a panic, and the exit code still says it all.
fn say(out: &mut impl Write, text: &str) {
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
