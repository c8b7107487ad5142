//! The command line's unit tests, from what is typed to the `Command` and
//! the subcommand's `Job`.

use super::config_switch::{Change, ConfigSwitch, ROLES};
use super::recover::Recover;
use super::Job;
use crate::cli::options::Takes;
use crate::cli::{help, parse, Command, Parsed, SwitchWhen, OPTIONS};
use crate::log::Format;
use crate::rules::retry::RetryPolicy;
use crate::sub::{Sub, NAMES_LISTED};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// What is typed, read as `main` reads it: the command line, then the
/// subcommand's own options.
fn parse_words(words: &str) -> Result<Parsed, String> {
    let parsed = parse(words.split(' ').map(OsString::from))?;
    if let Parsed::Run(command) = &parsed {
        Job::read(command)?;
    }
    Ok(parsed)
}

fn job(words: &str) -> Job {
    Job::read(&command(words)).expect("a job")
}

#[test]
fn the_python_tools_abbreviations_keep_their_meaning_beside_newer_options() {
    // --api-password-file, --log-format and --max-wait came later.
    let line = "--api http://b --log /tmp/l --max 3 wait --barman-server s --operation-id i";
    let Ok(Parsed::Run(command)) = parse_words(line) else {
        panic!("{:?}", parse_words(line))
    };
    assert_eq!(command.log_file, Some(PathBuf::from("/tmp/l")));
    assert_eq!(command.retry.attempts, 3);
    assert_eq!(command.log_format, Format::Plain);
    // A prefix of two newer options only is still ambiguous.
    let newer = "--api-url http://b --metrics-f /m.prom --log-fo json check --barman-server s";
    assert!(parse_words(newer).is_ok(), "{:?}", parse_words(newer));
    let bad = parse_words("--api-url http://b --metrics-file /m.txt check --barman-server s");
    assert!(bad.unwrap_err().contains("must name a .prom file"));
    let bad = parse_words("--api-url http://b --log-format xml check --barman-server s");
    assert!(bad.unwrap_err().contains("must be plain or json"));
}

#[test]
fn help_says_required_exactly_where_the_parser_requires_it() {
    for sub in Sub::ALL {
        let words = least(sub);
        command(&words);
        for spec in OPTIONS.iter().filter(|spec| spec.required(Some(sub))) {
            let flag = format!("--{}", spec.names[0]);
            // The option and its value, two words, left out.
            let mut without: Vec<&str> = words.split(' ').collect();
            let at = without.iter().position(|w| *w == flag).expect("given");
            without.drain(at..at + 2);
            let error = parse_words(&without.join(" ")).unwrap_err();
            assert!(
                error.starts_with(&flag) && error.contains("required"),
                "{error}"
            );
        }
    }
}

/// The shortest command line of `sub` that parses: a new subcommand does
/// not build until it has one.
fn least(sub: Sub) -> String {
    let options = match sub {
        Sub::Recover => "--barman-server s --ssh-command c --data-directory d",
        Sub::ConfigSwitch => {
            "on_role_change primary c --barman-server s --reset --switch-when always"
        }
        Sub::Check => "--barman-server s",
        Sub::Wait => "--barman-server s --operation-id 1",
    };
    format!("--api-url http://b {} {options}", sub.name())
}

#[test]
fn every_option_names_itself_when_its_value_is_missing_or_refused() {
    for sub in Sub::ALL {
        let words = least(sub);
        let used = OPTIONS
            .iter()
            .filter(|spec| spec.applies_to(Some(sub)) && !spec.unused_in.contains(&sub));
        for spec in used {
            let flag = format!("--{}", spec.names[0]);
            let (typed, refused) = match spec.takes {
                Takes::Nothing => (format!("{flag}=x"), "takes no value"),
                _ => (flag.clone(), "needs a value"),
            };
            let message = error(&format!("{words} {typed}"));
            assert_eq!(message, format!("{flag} {refused}"));
            // An empty value is refused by every kind but text.
            if !matches!(spec.takes, Takes::Nothing | Takes::Text(_)) {
                let message = error(&format!("{words} {flag}="));
                assert!(message.starts_with(&format!("{flag} must ")), "{message}");
            }
        }
    }
}

fn command(words: &str) -> Command {
    match parse_words(words) {
        Ok(Parsed::Run(command)) => *command,
        other => panic!("{words}: {other:?}"),
    }
}

fn error(words: &str) -> String {
    match parse_words(words) {
        Err(message) => message,
        other => panic!("{words}: expected an error, got {other:?}"),
    }
}

#[test]
fn patroni_bootstrap_call_with_global_keys_after_the_subcommand() {
    let mut args: Vec<OsString> = "recover --scope=batman --datadir=/pg/data --barman-server=main"
        .split(' ')
        .map(OsString::from)
        .collect();
    args.push("--ssh-command=ssh postgres@pg1 -p 22".into());
    args.push("--api-url=http://b:7480/pgbackup/".into());
    args.push("--connstring=".into());
    let Ok(Parsed::Run(command)) = parse(args) else {
        panic!()
    };
    assert_eq!(
        command
            .api_url
            .shown(&command.api_url.endpoint(&["status"])),
        "http://b:7480/pgbackup/status"
    );
    assert_eq!(
        Job::read(&command).unwrap(),
        Job::Recover(Recover {
            server: "main".into(),
            backup_id: "latest".into(),
            ssh_command: "ssh postgres@pg1 -p 22".into(),
            data_directory: "/pg/data".into(),
            record_dir: None,
            progress_interval: Duration::from_secs(60),
        })
    );
    assert_eq!(command.ignored, vec!["--scope", "--connstring"]);
    assert_eq!(command.poll.loop_wait, Duration::from_secs(10));
    assert_eq!(
        command.retry,
        RetryPolicy {
            wait: Duration::from_secs(2),
            attempts: 5
        }
    );
    assert_eq!(command.http_timeout, Duration::from_secs(30));
    assert_eq!(command.poll.max_wait, None);
}

#[test]
fn callback_call_with_positionals_last_and_prefixes() {
    let c = command(
        "--api http://b config-switch --barman-server main --barman-model m1 --switch-when promoted \
         --loop 0.05 --retry-w 0.01 --max-r 2 --max-wait 3.5 on_role_change master batman",
    );
    let Job::ConfigSwitch(switch) = Job::read(&c).unwrap() else {
        panic!()
    };
    assert_eq!(switch.change, Ok(Change::Model("m1".into())));
    assert_eq!(
        (switch.role.as_str(), switch.switch_when),
        ("master", SwitchWhen::Promoted)
    );
    assert_eq!(c.poll.loop_wait, Duration::from_millis(50));
    assert_eq!(c.poll.max_wait, Some(Duration::from_millis(3500)));
    assert_eq!(
        c.retry,
        RetryPolicy {
            wait: Duration::from_millis(10),
            attempts: 2
        }
    );
}

#[test]
fn model_and_reset_problems_are_kept_for_exit_code_4() {
    let base = "--api-url http://b config-switch on_role_change primary c --barman-server s --switch-when always";
    let change = |extra: &str| match job(&format!("{base}{extra}")) {
        Job::ConfigSwitch(switch) => switch.change,
        _ => panic!(),
    };
    assert_eq!(change(" --reset"), Ok(Change::Reset));
    assert!(change("").is_err());
    assert!(change(" --reset --barman-model m").is_err());
    assert!(change(" --barman-model=").is_err());
}

#[test]
fn switch_when_matches_roles_like_the_python_tool() {
    assert!(SwitchWhen::Promoted.applies_to("primary"));
    assert!(SwitchWhen::Promoted.applies_to("master"));
    assert!(!SwitchWhen::Promoted.applies_to("standby_leader"));
    assert!(!SwitchWhen::Promoted.applies_to("replica"));
    assert!(SwitchWhen::Demoted.applies_to("demoted"));
    assert!(!SwitchWhen::Demoted.applies_to("primary"));
    assert!(ROLES.iter().all(|role| SwitchWhen::Always.applies_to(role)));
}

#[test]
fn help_version_and_no_subcommand() {
    assert!(matches!(parse_words("--help"), Ok(Parsed::Print(text)) if text == help(None)));
    assert!(
        matches!(parse_words("recover -h"), Ok(Parsed::Print(text)) if text == help(Some(Sub::Recover)))
    );
    assert!(
        matches!(parse_words("--version"), Ok(Parsed::Print(text)) if text.starts_with("patroni_barman 0"))
    );
    assert!(matches!(
        parse_words("--api-url http://b"),
        Ok(Parsed::NoSubcommand)
    ));
    assert!(matches!(
        parse(Vec::<OsString>::new()),
        Ok(Parsed::NoSubcommand)
    ));
}

#[test]
fn waits_and_timeouts_fit_a_deadline() {
    // Found by fuzzing (fuzz/fuzz_targets/command_line.rs): a huge
    // --max-wait or --http-timeout was accepted, then panicked as a
    // deadline ("overflow when adding duration to instant"), for
    // --max-wait after the operation was created.
    let base = "--api-url http://b recover --barman-server s --ssh-command c --datadir d";
    let seconds = OPTIONS.iter().filter(|spec| {
        matches!(spec.takes, Takes::Seconds(_)) && spec.applies_to(Some(Sub::Recover))
    });
    for spec in seconds {
        let option = spec.names[0];
        for value in ["18446744073709551615", "1000000000"] {
            let message = error(&format!("{base} --{option} {value}"));
            let expected = format!("--{option} must be under 1000000000 seconds");
            assert!(message.contains(&expected), "{message}");
        }
    }
    let c = command(&format!(
        "{base} --max-wait 999999999 --http-timeout 999999999 --loop-wait 999999999.5"
    ));
    let longest = Duration::from_secs(999_999_999);
    assert_eq!((c.poll.max_wait, c.http_timeout), (Some(longest), longest));
    assert_eq!(c.poll.loop_wait, longest + Duration::from_millis(500));
}

#[test]
fn an_unknown_option_takes_the_next_word_only_when_no_argument_wants_it() {
    let c = command("--api-url http://b recover --foo bar --barman-server s --ssh-command c --datadir d --baz qux");
    assert_eq!(c.ignored, vec!["--foo", "--baz"]);
    let switch = "--api-url http://b config-switch --barman-server s --reset --switch-when always";
    let c = command(&format!("{switch} on_role_change primary c --foo bar"));
    assert_eq!(c.ignored, vec!["--foo"]);
    assert!(
        matches!(Job::read(&c).unwrap(), Job::ConfigSwitch(ConfigSwitch { ref role, .. }) if role == "primary")
    );
    // Before the three arguments, the word is the first of them.
    let c = command(&format!("{switch} --foo on_role_change primary c"));
    assert!(
        matches!(Job::read(&c).unwrap(), Job::ConfigSwitch(ConfigSwitch { ref role, .. }) if role == "primary")
    );
    // With `=value`, the next word is not the option's.
    let message = error(
        "--api-url http://b recover --barman-server s --ssh-command c --datadir d --foo= bar",
    );
    assert!(
        message.contains("recover takes no argument, but \"bar\""),
        "{message}"
    );
}

#[test]
fn typed_control_characters_are_escaped() {
    // Found by fuzzing (fuzz/fuzz_targets/command_line.rs): an ignored
    // option's name went as typed into a log line, and some messages
    // quoted what was typed as is.
    let c = command(
        "--api-url http://b recover --barman-server s --ssh-command c --datadir d \
         --x\ny=1 -\x1b",
    );
    assert_eq!(c.ignored, vec!["--x\\ny", "-\\u{1b}"]);
    for (words, expected) in [
        ("-\x01=v", r"'-\u{1}'"),
        ("--api-url http://[::\n] recover", r"[::\n]"),
    ] {
        let message = error(words);
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn a_trailing_space_in_the_api_url_is_named() {
    let args = ["--api-url=http://b:7480 ", "recover"].map(OsString::from);
    let message = parse(args).unwrap_err();
    assert_eq!(
        message,
        "--api-url ends with white space (a trailing space?): remove it"
    );
}

#[test]
fn every_error_names_what_is_wrong() {
    let recover = "recover --barman-server s --ssh-command c --datadir d";
    let cases = [
        ("frobnicate", "unknown subcommand \"frobnicate\""),
        ("--api-url http://b --loop-wait 5 recover", &format!("unknown subcommand \"5\": use {NAMES_LISTED} (after --loop-wait, which is not an option before the subcommand")),
        (recover, "--api-url is required"),
        (&format!("--api-url b:80 {recover}"), "--api-url must start with http://"),
        (&format!("--api-url http://b {recover} --retry-wait x"), "--retry-wait must be a number"),
        (&format!("--api-url http://b {recover} --retry-wait -1"), "--retry-wait must be"),
        (&format!("--api-url http://b {recover} --loop-wait 0"), "--loop-wait must be"),
        (&format!("--api-url http://b {recover} --loop-wait inf"), "--loop-wait must be"),
        (&format!("--api-url http://b {recover} --loop-wait 0.0009"), "--loop-wait must be a number of seconds, at least 0.001"),
        (&format!("--api-url http://b {recover} --http-timeout 0"), "--http-timeout must be a number of seconds, at least 0.001"),
        (&format!("--api-url http://b {recover} --max-retries -1"), "--max-retries must be"),
        (&format!("--api-url http://b {recover} --max-wait 0"), "--max-wait must be a number of seconds above 0"),
        (&format!("--api-url http://b {recover} stray"), "recover takes no argument"),
        (&format!("--api-url http://b {recover} --data=x"), "--data is ambiguous"),
        (&format!("--api-url http://b {recover} --help=yes"), "--help takes no value"),
        (&format!("--api-url http://b {recover} --backup-id"), "--backup-id needs a value"),
        (&format!("--api-url http://b {recover} --backup-id="), "--backup-id must not be empty"),
        ("--api-url http://b recover --ssh-command c --datadir d", "--barman-server is required"),
        ("--api-url http://b recover --barman-server s --datadir d", "--ssh-command is required"),
        ("--api-url http://b recover --barman-server s --ssh-command c", "--data-directory (or --datadir)"),
        ("--api-url http://b recover --barman-server= --ssh-command c --datadir d", "--barman-server must not be empty"),
        ("--api-url http://b config-switch --barman-server s --reset --switch-when always on_role_change primary", "takes 3 arguments"),
        ("--api-url http://b config-switch --barman-server s --reset --switch-when always on_start primary c", "on_role_change callback"),
        ("--api-url http://b config-switch --barman-server s --reset --switch-when always on_role_change boss c", "unknown role \"boss\""),
        ("--api-url http://b config-switch --barman-server s --reset --switch-when never on_role_change primary c", "--switch-when must be"),
        ("--api-url http://b config-switch --barman-server s --reset on_role_change primary c", "--switch-when is required"),
    ];
    for (words, expected) in cases {
        let message = error(words);
        assert!(
            message.contains(expected),
            "{words}: {message:?} lacks {expected:?}"
        );
    }
}

#[test]
fn the_options_every_job_uses_are_checked_before_the_subcommands_own() {
    // recover lacks --ssh-command and --data-directory too.
    let message = error("--api-url http://b --log-format xml recover --barman-server s");
    assert!(
        message.starts_with("--log-format must be plain or json"),
        "{message}"
    );
    let message = error("--api-url http://b recover --barman-server s");
    assert_eq!(message, "--ssh-command is required");
}

#[test]
fn a_subcommands_own_errors_hide_passwords_and_name_typos() {
    let message = error("--api-url http://b recover --barman-server s --ssh-command c --datadir d http://u:S3cr3t@h");
    assert!(message.contains("recover takes no argument"), "{message}");
    assert!(!message.contains("S3cr3t"), "{message}");
    let message = error("--api-url http://b recover --barman_server s --ssh-command c --datadir d");
    assert!(
        message.contains("did you mean --barman-server?"),
        "{message}"
    );
}

#[test]
fn a_command_shows_no_password_typed_in_it() {
    let c = command(
        "--api-url http://u:S3cr3t@b recover --barman-server s --ssh-command c --datadir d",
    );
    assert!(!format!("{c:?}").contains("S3cr3t"));
}
