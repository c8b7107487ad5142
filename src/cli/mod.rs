//! The command line, the Python tool's surface: options as `--key value` or
//! `--key=value`, unambiguous prefixes, global options before or after the
//! subcommand (Patroni turns its method section's keys into `--key=value`
//! after `recover`), and unknown options ignored, because Patroni appends
//! `--scope=`, `--role=`, `--connstring=` and the user's keys.
//!
//! Every option is defined once, in `options::OPTIONS`. `parse` first
//! records what was typed, each value read as its row says (`read::Typed`,
//! asked by the row's `options::key`, which gives the value's type), then
//! derives what the work code needs (`Command`), which holds no raw strings
//! to check.

mod help;
mod man;
pub mod options;
mod read;

use crate::sub::Sub;
pub use help::{help, shown_default, synopsis};
pub use man::man_page;
use options::{key, Choice};
pub use options::{Opt, Scope, OPTIONS};

use crate::log::Format;
use crate::rules::poll::{PollPolicy, NOT_FOUND_PATIENCE};
use crate::rules::retry::RetryPolicy;
use crate::text::{printable, without_passwords};
use crate::url::ApiUrl;
use read::Typed;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    Run(Box<Command>),
    /// `--help` or `--version`: print this and exit 0.
    Print(String),
    NoSubcommand,
}

#[derive(Debug)]
pub struct Command {
    pub api_url: ApiUrl,
    /// `--ca-file`, `--cert-file`, `--key-file`.
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub retry: RetryPolicy,
    pub poll: PollPolicy,
    pub http_timeout: Duration,
    pub log_file: Option<PathBuf>,
    pub log_format: Format,
    /// `--metrics-file`, a `.prom` file.
    pub metrics_file: Option<PathBuf>,
    pub api_password_file: Option<PathBuf>,
    /// Options given but not used, by name only: their values (a connstring,
    /// say) may hold secrets.
    pub ignored: Vec<String>,
    pub job: Job,
}

impl Command {
    /// The TLS files given, with the options that gave them.
    pub fn tls_options(&self) -> Vec<(Opt, &PathBuf)> {
        let files = [
            (Opt::CaFile, &self.ca_file),
            (Opt::CertFile, &self.cert_file),
            (Opt::KeyFile, &self.key_file),
        ];
        files
            .into_iter()
            .filter_map(|(opt, file)| Some((opt, file.as_ref()?)))
            .collect()
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Job {
    Recover(Recover),
    ConfigSwitch(ConfigSwitch),
    Check(Check),
    Wait(Wait),
}

impl Job {
    pub fn sub(&self) -> Sub {
        match self {
            Job::Recover(_) => Sub::Recover,
            Job::ConfigSwitch(_) => Sub::ConfigSwitch,
            Job::Check(_) => Sub::Check,
            Job::Wait(_) => Sub::Wait,
        }
    }

    /// `--barman-server`, which every subcommand takes.
    pub fn server(&self) -> &str {
        match self {
            Job::Recover(job) => &job.server,
            Job::ConfigSwitch(job) => &job.server,
            Job::Check(job) => &job.server,
            Job::Wait(job) => &job.server,
        }
    }
}

/// `check`: what to prove about this node's Barman settings.
#[derive(Debug, PartialEq, Eq)]
pub struct Check {
    pub server: String,
    /// The config switch to prove, when `--barman-model` or `--reset` is given.
    pub change: Option<Change>,
    /// The backup to prove: `--backup-id`, or `latest` when the options of
    /// a recover (`--ssh-command`, `--data-directory`) are given.
    pub backup_id: Option<String>,
    pub data_directory: Option<String>,
    pub ssh_command: Option<String>,
    /// `--record-dir`: where recover keeps the record (src/jobs/recover/record.rs).
    pub record_dir: Option<String>,
    /// `--switch-when` of the node's callback, to warn about a hazard.
    pub switch_when: Option<SwitchWhen>,
    /// `--max-diagnose`, in bytes.
    pub max_diagnose: usize,
}

/// `wait`: follow an operation that already exists.
#[derive(Debug, PartialEq, Eq)]
pub struct Wait {
    pub server: String,
    pub id: String,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Recover {
    pub server: String,
    pub backup_id: String,
    pub ssh_command: String,
    pub data_directory: String,
    /// `--record-dir`: where the restore's record goes instead of beside
    /// the data directory (src/jobs/recover/record.rs).
    pub record_dir: Option<String>,
    /// `--progress-interval`: the pace of the progress lines; zero for none.
    pub progress_interval: Duration,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ConfigSwitch {
    pub server: String,
    /// The change to apply, or why `--barman-model`/`--reset` are invalid
    /// (its own exit code, 4, as in the Python tool).
    pub change: Result<Change, String>,
    pub role: String,
    pub switch_when: SwitchWhen,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    Model(String),
    Reset,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchWhen {
    Promoted,
    Demoted,
    Always,
}

impl Choice for SwitchWhen {
    const ALL: &'static [SwitchWhen] = &[
        SwitchWhen::Promoted,
        SwitchWhen::Demoted,
        SwitchWhen::Always,
    ];
    fn word(self) -> &'static str {
        self.name()
    }
}

impl SwitchWhen {
    pub fn name(self) -> &'static str {
        match self {
            SwitchWhen::Promoted => "promoted",
            SwitchWhen::Demoted => "demoted",
            SwitchWhen::Always => "always",
        }
    }

    /// Whether a node taking `role` should switch. `master` is what Patroni
    /// before 4.0 passed for `primary`.
    pub fn applies_to(self, role: &str) -> bool {
        match self {
            SwitchWhen::Promoted => matches!(role, "primary" | "promoted" | "master"),
            SwitchWhen::Demoted => matches!(role, "replica" | "demoted"),
            SwitchWhen::Always => true,
        }
    }
}

const ROLES: &[&str] = &[
    "primary",
    "promoted",
    "standby_leader",
    "replica",
    "demoted",
    "master",
];

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Parsed, String> {
    // A URL typed where another option belongs is quoted in the error.
    parse_typed(args).map_err(|why| without_passwords(&why))
}

fn parse_typed(args: impl IntoIterator<Item = OsString>) -> Result<Parsed, String> {
    let typed = read::read(args)?;
    if typed.flag(key::Help) {
        return Ok(Parsed::Print(help(typed.sub)));
    }
    if typed.flag(key::Version) {
        return Ok(Parsed::Print(
            concat!("patroni_barman ", env!("CARGO_PKG_VERSION"), "\n").into(),
        ));
    }
    match typed.sub {
        Some(sub) => Ok(Parsed::Run(Box::new(command(typed, sub)?))),
        None => Ok(Parsed::NoSubcommand),
    }
}

/// What the work code needs, checked in this order: the first problem is
/// the one reported.
fn command(typed: Typed, sub: Sub) -> Result<Command, String> {
    // The URL's own messages may quote part of it as typed.
    let api_url = ApiUrl::parse(&typed.required(key::ApiUrl)?)
        .map_err(|why| printable(&format!("{} {why}", Opt::ApiUrl.flag())))?;
    // These have a default in their row: they are never missing.
    let seconds = |key| typed.get(key).map(Option::unwrap_or_default);
    let retry = RetryPolicy {
        wait: seconds(key::RetryWait)?,
        attempts: typed.get(key::MaxRetries)?.unwrap_or_default(),
    };
    let poll = PollPolicy {
        loop_wait: seconds(key::LoopWait)?,
        max_wait: typed.get(key::MaxWait)?,
        not_found_patience: NOT_FOUND_PATIENCE,
    };
    let http_timeout = seconds(key::HttpTimeout)?;
    let job = match sub {
        Sub::Recover => Job::Recover(recover(&typed)?),
        Sub::ConfigSwitch => Job::ConfigSwitch(config_switch(&typed)?),
        Sub::Check => Job::Check(check(&typed)?),
        Sub::Wait => Job::Wait(Wait {
            server: no_argument(&typed, sub)?.required(key::BarmanServer)?,
            id: typed.required(key::OperationId)?,
        }),
    };
    let log_format = typed.get(key::LogFormat)?.unwrap_or_default();
    let metrics_file = typed.get(key::MetricsFile)?.map(PathBuf::from);
    let path = |key| typed.text(key).map(PathBuf::from);
    Ok(Command {
        api_url,
        ca_file: path(key::CaFile),
        cert_file: path(key::CertFile),
        key_file: path(key::KeyFile),
        retry,
        poll,
        http_timeout,
        log_file: path(key::LogFile),
        log_format,
        metrics_file,
        api_password_file: path(key::ApiPasswordFile),
        ignored: typed.ignored,
        job,
    })
}

/// The change `--barman-model` or `--reset` asks for, if any.
fn change(typed: &Typed) -> Result<Option<Change>, String> {
    match (typed.text(key::BarmanModel), typed.flag(key::Reset)) {
        (None, false) => Ok(None),
        (Some(_), true) => Err(format!(
            "{} and {} exclude each other",
            Opt::BarmanModel.flag(),
            Opt::Reset.flag()
        )),
        (Some(""), false) => Err(format!("{} must not be empty", Opt::BarmanModel.flag())),
        (Some(model), false) => Ok(Some(Change::Model(model.to_string()))),
        (None, true) => Ok(Some(Change::Reset)),
    }
}

/// `typed`, after checking that `sub` got no positional argument.
fn no_argument(typed: &Typed, sub: Sub) -> Result<&Typed, String> {
    match typed.positionals.first() {
        Some(extra) => Err(format!(
            "{} takes no argument, but {extra:?} was given",
            sub.name()
        )),
        None => Ok(typed),
    }
}

fn check(typed: &Typed) -> Result<Check, String> {
    let change = change(typed)?;
    let data_directory = typed.text(key::DataDirectory).map(String::from);
    let ssh_command = typed.text(key::SshCommand).map(String::from);
    // Given the options of recover, check proves the backup recover would
    // restore.
    let recover_given = data_directory.is_some() || ssh_command.is_some();
    let recovers = Opt::BackupId.spec().default_for(Sub::Recover);
    let backup_id = match typed.get(key::BackupId)? {
        None if recover_given => recovers.map(String::from),
        id => id,
    };
    Ok(Check {
        server: no_argument(typed, Sub::Check)?.required(key::BarmanServer)?,
        change,
        backup_id,
        data_directory,
        ssh_command,
        record_dir: typed.text(key::RecordDir).map(String::from),
        switch_when: typed.get(key::SwitchWhen)?,
        max_diagnose: typed.get(key::MaxDiagnose)?.unwrap_or_default(),
    })
}

fn recover(typed: &Typed) -> Result<Recover, String> {
    no_argument(typed, Sub::Recover)?;
    Ok(Recover {
        server: typed.required(key::BarmanServer)?,
        backup_id: typed.get(key::BackupId)?.unwrap_or_default(),
        ssh_command: typed.required(key::SshCommand)?,
        data_directory: typed.required(key::DataDirectory).map_err(|_| {
            format!(
                "{} (or --{}) is required and must not be empty",
                Opt::DataDirectory.flag(),
                Opt::DataDirectory.spec().names[1]
            )
        })?,
        record_dir: typed.text(key::RecordDir).map(String::from),
        progress_interval: typed.get(key::ProgressInterval)?.unwrap_or_default(),
    })
}

fn config_switch(typed: &Typed) -> Result<ConfigSwitch, String> {
    let [action, role, _cluster] = typed.positionals.as_slice() else {
        return Err(format!(
            "config-switch takes 3 arguments, ACTION ROLE CLUSTER (as Patroni's on_role_change passes them), \
             but {} were given",
            typed.positionals.len()
        ));
    };
    if action != "on_role_change" {
        return Err(format!(
            "config-switch runs as the on_role_change callback, not {action:?}"
        ));
    }
    if !ROLES.contains(&role.as_str()) {
        return Err(format!(
            "unknown role {role:?}: expected one of {}",
            ROLES.join(", ")
        ));
    }
    let switch_when = typed.required(key::SwitchWhen)?;
    let change = change(typed).and_then(|change| {
        change.ok_or_else(|| {
            format!(
                "one of {} or {} is required",
                Opt::BarmanModel.flag(),
                Opt::Reset.flag()
            )
        })
    });
    Ok(ConfigSwitch {
        server: typed.required(key::BarmanServer)?,
        change,
        role: role.clone(),
        switch_when,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sub::NAMES_LISTED;

    fn parse_words(words: &str) -> Result<Parsed, String> {
        parse(words.split(' ').map(OsString::from))
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
        let least = [
            (Sub::Recover, "--api-url http://b recover --barman-server s --ssh-command c --data-directory d"),
            (Sub::ConfigSwitch, "--api-url http://b config-switch on_role_change primary c --barman-server s --reset --switch-when always"),
            (Sub::Check, "--api-url http://b check --barman-server s"),
            (Sub::Wait, "--api-url http://b wait --barman-server s --operation-id 1"),
        ];
        for (sub, words) in least {
            command(words);
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
        let mut args: Vec<OsString> =
            "recover --scope=batman --datadir=/pg/data --barman-server=main"
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
            command.job,
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
        let Job::ConfigSwitch(switch) = c.job else {
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
        let change = |extra: &str| match command(&format!("{base}{extra}")).job {
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
        for option in ["max-wait", "http-timeout", "loop-wait", "retry-wait"] {
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
        let switch =
            "--api-url http://b config-switch --barman-server s --reset --switch-when always";
        let c = command(&format!("{switch} on_role_change primary c --foo bar"));
        assert_eq!(c.ignored, vec!["--foo"]);
        assert!(
            matches!(c.job, Job::ConfigSwitch(ConfigSwitch { ref role, .. }) if role == "primary")
        );
        // Before the three arguments, the word is the first of them.
        let c = command(&format!("{switch} --foo on_role_change primary c"));
        assert!(
            matches!(c.job, Job::ConfigSwitch(ConfigSwitch { ref role, .. }) if role == "primary")
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
}
