//! The jobs, one file each: recover, config-switch, check and wait. They
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
use crate::cli::{Command, Job, Opt};
use crate::clock::Clock;
use crate::log::Logger;
use crate::outcome::Outcome;
use crate::signals;
use crate::text::capitalized;
use crate::transport::{Transport, TransportConfig};
use crate::url::Scheme;
use session::Session;

/// Opens the log, starts watching for termination, prepares the transport
/// and runs the job. `Err` is a usage error (a certificate file cannot be
/// used): nothing is sent.
pub fn run(command: Command, clock: &dyn Clock) -> Result<Outcome, String> {
    let log = match &command.log_file {
        Some(path) => Logger::to_file_or_stderr(path),
        None => Logger::stderr(),
    };
    // The signal thread logs too, until the process ends.
    let log: &'static Logger = Box::leak(Box::new(log));
    signals::note("no operation was created.".into());
    if let Err(why) = signals::watch(log) {
        log.warning(&format!("{}.", capitalized(&why)));
    }
    let transport = Transport::new(&TransportConfig {
        url: &command.api_url,
        timeout: command.http_timeout,
        ca_file: command.ca_file.as_deref(),
        cert_file: command.cert_file.as_deref(),
        key_file: command.key_file.as_deref(),
        user_agent: None,
    })?;
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
    Ok(match &command.job {
        Job::Recover(job) => recover::run(&session, job),
        Job::ConfigSwitch(job) => config_switch::run(&session, job),
        Job::Check(job) => check::run(&session, job),
        Job::Wait(job) => wait::run(&session, job),
    })
}
