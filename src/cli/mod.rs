//! The command line, the Python tool's surface: options as `--key value` or
//! `--key=value`, unambiguous prefixes, global options before or after the
//! subcommand (Patroni turns its method section's keys into `--key=value`
//! after `recover`), and unknown options ignored, because Patroni appends
//! `--scope=`, `--role=`, `--connstring=` and the user's keys.
//!
//! Every option is defined once, in `options::OPTIONS`. `parse` first
//! records what was typed, each value read as its row says (`read::Typed`,
//! asked by the row's `options::key`, which gives the value's type), then
//! derives what every job needs (`Command`). The subcommand's own options
//! are read from the same record by its job (`jobs::Job::read`), after these.

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
pub use read::Typed;
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
    pub sub: Sub,
    /// What was typed, for the subcommand's own options: its job reads them
    /// (`jobs::Job::read`), so that a new subcommand leaves this file alone.
    pub options: Typed,
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

/// What every job needs, checked in this order (the subcommand's own
/// options come after, in `jobs::Job::read`): the first problem is the one
/// reported.
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
        // A copy: a job's missing option still names the typo among them.
        ignored: typed.ignored.clone(),
        sub,
        options: typed,
    })
}
