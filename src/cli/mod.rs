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
mod tests;
