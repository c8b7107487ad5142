//! Any argument vector -> `cli::parse`, then the subcommand's own options
//! (`jobs::Job::read`). Arguments are the input split on NUL
//! bytes (which no real argument holds), taken as raw bytes so that non-UTF-8
//! arguments are tried too.
//!
//! Besides "never panics": parsing is deterministic, messages are printable,
//! and an accepted command holds nothing that fails later (a duration that
//! overflows a deadline, an option name that breaks a log line).

#![no_main]

use libfuzzer_sys::fuzz_target;
use patroni_barman::cli::{self, Parsed};
use patroni_barman::jobs::Job;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::time::Instant;

fuzz_target!(|data: &[u8]| {
    let args: Vec<OsString> = match data {
        [] => Vec::new(),
        _ => data
            .split(|&b| b == 0)
            .map(|arg| OsString::from_vec(arg.to_vec()))
            .collect(),
    };
    let read = |args| {
        let parsed = cli::parse(args)?;
        if let Parsed::Run(command) = &parsed {
            Job::read(command)?;
        }
        Ok::<_, String>(parsed)
    };
    let parsed = read(args.clone());
    assert_eq!(
        format!("{parsed:?}"),
        format!("{:?}", read(args)),
        "parsing twice gave two answers"
    );
    match parsed {
        Err(message) => {
            assert!(!message.is_empty());
            check_printable("error", &message);
        }
        Ok(Parsed::Print(text)) => assert!(text.starts_with("patroni_barman")),
        Ok(Parsed::NoSubcommand) => {}
        Ok(Parsed::Run(command)) => {
            for option in &command.ignored {
                // Each is logged as "Ignoring option --x, which ...".
                assert!(option.starts_with('-'));
                check_printable("ignored option", option);
            }
            // Waits and timeouts become deadlines (Instant + Duration).
            let now = Instant::now();
            let durations = [
                ("--http-timeout", Some(command.http_timeout)),
                ("--retry-wait", Some(command.retry.wait)),
                ("--loop-wait", Some(command.poll.loop_wait)),
                ("--max-wait", command.poll.max_wait),
            ];
            for (name, duration) in durations {
                if let Some(duration) = duration {
                    assert!(
                        now.checked_add(duration).is_some(),
                        "{name} {duration:?} overflows a deadline"
                    );
                }
            }
            assert!(command.http_timeout.as_secs() >= 1);
            let endpoint = command.api_url.endpoint(&["servers", "main", "operations"]);
            let url = command.api_url.shown(&endpoint);
            assert!(endpoint.path().starts_with('/'), "{url}");
            check_printable("endpoint", &url);
            assert!(!url.contains(' '), "{url}");
        }
    }
});

fn check_printable(what: &str, text: &str) {
    assert!(
        !text.chars().any(char::is_control),
        "{what} has a control character: {text:?}"
    );
}
