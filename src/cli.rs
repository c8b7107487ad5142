//! The command line, the Python tool's surface: options as `--key value` or
//! `--key=value`, unambiguous prefixes, global options before or after the
//! subcommand (Patroni turns its method section's keys into `--key=value`
//! after `recover`), and unknown options ignored, because Patroni appends
//! `--scope=`, `--role=`, `--connstring=` and the user's keys.
//!
//! `parse` first records what was typed (`Typed`), then checks it and derives
//! what the work code needs (`Command`), which holds no raw strings to check.

use crate::poll::PollPolicy;
use crate::retry::RetryPolicy;
use crate::text::{parse_seconds, printable};
use crate::transport::TlsFiles;
use crate::url::ApiUrl;
use lexopt::Arg;
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
    pub tls: TlsFiles,
    pub retry: RetryPolicy,
    pub poll: PollPolicy,
    pub http_timeout: Duration,
    pub log_file: Option<PathBuf>,
    /// Options given but not used, by name only: their values (a connstring,
    /// say) may hold secrets.
    pub ignored: Vec<String>,
    pub job: Job,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Job {
    Recover(Recover),
    ConfigSwitch(ConfigSwitch),
}

#[derive(Debug, PartialEq, Eq)]
pub struct Recover {
    pub server: String,
    pub backup_id: String,
    pub ssh_command: String,
    pub data_directory: String,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sub {
    Recover,
    ConfigSwitch,
}

impl Sub {
    /// How many positional arguments the subcommand takes.
    fn positional_count(self) -> usize {
        match self {
            Sub::Recover => 0,
            Sub::ConfigSwitch => 3,
        }
    }
}

const GLOBAL: &[&str] = &[
    "api-url",
    "cert-file",
    "key-file",
    "ca-file",
    "retry-wait",
    "max-retries",
    "http-timeout",
    "max-wait",
    "log-file",
    "help",
    "version",
];
const RECOVER: &[&str] = &[
    "barman-server",
    "backup-id",
    "ssh-command",
    "data-directory",
    "datadir",
    "loop-wait",
];
const CONFIG_SWITCH: &[&str] = &[
    "barman-server",
    "barman-model",
    "reset",
    "switch-when",
    "loop-wait",
];
const FLAGS: &[&str] = &["help", "version", "reset"];

/// What was typed, before any checking.
#[derive(Debug, Default)]
struct Typed {
    sub: Option<Sub>,
    /// Option values by canonical name, in order; the last one wins.
    values: Vec<(&'static str, String)>,
    flags: Vec<&'static str>,
    positionals: Vec<String>,
    ignored: Vec<String>,
}

impl Typed {
    fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &str) -> Result<&str, String> {
        match self.value(name) {
            Some("") => Err(format!("--{name} must not be empty")),
            Some(value) => Ok(value),
            None => Err(format!("--{name} is required")),
        }
    }

    fn flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }

    /// A number of seconds like `2`, `0.05` or `1.5`, at least `least`.
    fn seconds(&self, name: &str, default: Duration, least: Least) -> Result<Duration, String> {
        let Some(text) = self.value(name) else {
            return Ok(default);
        };
        let kind = match least {
            Least::Zero => "a number of seconds",
            Least::AboveZero => "a number of seconds above 0",
            Least::Millisecond => "a number of seconds, at least 0.001",
            Least::WholeSecond => "a whole number of seconds, at least 1",
        };
        let bad = || format!("--{name} must be {kind}, not {text:?}");
        let secs = parse_seconds(text.trim()).ok_or_else(bad)?;
        let too_small = match least {
            Least::Zero => false,
            Least::AboveZero => secs.is_zero(),
            Least::Millisecond => secs < Duration::from_millis(1),
            Least::WholeSecond => secs.is_zero() || secs.subsec_nanos() != 0,
        };
        if too_small {
            return Err(bad());
        }
        if secs.as_secs() >= MAX_SECONDS {
            return Err(format!(
                "--{name} must be under {MAX_SECONDS} seconds (31 years), not {text:?}"
            ));
        }
        Ok(secs)
    }
}

/// The least value an option of seconds takes.
#[derive(Clone, Copy)]
enum Least {
    /// `--retry-wait 0`: retry at once.
    Zero,
    AboveZero,
    /// `--loop-wait`: polls closer than this would load the API for nothing.
    Millisecond,
    /// `--http-timeout`: whole seconds, as since the first release (the
    /// http:// client then had a deadline of whole seconds).
    WholeSecond,
}

/// The bound of every wait and timeout: far more than anyone waits, and far
/// less than what overflows a deadline (`Instant + Duration` panics when the
/// sum does not fit).
const MAX_SECONDS: u64 = 1_000_000_000;

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Parsed, String> {
    let typed = read(args)?;
    if typed.flag("help") {
        return Ok(Parsed::Print(help(typed.sub).to_string()));
    }
    if typed.flag("version") {
        return Ok(Parsed::Print(
            concat!("patroni_barman ", env!("CARGO_PKG_VERSION"), "\n").into(),
        ));
    }
    let Some(sub) = typed.sub else {
        return Ok(Parsed::NoSubcommand);
    };
    // The URL's own messages may quote part of it as typed.
    let api_url = ApiUrl::parse(typed.required("api-url")?)
        .map_err(|why| printable(&format!("--api-url {why}")))?;
    let default_loop_wait = Duration::from_secs(if sub == Sub::Recover { 10 } else { 5 });
    let max_retries = match typed.value("max-retries") {
        None => 5,
        Some(text) => text.trim().parse::<u32>().map_err(|_| {
            format!("--max-retries must be a whole number of attempts, not {text:?}")
        })?,
    };
    let retry = RetryPolicy {
        wait: typed.seconds("retry-wait", Duration::from_secs(2), Least::Zero)?,
        attempts: max_retries,
    };
    let poll = PollPolicy {
        loop_wait: typed.seconds("loop-wait", default_loop_wait, Least::Millisecond)?,
        max_wait: match typed.value("max-wait") {
            Some(_) => Some(typed.seconds("max-wait", Duration::ZERO, Least::AboveZero)?),
            None => None,
        },
    };
    let http_timeout =
        typed.seconds("http-timeout", Duration::from_secs(30), Least::WholeSecond)?;
    let job = match sub {
        Sub::Recover => Job::Recover(recover(&typed)?),
        Sub::ConfigSwitch => Job::ConfigSwitch(config_switch(&typed)?),
    };
    let path = |name| typed.value(name).map(PathBuf::from);
    Ok(Parsed::Run(Box::new(Command {
        api_url,
        tls: TlsFiles {
            ca_file: path("ca-file"),
            cert_file: path("cert-file"),
            key_file: path("key-file"),
        },
        retry,
        poll,
        http_timeout,
        log_file: path("log-file"),
        ignored: typed.ignored,
        job,
    })))
}

/// Records what was typed; the only checks are those lexopt makes.
fn read(args: impl IntoIterator<Item = OsString>) -> Result<Typed, String> {
    let mut typed = Typed::default();
    let mut parser = lexopt::Parser::from_args(args);
    // An unknown `--key` typed without `=value` may be followed by its value
    // (`--foo bar`): like argparse, a word that no positional slot wants is
    // taken as that value and dropped with it.
    let mut after_unknown = false;
    // lexopt quotes an option name as typed (`-x=1`: "unexpected argument
    // for option '-x'"): made printable, as the names of ignored options.
    while let Some(arg) = parser.next().map_err(|e| printable(&e.to_string()))? {
        let value_of_unknown = std::mem::take(&mut after_unknown);
        match arg {
            Arg::Short('h') => typed.flags.push("help"),
            Arg::Short(c) => typed.ignored.push(printable(&format!("-{c}"))),
            Arg::Long(name) => {
                let name = name.to_string();
                after_unknown = typed.read_option(&name, &mut parser)?;
            }
            Arg::Value(value) => {
                let value = value
                    .into_string()
                    .map_err(|_| "an argument is not valid UTF-8".to_string())?;
                typed.read_word(value, value_of_unknown)?;
            }
        }
    }
    Ok(typed)
}

impl Typed {
    /// Records `--name[=value]`; true when it is unknown and has no
    /// `=value`, so that the next word may be its value.
    fn read_option(&mut self, name: &str, parser: &mut lexopt::Parser) -> Result<bool, String> {
        let known: Vec<&'static str> = match self.sub {
            None => GLOBAL.to_vec(),
            Some(Sub::Recover) => [GLOBAL, RECOVER].concat(),
            Some(Sub::ConfigSwitch) => [GLOBAL, CONFIG_SWITCH].concat(),
        };
        match resolve(name, &known)? {
            None => {
                // Drop the `=value`, if any, with the option.
                let bare = parser.optional_value().is_none();
                self.ignored.push(printable(&format!("--{name}")));
                return Ok(bare);
            }
            Some(flag) if FLAGS.contains(&flag) => {
                if parser.optional_value().is_some() {
                    return Err(format!("--{flag} takes no value"));
                }
                self.flags.push(flag);
            }
            Some(option) => {
                let value = parser
                    .value()
                    .map_err(|_| format!("--{option} needs a value"))?;
                let value = value
                    .into_string()
                    .map_err(|_| format!("--{option} is not valid UTF-8"))?;
                let canonical = if option == "datadir" {
                    "data-directory"
                } else {
                    option
                };
                self.values.push((canonical, value));
            }
        }
        Ok(false)
    }

    /// Records a word that is not an option: the subcommand, one of its
    /// arguments, or (`value_of_unknown`) maybe the value of an ignored option.
    fn read_word(&mut self, word: String, value_of_unknown: bool) -> Result<(), String> {
        match (self.sub, word.as_str()) {
            (None, "recover") => self.sub = Some(Sub::Recover),
            (None, "config-switch") => self.sub = Some(Sub::ConfigSwitch),
            (None, other) => {
                // `--loop-wait 5 recover`: an option of a subcommand typed
                // before it, so its value reads as one.
                let after = match self.ignored.last() {
                    Some(option) if value_of_unknown => format!(
                        " (after {option}, which is not an option before the subcommand: \
                         move it after recover or config-switch)"
                    ),
                    _ => String::new(),
                };
                return Err(format!(
                    "unknown subcommand {other:?}: use recover or config-switch{after}"
                ));
            }
            (Some(sub), _)
                if value_of_unknown && self.positionals.len() >= sub.positional_count() => {}
            (Some(_), _) => self.positionals.push(word),
        }
        Ok(())
    }
}

/// The option `name` stands for: itself, or the one option it is a prefix of.
fn resolve(name: &str, known: &[&'static str]) -> Result<Option<&'static str>, String> {
    if let Some(exact) = known.iter().find(|k| **k == name) {
        return Ok(Some(exact));
    }
    let candidates: Vec<&'static str> = known
        .iter()
        .copied()
        .filter(|k| !name.is_empty() && k.starts_with(name))
        .collect();
    match candidates.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        many => Err(format!(
            "--{name} is ambiguous: it could be --{}",
            many.join(", --")
        )),
    }
}

fn recover(typed: &Typed) -> Result<Recover, String> {
    if let Some(extra) = typed.positionals.first() {
        return Err(format!(
            "recover takes no argument, but {extra:?} was given"
        ));
    }
    Ok(Recover {
        server: typed.required("barman-server")?.to_string(),
        backup_id: typed.value("backup-id").unwrap_or("latest").to_string(),
        ssh_command: typed.required("ssh-command")?.to_string(),
        data_directory: typed
            .required("data-directory")
            .map_err(|_| {
                "--data-directory (or --datadir) is required and must not be empty".to_string()
            })?
            .to_string(),
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
    let switch_when = match typed.required("switch-when")? {
        "promoted" => SwitchWhen::Promoted,
        "demoted" => SwitchWhen::Demoted,
        "always" => SwitchWhen::Always,
        other => {
            return Err(format!(
                "--switch-when must be promoted, demoted or always, not {other:?}"
            ))
        }
    };
    let change = match (typed.value("barman-model"), typed.flag("reset")) {
        (Some(_), true) => Err("--barman-model and --reset exclude each other".to_string()),
        (Some(""), false) => Err("--barman-model must not be empty".to_string()),
        (Some(model), false) => Ok(Change::Model(model.to_string())),
        (None, true) => Ok(Change::Reset),
        (None, false) => Err("one of --barman-model or --reset is required".to_string()),
    };
    Ok(ConfigSwitch {
        server: typed.required("barman-server")?.to_string(),
        change,
        role: role.clone(),
        switch_when,
    })
}

fn help(sub: Option<Sub>) -> &'static str {
    match sub {
        None => HELP,
        Some(Sub::Recover) => HELP_RECOVER,
        Some(Sub::ConfigSwitch) => HELP_CONFIG_SWITCH,
    }
}

const HELP: &str = "\
patroni_barman: drive Barman through pg-backup-api for Patroni

Usage: patroni_barman --api-url URL [OPTIONS] recover|config-switch ...

Subcommands (each has its own --help):
  recover         restore a Barman backup into this node's data directory
                  (a Patroni bootstrap or replica creation method)
  config-switch   apply or reset a Barman config model on a role change
                  (Patroni's on_role_change callback)

Options, before or after the subcommand:
  --api-url URL         pg-backup-api, e.g. http://127.0.0.1:7480 or
                        https://barman:8443/pgbackup (the path is kept)
  --ca-file PEM         CAs to trust for https:// (default: SSL_CERT_FILE,
                        then the system bundle)
  --cert-file PEM       client certificate chain for https:// (may hold the key)
  --key-file PEM        client key (PKCS#8, PKCS#1 or SEC1) for --cert-file
  --retry-wait SECS     pause after a failed request, fractions allowed
                        [default: 2]
  --max-retries N       attempts per request before giving up (0 counts as 1)
                        [default: 5]
  --http-timeout SECS   deadline of each request, whole seconds [default: 30]
  --max-wait SECS       stop waiting for the operation once it exists after this
                        long, exit 5 (it goes on on the Barman host); a poll in
                        flight gets what is left, at least 1 s
                        [default: no limit]
  --log-file PATH       append log lines here instead of stderr
  -h, --help            print help
  --version             print the version

Exit codes: 0 done; recover: 1 failed, 2 API error; config-switch: 1 skipped,
2 failed, 3 API error, 4 bad --barman-model/--reset; 5 --max-wait ran out;
64 bad command line; 254 pg-backup-api not OK; 255 no subcommand.
";

const HELP_RECOVER: &str = "\
patroni_barman recover: restore a Barman backup into this node's data directory

Usage: patroni_barman --api-url URL recover --barman-server NAME --ssh-command CMD
                      --data-directory DIR [--backup-id ID] [--loop-wait SECS]

Asks pg-backup-api to run `barman recover` of the backup into DIR on this host
(over CMD), then polls until the operation is DONE (exit 0) or FAILED (exit 1).

  --barman-server NAME    the Barman server that holds the backup
  --backup-id ID          backup id or alias (latest, oldest, ...) [default: latest]
  --ssh-command CMD       how the Barman host reaches this one, e.g.
                          \"ssh postgres@pg1\"
  --data-directory DIR    where to restore (alias --datadir, as Patroni passes it)
  --loop-wait SECS        longest pause between polls, at least 0.001
                          [default: 10]; polls start right after the POST, then
                          every max(0.25 s, age/12), never more than SECS apart

Global options (--api-url, --retry-wait, ...) may also come here. Options this
tool does not know, like Patroni's --scope= and --role=, are ignored.
Exit codes: 0 done, 1 failed, 2 API error, 5 --max-wait ran out, 64 bad
command line, 254 pg-backup-api not OK.
";

const HELP_CONFIG_SWITCH: &str = "\
patroni_barman config-switch: apply a Barman config model when this node's role changes

Usage: patroni_barman --api-url URL config-switch --barman-server NAME
                      (--barman-model MODEL | --reset) --switch-when WHEN
                      on_role_change ROLE CLUSTER

Patroni appends on_role_change ROLE CLUSTER when it runs the callback. When
ROLE matches WHEN, asks pg-backup-api to apply MODEL (or reset the config) and
polls until the operation is DONE (exit 0) or FAILED (exit 2); otherwise it
sends nothing and exits 1.

  --barman-server NAME   the Barman server to reconfigure
  --barman-model MODEL   the config model to apply
  --reset                reset the server to its own configuration instead
  --switch-when WHEN     promoted: on primary/promoted (and master, Patroni < 4);
                         demoted: on replica/demoted; always: on any role
  --loop-wait SECS       longest pause between polls, at least 0.001
                         [default: 5]; polls start right after the POST, then
                         every max(0.25 s, age/12), never more than SECS apart
  ROLE                   primary, promoted, standby_leader, replica, demoted
                         or master

Exit codes: 0 done, 1 skipped, 2 failed, 3 API error, 4 bad
--barman-model/--reset, 5 --max-wait ran out, 64 bad command line,
254 pg-backup-api not OK.
";

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &str) -> Result<Parsed, String> {
        parse(words.split(' ').map(OsString::from))
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
            command.api_url.endpoint(&["status"]).url,
            "http://b:7480/pgbackup/status"
        );
        assert_eq!(
            command.job,
            Job::Recover(Recover {
                server: "main".into(),
                backup_id: "latest".into(),
                ssh_command: "ssh postgres@pg1 -p 22".into(),
                data_directory: "/pg/data".into(),
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
        assert!(matches!(parse_words("--help"), Ok(Parsed::Print(text)) if text == HELP));
        assert!(
            matches!(parse_words("recover -h"), Ok(Parsed::Print(text)) if text == HELP_RECOVER)
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
            ("--api-url http://b --loop-wait 5 recover", "unknown subcommand \"5\": use recover or config-switch (after --loop-wait, which is not an option before the subcommand"),
            (recover, "--api-url is required"),
            (&format!("--api-url b:80 {recover}"), "--api-url must start with http://"),
            (&format!("--api-url http://b {recover} --retry-wait x"), "--retry-wait must be a number"),
            (&format!("--api-url http://b {recover} --retry-wait -1"), "--retry-wait must be"),
            (&format!("--api-url http://b {recover} --loop-wait 0"), "--loop-wait must be"),
            (&format!("--api-url http://b {recover} --loop-wait inf"), "--loop-wait must be"),
            (&format!("--api-url http://b {recover} --loop-wait 0.0009"), "--loop-wait must be a number of seconds, at least 0.001"),
            (&format!("--api-url http://b {recover} --http-timeout 0.5"), "--http-timeout must be a whole"),
            (&format!("--api-url http://b {recover} --max-retries -1"), "--max-retries must be"),
            (&format!("--api-url http://b {recover} --max-wait 0"), "--max-wait must be a number of seconds above 0"),
            (&format!("--api-url http://b {recover} stray"), "recover takes no argument"),
            (&format!("--api-url http://b {recover} --data=x"), "--data is ambiguous"),
            (&format!("--api-url http://b {recover} --help=yes"), "--help takes no value"),
            (&format!("--api-url http://b {recover} --backup-id"), "--backup-id needs a value"),
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
