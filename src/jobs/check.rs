//! `check`: proves a node's Barman settings before a failover needs them.
//! One line per check on stdout (`ok`, `FAIL` or `WARNING`), what it found
//! in words; the log (stderr) has the requests and their retries. Nothing is
//! created on the Barman host.

use super::config_switch::{change, Change};
use super::diagnose::{Diagnose, Server};
use super::recover::{missing_directories, record};
use super::session::Session;
use crate::cli::options::key;
use crate::cli::{Opt, SwitchWhen, Typed};
use crate::failure::{Problem, Request};
use crate::outcome::Outcome;
use crate::sub::Sub;
use crate::text::named;
use std::cell::Cell;
use std::io::Write;
use std::path::Path;

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

impl Check {
    pub(super) fn read(typed: &Typed) -> Result<Check, String> {
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
            server: typed
                .without_arguments(Sub::Check)?
                .required(key::BarmanServer)?,
            change,
            backup_id,
            data_directory,
            ssh_command,
            record_dir: typed.text(key::RecordDir).map(String::from),
            switch_when: typed.get(key::SwitchWhen)?,
            max_diagnose: typed.get(key::MaxDiagnose)?.unwrap_or_default(),
        })
    }
}

/// The lines printed, and whether a check failed.
struct Report {
    failed: Cell<bool>,
}

impl Report {
    fn ok(&self, text: &str) {
        print_line("ok     ", text);
    }

    fn fail(&self, text: &str) {
        self.failed.set(true);
        print_line("FAIL   ", text);
    }

    fn warning(&self, text: &str) {
        print_line("WARNING", text);
    }

    fn outcome(&self) -> Outcome {
        match self.failed.get() {
            true => Outcome::CheckFailed,
            false => Outcome::Success,
        }
    }
}

/// One line on stdout; a write that fails (a closed pipe) is no panic.
fn print_line(tag: &str, text: &str) {
    let line = format!("{tag} {}\n", crate::text::printable(text));
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}

pub(super) fn run(session: &Session, job: &Check) -> Outcome {
    let report = Report {
        failed: Cell::new(false),
    };
    let status_url = session.client.status_url();
    if let Err(outcome) = session.check_status() {
        report.fail(&format!(
            "{status_url} cannot be used (see the log): pg-backup-api is down, or \
             --api-url or the TLS options are wrong"
        ));
        return outcome;
    }
    report.ok(&format!("{status_url} answers \"OK\""));
    check_server(session, job, &report);
    let what = format!("GET {}", session.client.diagnose_url());
    let diagnose = session
        .retrier()
        .going_on()
        .call(Request::Diagnose, &what, || {
            let text = session.client.diagnose(job.max_diagnose)?;
            Diagnose::parse(&text).ok_or_else(|| {
                Problem::Malformed("/diagnose did not answer barman diagnose's JSON".into())
            })
        });
    match diagnose {
        Ok(diagnose) => check_diagnose(job, &diagnose, &report),
        Err(problem @ Problem::TooLarge(_)) => report.fail(&format!(
            "{what}: {problem}, the limit of --max-diagnose {}: raise it (in MiB) for \
             a Barman host with this many servers and backups",
            job.max_diagnose >> 20
        )),
        Err(problem) => report.fail(&format!("{what}: {problem}")),
    }
    check_options(job, &report);
    report.outcome()
}

/// The server is known to pg-backup-api, with its operations.
fn check_server(session: &Session, job: &Check, report: &Report) {
    let server = &job.server;
    // Counted as they arrive: a long history costs no memory.
    let listed = session.read_list(session.retrier().going_on(), server, |(), _| {});
    match listed {
        Ok(((), scanned)) => report.ok(&format!(
            "server {server} is known to pg-backup-api, with {} operations",
            scanned.entries - scanned.skipped
        )),
        Err(problem) => report.fail(&format!("server {server}: {problem}")),
    }
}

/// What `/diagnose` says of the server, the model and the backup.
fn check_diagnose(job: &Check, diagnose: &Diagnose, report: &Report) {
    let name = job.server.as_str();
    let Some(server) = diagnose.server(name) else {
        report.fail(&format!("server {name}: not in Barman's diagnose"));
        return;
    };
    let cluster = server.cluster(name);
    let active = server.active_model.as_deref();
    report.ok(&format!(
        "server {name}: cluster {}, active model {}",
        named(cluster, 80),
        active.map_or("none".to_string(), |m| named(m, 80))
    ));
    match &job.change {
        Some(Change::Model(model)) => check_model(diagnose, model, cluster, report),
        Some(Change::Reset) => report.ok(&match active {
            Some(model) => format!("--reset: drops the active model {}", named(model, 80)),
            None => "--reset: no active model, so a reset changes nothing".into(),
        }),
        None => {}
    }
    if let Some(id) = &job.backup_id {
        check_backup(server, name, id, report);
    }
}

fn check_model(diagnose: &Diagnose, name: &str, cluster: &str, report: &Report) {
    let shown = named(name, 80);
    match diagnose.model(name) {
        None => {
            let known: Vec<String> = diagnose
                .models
                .keys()
                .map(|m| named(m, 80))
                .take(20)
                .collect();
            report.fail(&format!(
                "model {shown}: not in Barman's configuration (models: {})",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ));
        }
        Some(model) if !model.is_model() => {
            report.fail(&format!("model {shown}: not a model (no model = true)"))
        }
        Some(model) if model.cluster() != Some(cluster) => report.fail(&format!(
            "model {shown}: belongs to cluster {}, not {}: Barman would refuse the switch",
            model.cluster().map_or("none".into(), |c| named(c, 80)),
            named(cluster, 80)
        )),
        Some(_) => report.ok(&format!(
            "model {shown}: a model of cluster {}",
            named(cluster, 80)
        )),
    }
}

fn check_backup(server: &Server, name: &str, id: &str, report: &Report) {
    let shown = named(id, 80);
    match server.resolve_backup(id) {
        None => report.fail(&format!("backup {shown}: no such backup of server {name}")),
        Some((found, backup)) => {
            let status = backup.status.as_deref().unwrap_or("of unknown status");
            let ended = backup
                .end_time
                .as_deref()
                .map_or("at an unknown time".into(), |t| named(t, 40));
            let which = match found == id {
                true => String::new(),
                false => format!("is {}, ", named(found, 80)),
            };
            match status {
                "DONE" => report.ok(&format!("backup {shown}: {which}DONE, ended {ended}")),
                // Barman restores it, with WALs still to come from the archive.
                "WAITING_FOR_WALS" => report.warning(&format!(
                    "backup {shown}: {which}WAITING_FOR_WALS, ended {ended}: Barman restores \
                     it, but its WALs are not all archived yet"
                )),
                _ => report.fail(&format!(
                    "backup {shown}: {which}{}, not DONE",
                    named(status, 40)
                )),
            }
        }
    }
}

/// Options Patroni would pass that cannot work.
fn check_options(job: &Check, report: &Report) {
    if let Some(dir) = &job.data_directory {
        if dir.starts_with('/') {
            check_record_place(dir, job.record_dir.as_deref(), report);
        } else {
            report.warning(&format!(
                "--data-directory {}: not an absolute path; Barman restores on this host \
                 over ssh, and a relative path lands in the ssh user's home",
                named(dir, 80)
            ));
        }
    }
    // Two callbacks that race on a switchover (README, "Patroni
    // configuration"): measured, the demoted node's reset landed 2.3 to 4 s
    // after the new primary's model.
    match (&job.change, job.switch_when) {
        (Some(Change::Reset), Some(SwitchWhen::Demoted | SwitchWhen::Always)) => report.warning(
            "--reset on demotion: on a switchover the demoted node's reset can land after \
             the new primary's model and leave no model active; give every node its model \
             with --switch-when promoted and no reset (the next promotion replaces it)",
        ),
        (Some(Change::Model(_)), Some(SwitchWhen::Demoted | SwitchWhen::Always)) => report.warning(
            "--barman-model with --switch-when demoted or always: this node applies its \
                 model when it is demoted too, and can undo the new primary's; use \
                 --switch-when promoted",
        ),
        _ => {}
    }
    if job
        .ssh_command
        .as_deref()
        .is_some_and(|c| c.trim().is_empty())
    {
        report.warning(
            "--ssh-command is empty: Barman needs the command that reaches this node \
             (ssh postgres@this-node)",
        );
    }
}

/// Where recover would keep the record of `dir`'s restore: its directory
/// must take a new file (src/jobs/recover/record.rs), else recover exits 8.
/// On a fresh volume recover makes the directories missing there.
fn check_record_place(dir: &str, record_dir: Option<&str>, report: &Report) {
    let path = match record::path_for(Path::new(dir), record_dir.map(Path::new)) {
        Ok(path) => path,
        Err(why) => return report.fail(&format!("record of {}: {why}", named(dir, 80))),
    };
    let place = path.parent().unwrap_or(Path::new("/"));
    let missing = missing_directories(place);
    // The directory recover must write in: the nearest that exists.
    let existing = missing
        .first()
        .and_then(|outermost| outermost.parent())
        .unwrap_or(place);
    if let Err(why) = writable_directory(existing) {
        return report.fail(&format!(
            "record of {}: {} {why}: recover would exit 8 before sending anything; give \
             --record-dir a directory it can write",
            named(dir, 80),
            existing.display()
        ));
    }
    let made = match missing.is_empty() {
        true => String::new(),
        false => {
            let names: Vec<String> = missing.iter().map(|d| d.display().to_string()).collect();
            format!("; recover would make {} (mode 0700)", names.join(", "))
        }
    };
    report.ok(&format!(
        "record of {}: kept at {}{made}",
        named(dir, 80),
        path.display()
    ));
}

/// Whether this user may create files in `dir`.
fn writable_directory(dir: &Path) -> Result<(), &'static str> {
    use crate::sys::{access, W_OK_X_OK};
    if !dir.is_dir() {
        return Err("is not a directory");
    }
    let Ok(c_path) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return Err("is not a path");
    };
    // SAFETY: a NUL-terminated path that lives across the call.
    match unsafe { access(c_path.as_ptr(), W_OK_X_OK) } {
        0 => Ok(()),
        _ => Err("cannot be written by this user"),
    }
}
