//! The jobs, one file each: recover, config-switch, check and wait. Each
//! file reads its subcommand's own options (`Job::read`) and runs it. They
//! share the session (src/jobs/session.rs): the API client, the log, the
//! retry and poll policies, and the steps every job is made of (check
//! /status, create once, follow, report). Nothing outside this module sees
//! a session's fields.

mod check;
mod config_switch;
mod diagnose;
mod recover;
mod resume;
mod session;
mod wait;

pub use diagnose::Diagnose;
pub use recover::bytes_under;

use crate::api::Client;
use crate::cli::{Command, Opt};
use crate::clock::Clock;
use crate::log::Logger;
use crate::metrics;
use crate::outcome::Outcome;
use crate::secrets;
use crate::signals;
use crate::sub::Sub;
use crate::text::{capitalized, without_passwords};
use crate::transport::{Transport, TransportConfig};
use crate::url::Scheme;
use session::Session;
use std::path::Path;
use std::time::SystemTime;

/// What a subcommand runs with, read by its file from what was typed. A new
/// subcommand is its row (src/sub.rs), its file here, the arms below, and
/// its rows of the exit-code table (src/outcome.rs).
#[derive(Debug, PartialEq, Eq)]
pub enum Job {
    Recover(recover::Recover),
    ConfigSwitch(config_switch::ConfigSwitch),
    Check(check::Check),
    Wait(wait::Wait),
}

impl Job {
    /// The job of `command`'s subcommand, or a usage error (nothing sent).
    pub fn read(command: &Command) -> Result<Job, String> {
        let typed = &command.options;
        let job = match command.sub {
            Sub::Recover => recover::Recover::read(typed).map(Job::Recover),
            Sub::ConfigSwitch => config_switch::ConfigSwitch::read(typed).map(Job::ConfigSwitch),
            Sub::Check => check::Check::read(typed).map(Job::Check),
            Sub::Wait => wait::Wait::read(typed).map(Job::Wait),
        };
        // A URL typed where another option belongs is quoted in the error.
        job.map_err(|why| without_passwords(&why))
    }

    /// `--barman-server`, which every subcommand takes.
    fn server(&self) -> &str {
        match self {
            Job::Recover(job) => &job.server,
            Job::ConfigSwitch(job) => &job.server,
            Job::Check(job) => &job.server,
            Job::Wait(job) => &job.server,
        }
    }

    fn run(&self, session: &Session) -> Outcome {
        match self {
            Job::Recover(job) => recover::run(session, job),
            Job::ConfigSwitch(job) => config_switch::run(session, job),
            Job::Check(job) => check::run(session, job),
            Job::Wait(job) => wait::run(session, job),
        }
    }
}

/// Reads the job's options, opens the log, starts watching for termination,
/// prepares the transport and runs the job, then writes the metrics file.
/// `Err` is a usage error (an option of the subcommand, or a certificate or
/// password file that cannot be used): nothing is sent.
pub fn run(command: Command, clock: &dyn Clock) -> Result<Outcome, String> {
    let job = Job::read(&command)?;
    let started = SystemTime::now();
    let log = match &command.log_file {
        Some(path) => Logger::to_file_or_stderr(path),
        None => Logger::stderr(),
    };
    // The signal thread logs too, until the process ends.
    let log: &'static Logger = Box::leak(Box::new(log.in_format(command.log_format)));
    let (sub, server) = (command.sub, job.server().to_string());
    log.field("subcommand", sub.name());
    log.field("server", &server);
    if let Some(path) = command.metrics_file.clone() {
        let server = server.clone();
        signals::at_exit(Box::new(move |code| {
            write_metrics(&path, log, sub, &server, started, code, None);
        }));
    }
    signals::note("no operation was created.".into());
    if let Err(why) = signals::watch(log) {
        log.warning(&format!("{}.", capitalized(&why)));
    }
    let result = prepare_and_run(&command, &job, clock, log);
    // A usage error found here (a file that cannot be used) is a run that
    // ended 64: an alert must see it too. main words it, on stderr.
    let code = result.as_ref().map_or(Outcome::Usage, |o| *o).exit_code();
    if let Some(path) = &command.metrics_file {
        let restored = match &job {
            Job::Recover(job) => Some(bytes_under(Path::new(&job.data_directory))),
            _ => None,
        };
        write_metrics(path, log, sub, &server, started, code, restored);
    }
    if result.is_ok() {
        log.exit(code);
    }
    result
}

fn prepare_and_run(
    command: &Command,
    job: &Job,
    clock: &dyn Clock,
    log: &Logger,
) -> Result<Outcome, String> {
    let api_url = match &command.api_password_file {
        Some(path) => secrets::with_password_from(&command.api_url, path)?,
        None => command.api_url.clone(),
    };
    let transport = Transport::new(&TransportConfig {
        url: &api_url,
        timeout: command.http_timeout,
        ca_file: command.ca_file.as_deref(),
        cert_file: command.cert_file.as_deref(),
        key_file: command.key_file.as_deref(),
        user_agent: None,
    })?;
    // Once the files are known to be usable: a usage error stays one line.
    let secret_files = [
        (Opt::ApiPasswordFile, &command.api_password_file),
        (Opt::KeyFile, &command.key_file),
        // A certificate file without a key file holds the key.
        (
            Opt::CertFile,
            &command
                .cert_file
                .clone()
                .filter(|_| command.key_file.is_none()),
        ),
    ];
    for (opt, path) in secret_files {
        if let Some(warning) = path.as_ref().and_then(|p| secrets::exposed(&opt.flag(), p)) {
            log.warning(&warning);
        }
    }
    let tls_options = command.tls_options();
    if command.api_url.scheme == Scheme::Http && !tls_options.is_empty() {
        let unused: Vec<String> = tls_options.iter().map(|(opt, _)| opt.flag()).collect();
        log.warning(&format!(
            "Not using {}: {} is http://, which has no TLS.",
            unused.join(", "),
            Opt::ApiUrl.flag()
        ));
    }
    for option in &command.ignored {
        log.info(&format!(
            "Ignoring option {option}, which patroni_barman does not use."
        ));
    }
    let session = Session::new(
        Client::new(transport),
        log,
        clock,
        command.retry,
        command.poll,
        resume::command_base(&command.api_url, &tls_options),
    );
    Ok(job.run(&session))
}

fn write_metrics(
    path: &Path,
    log: &Logger,
    sub: Sub,
    server: &str,
    started: SystemTime,
    exit_code: u8,
    restored_bytes: Option<u64>,
) {
    let run = metrics::Run {
        subcommand: sub.name(),
        server,
        started,
        ended: SystemTime::now(),
        exit_code,
        restored_bytes,
    };
    metrics::write(path, &run, log);
}

#[cfg(test)]
mod tests;
