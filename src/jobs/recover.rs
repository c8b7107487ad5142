//! `recover`: at any moment at most one restore writes into a data
//! directory, whoever started it.
//!
//! The run locks the directory's record (src/jobs/recover/record.rs), waiting while
//! another run holds it. A record left by an earlier run names the
//! operation it started, or the list to tell it by; while that operation
//! is IN_PROGRESS the run follows it to its end, without claiming its
//! result, and only then starts its own restore. `--max-wait` bounds that
//! whole wait (exit 7). The record is kept in step with every POST, and a
//! successful run removes it.
//!
//! pg-backup-api's DONE is not taken on trust: Barman writes wherever
//! `--ssh-command` reaches. While the operation runs, the run logs what has
//! arrived in the data directory on this host (src/jobs/recover/progress.rs);
//! at DONE it looks for the cluster there (exit 9 when none arrived).

mod disk;
mod progress;
pub mod record;

use super::session::{Session, Steps};
use crate::api::{Kind, Listed, NewOperation, Status};
use crate::cli::options::key;
use crate::cli::{Opt, Typed};
use crate::failure::{Hint, Request};
use crate::log::Logger;
use crate::outcome::Outcome;
use crate::rules::poll::{self, End, Followed, PollPolicy};
use crate::signals;
use crate::sub::Sub;
use crate::text::{named, seconds};
use disk::{Changed, Found};
use progress::Watch;
use record::{Busy, Entry, Record, State};
use std::cell::OnceCell;
use std::path::Path;
use std::time::{Duration, Instant};

pub use disk::{bytes_under, missing_directories};

/// `recover`'s options.
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

impl Recover {
    pub(super) fn read(typed: &Typed) -> Result<Recover, String> {
        typed.without_arguments(Sub::Recover)?;
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
}

/// How often a run waiting for another's record tries the lock again.
const LOCK_POLL: Duration = Duration::from_millis(250);

/// The record of this run's restore, kept in step with what it sent.
pub struct Guard {
    record: Record,
    data_directory: String,
    server: String,
}

impl Guard {
    fn write(&self, state: State) -> Result<(), String> {
        let entry = Entry::new(&self.data_directory, &self.server, state);
        self.record.write(&entry)
    }

    /// A POST is about to go, judged against `known`: what it makes, if
    /// anything, is newer than the newest recovery there.
    pub fn pending(&self, known: &[Listed]) -> Result<(), String> {
        let newest = known
            .iter()
            .filter(|op| op.api_type == Kind::Recovery.api_type())
            .map(|op| &op.id)
            .max();
        self.write(State::Pending(newest.cloned()))
    }

    /// The POST failed so that nothing of it runs.
    pub fn nothing_sent(&self) -> Result<(), String> {
        self.write(State::NothingSent)
    }

    pub fn created(&self, id: &str) -> Result<(), String> {
        self.write(State::Created(id.to_string()))
    }

    /// A write after the first costs a WARNING, not the run: the record
    /// still says what it said before, which errs on the safe side.
    pub fn keep(&self, log: &Logger, written: Result<(), String>) {
        if let Err(why) = written {
            log.warning(&format!(
                "Cannot update the record of the restore into {}: {why}; it still says \
                 what it said before.",
                self.data_directory
            ));
        }
    }

    /// Ends a run whose record cannot be kept: nothing is sent.
    pub fn unusable(&self, log: &Logger, why: &str) -> Outcome {
        record_unusable(log, &self.data_directory, why)
    }

    fn succeeded(self, log: &Logger) {
        if let Err(why) = self.record.remove() {
            log.warning(&format!("The restore succeeded, but {why}."));
        }
    }
}

fn record_unusable(log: &Logger, data_directory: &str, why: &str) -> Outcome {
    log.error(&format!(
        "Cannot keep the record of the restore into {data_directory}: {why}. Nothing was \
         sent. Make its directory writable, or name another with --record-dir."
    ));
    Outcome::RecordUnusable
}

pub(super) fn run(session: &Session, job: &Recover) -> Outcome {
    let deadline = session
        .poll
        .max_wait
        .map(|limit| session.clock.now() + limit);
    let guard = match lock_record(session, job, deadline) {
        Ok(guard) => guard,
        Err(outcome) => return outcome,
    };
    let earlier = match guard.record.read() {
        Ok(earlier) => earlier,
        Err(why) => {
            let why = format!("{why}; remove it once no restore into the directory can be running");
            return guard.unusable(session.log, &why);
        }
    };
    // Writing what it says proves, before anything is sent, that the
    // record can be kept.
    let kept = earlier
        .clone()
        .unwrap_or_else(|| Entry::new(&job.data_directory, &job.server, State::NothingSent));
    if let Err(why) = guard.record.write(&kept) {
        return guard.unusable(session.log, &why);
    }
    if let Err(outcome) = session.check_status() {
        return outcome;
    }
    if let Some(earlier) = &earlier {
        if let Err(outcome) = wait_for_earlier(session, earlier, deadline) {
            return outcome;
        }
    }
    let operation = NewOperation::recovery(&job.backup_id, &job.ssh_command, &job.data_directory);
    let steps = Restore {
        guard: &guard,
        session,
        job,
        before: OnceCell::new(),
    };
    let outcome = session.create_and_follow(Sub::Recover, &job.server, &operation, &steps);
    if outcome == Outcome::Success {
        guard.succeeded(session.log);
    }
    outcome
}

/// Recover's steps between the session's: the record kept in step with
/// every POST, the progress lines while the operation runs, and the look
/// at this host's data directory once pg-backup-api says DONE.
struct Restore<'a> {
    guard: &'a Guard,
    session: &'a Session<'a>,
    job: &'a Recover,
    before: OnceCell<Before>,
}

/// The data directory just before the first POST.
struct Before {
    found: Result<Found, String>,
    /// The record's change time, written just then: any change the
    /// restore makes comes at or after it, on the kernel's own clock.
    mark: Option<Changed>,
}

impl Steps for Restore<'_> {
    fn before_posts(&self, known: &[Listed]) -> Result<(), Outcome> {
        let (guard, log) = (self.guard, self.session.log);
        // Before anything is sent: a record that cannot be written would
        // leave a restore nobody can track.
        guard
            .pending(known)
            .map_err(|why| guard.unusable(log, &why))?;
        let _ = self.before.set(Before {
            found: disk::look(Path::new(&self.job.data_directory)).map_err(|e| e.to_string()),
            mark: guard.record.changed(),
        });
        Ok(())
    }

    fn posting(&self, known: &[Listed]) {
        self.guard.keep(self.session.log, self.guard.pending(known));
    }

    fn nothing_sent(&self) {
        self.guard.keep(self.session.log, self.guard.nothing_sent());
    }

    fn created(&self, id: &str) {
        self.guard.keep(self.session.log, self.guard.created(id));
    }

    fn following(&self, follow: &mut dyn FnMut() -> End) -> End {
        let watch = Watch {
            log: self.session.log,
            client: &self.session.client,
            server: &self.job.server,
            backup_id: &self.job.backup_id,
            data_directory: &self.job.data_directory,
            interval: self.job.progress_interval,
        };
        watch.during(follow)
    }

    fn done(&self, id: &str) -> Result<(), Outcome> {
        let Some(before) = self.before.get() else {
            return Ok(());
        };
        let dir = &self.job.data_directory;
        let path = Path::new(dir);
        let log = self.session.log;
        let reported = format!("The Barman host reports recovery operation {id} DONE, but");
        let ssh = format!(
            "{} {}",
            Opt::SshCommand.flag(),
            named(&self.job.ssh_command, 120)
        );
        let cannot_look = |why: &str| {
            log.warning(&format!(
                "Cannot look into {dir} on this host to confirm that the restore arrived: \
                 {why}; going by pg-backup-api's DONE."
            ))
        };
        // A cluster was there before the POST (keep_data, or leftovers):
        // the restore must have changed something under it.
        if before.found.as_ref().is_ok_and(Found::has_version) {
            let Some(mark) = before.mark else {
                cannot_look("the record's change time is unknown");
                return Ok(());
            };
            match disk::changed_since(path, mark) {
                Ok(true) => {}
                Ok(false) => log.warning(&format!(
                    "{reported} nothing under {dir} changed on this host since the POST: the \
                     cluster there is the one that was there before. If {ssh} reaches \
                     another host or another path, this is not the restored cluster."
                )),
                Err(e) => cannot_look(&e.to_string()),
            }
            return Ok(());
        }
        match disk::look(path) {
            Ok(Found::Cluster) => Ok(()),
            Ok(found) => {
                log.error(&format!(
                    "{reported} nothing arrived in {dir} on this host ({}): {ssh} reaches \
                     another host, or another path there. Fix {}; Patroni can try its next \
                     replica method meanwhile.",
                    found.describe(dir),
                    Opt::SshCommand.flag()
                ));
                Err(Outcome::RestoreNotHere)
            }
            Err(e) => {
                cannot_look(&e.to_string());
                Ok(())
            }
        }
    }
}

/// Locks the directory's record, waiting (until `deadline`) while
/// another run holds it. The record's place is made first when a fresh
/// volume lacks it.
fn lock_record(
    session: &Session,
    job: &Recover,
    deadline: Option<Instant>,
) -> Result<Guard, Outcome> {
    let dir = &job.data_directory;
    let record_dir = job.record_dir.as_deref().map(Path::new);
    let path = record::path_for(Path::new(dir), record_dir)
        .map_err(|why| record_unusable(session.log, dir, &why))?;
    make_place(session.log, dir, path.parent().unwrap_or(Path::new("/")))?;
    let mut waiting = false;
    loop {
        let holder = match Record::try_lock(&path) {
            Ok(record) => {
                return Ok(Guard {
                    record,
                    data_directory: dir.clone(),
                    server: job.server.clone(),
                })
            }
            Err(Busy::Failed(why)) => return Err(record_unusable(session.log, dir, &why)),
            Err(Busy::HeldBy(pid)) => pid,
        };
        if !waiting {
            waiting = true;
            let who = holder.map_or(String::new(), |pid| format!(" (pid {pid})"));
            session.log.warning(&format!(
                "Another patroni_barman recover{who} holds the record of {dir} ({}): \
                 waiting for it to end before this run starts its own restore.",
                path.display()
            ));
        }
        if deadline.is_some_and(|deadline| session.clock.now() >= deadline) {
            session.log.error(&format!(
                "Stopped waiting after {} {} s: another recover into {dir} still runs; \
                 nothing was sent.",
                Opt::MaxWait.flag(),
                seconds(session.poll.max_wait.unwrap_or_default())
            ));
            return Err(Outcome::EarlierRestoreRunning);
        }
        session.clock.sleep(LOCK_POLL);
    }
}

/// Makes the missing directories of the record's `place`, as `mkdir -p`
/// would: a first bootstrap on a new volume, where Barman makes the data
/// directory's own path.
fn make_place(log: &Logger, dir: &str, place: &Path) -> Result<(), Outcome> {
    let missing = disk::missing_directories(place);
    if missing.is_empty() {
        return Ok(());
    }
    disk::make_directories(place)
        .map_err(|e| record_unusable(log, dir, &format!("cannot make {}: {e}", place.display())))?;
    let made: Vec<String> = missing.iter().map(|d| d.display().to_string()).collect();
    log.info(&format!(
        "Made the missing directories {} (mode 0700), where the record of the restore \
         into {dir} goes.",
        made.join(", ")
    ));
    Ok(())
}

/// Follows to its end every operation that an earlier run's record
/// says may still write into the directory.
fn wait_for_earlier(
    session: &Session,
    earlier: &Entry,
    deadline: Option<Instant>,
) -> Result<(), Outcome> {
    let server = earlier.server.as_str();
    let ids = match &earlier.state {
        State::NothingSent => return Ok(()),
        State::Created(id) => vec![id.clone()],
        // Its POST went unanswered: what it made, if anything, is newer.
        State::Pending(newest) => {
            let listed = session.read_list(
                session.retrier(),
                server,
                |ids: &mut Vec<String>, op: Listed| {
                    let newer = Some(&op.id) > newest.as_ref();
                    if newer && op.api_type == Kind::Recovery.api_type() {
                        ids.push(op.id)
                    }
                },
            );
            match listed {
                Ok((mut ids, _)) => {
                    ids.sort_unstable();
                    ids
                }
                // The server is unknown: no earlier restore there.
                Err(problem) if problem.rule(Request::List).hint == Hint::UnknownName => Vec::new(),
                Err(problem) => {
                    session.log.error(&format!(
                        "Cannot read the list of server {}, so cannot tell whether a \
                         restore that an earlier run may have started still writes into \
                         {}: {problem}. Nothing was sent.",
                        named(server, 60),
                        earlier.data_directory
                    ));
                    return Err(Outcome::ApiError(Sub::Recover));
                }
            }
        }
    };
    for id in ids {
        wait_for_earlier_operation(session, earlier, &id, deadline)?;
    }
    Ok(())
}

fn wait_for_earlier_operation(
    session: &Session,
    earlier: &Entry,
    id: &str,
    deadline: Option<Instant>,
) -> Result<(), Outcome> {
    let (server, dir) = (earlier.server.as_str(), &earlier.data_directory);
    let how = match earlier.state {
        State::Pending(_) => "may have started (its POST went unanswered)",
        _ => "started",
    };
    session.log.warning(&format!(
        "An earlier run (pid {}, at {} UTC) {how} recovery operation {id} into {dir}: \
         following it to its end, if it still runs, before this run starts its own \
         restore. Its result is not this run's: the directory was removed under it.",
        earlier.pid, earlier.started
    ));
    signals::note(format!(
        "no operation was created; the earlier recovery operation {id} may go on \
         writing into {dir} on the Barman host."
    ));
    let what = format!("GET {}", session.client.operation_url(server, id));
    let max_wait = deadline.map(|d| d.saturating_duration_since(session.clock.now()));
    // Not known to exist: a 404 that persists means nothing of it runs.
    let policy = PollPolicy {
        max_wait,
        not_found_patience: Duration::ZERO,
        ..session.poll
    };
    let followed = Followed {
        noun: "earlier recovery operation",
        id,
        what: &what,
    };
    let end = poll::wait_for(session.retrier(), policy, &followed, |limit| {
        session.client.operation_status(server, id, limit)
    });
    signals::note("no operation was created.".into());
    earlier_ended(session, earlier, id, end)
}

/// What the end of an earlier run's operation means for this run.
fn earlier_ended(session: &Session, earlier: &Entry, id: &str, end: End) -> Result<(), Outcome> {
    let (server, dir) = (earlier.server.as_str(), &earlier.data_directory);
    match end {
        End::Finished(status) => {
            let word = if status == Status::Done {
                "DONE"
            } else {
                "FAILED"
            };
            session.log.info(&format!(
                "The earlier recovery operation {id} into {dir} has ended ({word}); this \
                 run starts its own restore."
            ));
            Ok(())
        }
        End::Error(problem) if problem.rule(Request::Poll).hint == Hint::UnknownName => {
            session.log.info(&format!(
                "pg-backup-api does not know the earlier recovery operation {id}: \
                 nothing of it runs; this run starts its own restore."
            ));
            Ok(())
        }
        End::StillRunning(_) => {
            session.log.error(&format!(
                "Stopped waiting after {} {} s: the earlier recovery operation {id} still \
                 writes into {dir} on the Barman host; nothing was sent. Run again once \
                 it has ended: {}",
                Opt::MaxWait.flag(),
                seconds(session.poll.max_wait.unwrap_or_default()),
                session.client.operation_url(server, id)
            ));
            Err(Outcome::EarlierRestoreRunning)
        }
        End::Error(problem) => {
            session.log.error(&format!(
                "Cannot tell whether the earlier recovery operation {id} still writes into \
                 {dir}: {problem}. Nothing was sent."
            ));
            Err(Outcome::ApiError(Sub::Recover))
        }
    }
}
