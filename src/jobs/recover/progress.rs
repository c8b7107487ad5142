//! The progress lines of a running restore, from a thread of their own, so
//! that neither the walk of the data directory nor the one `/diagnose`
//! request (for the backup's size, when the first line is due) ever holds
//! up a poll. When and what: src/rules/progress.rs.

use super::disk;
use crate::api::Client;
use crate::clock;
use crate::failure::Problem;
use crate::jobs::diagnose::Diagnose;
use crate::log::Logger;
use crate::rules::poll::End;
use crate::rules::progress::{first_pause, line, pause_after, Seen};
use crate::text::named;
use std::path::Path;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// The largest `/diagnose` read for the backup's size: `check`'s default
/// `--max-diagnose`.
const MAX_DIAGNOSE: usize = 64 << 20;

/// The end of the watch, told across threads.
#[derive(Default)]
struct Stop {
    stopped: Mutex<bool>,
    told: Condvar,
}

impl Stop {
    fn now(&self) {
        *self.stopped.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.told.notify_all();
    }

    /// Waits until `until`: whether the watch ended meanwhile (or before).
    fn waited(&self, until: Instant) -> bool {
        let mut stopped = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        while !*stopped {
            let left = clock::left_until(until);
            if left.is_zero() {
                return false;
            }
            stopped = match self.told.wait_timeout(stopped, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }
}

/// What the watch looks at, and where it says it.
pub struct Watch<'a> {
    pub log: &'a Logger,
    pub client: &'a Client,
    pub server: &'a str,
    /// `--backup-id`, as given (`latest`, say).
    pub backup_id: &'a str,
    pub data_directory: &'a str,
    /// `--progress-interval`; zero: no watch.
    pub interval: Duration,
}

impl Watch<'_> {
    /// Runs `follow` (the polls, to the operation's end) and, meanwhile,
    /// logs the restore's progress; the watch ends with `follow`.
    pub fn during(&self, follow: &mut dyn FnMut() -> End) -> End {
        if self.interval.is_zero() {
            return follow();
        }
        let stop = Stop::default();
        std::thread::scope(|scope| {
            // No thread to be had (a pids limit): the restore goes on unwatched.
            let watching = std::thread::Builder::new()
                .stack_size(256 << 10)
                .spawn_scoped(scope, || self.run(&stop));
            if let Err(e) = watching {
                self.log.warning(&format!(
                    "No progress lines: cannot start their thread ({e})."
                ));
            }
            let end = follow();
            stop.now();
            end
        })
    }

    fn run(&self, stop: &Stop) {
        let start = clock::system_now();
        let dir = Path::new(self.data_directory);
        let look = || Seen {
            bytes: disk::bytes_under(dir),
            at: start.elapsed(),
        };
        let mut before = look();
        // Read when the first line is due: a restore done by then never
        // costs the Barman host a /diagnose.
        let mut size: Option<(String, Option<u64>)> = None;
        let mut pause = first_pause(self.interval);
        loop {
            if stop.waited(start + before.at + pause) {
                return;
            }
            let (backup, total) = size.get_or_insert_with(|| self.backup_size());
            let walk_started = start.elapsed();
            let now = look();
            // The operation may have ended meanwhile: then the run's last
            // line is pg-backup-api's word, not a stale share.
            if stop.waited(clock::system_now()) {
                return;
            }
            let shown = named(self.data_directory, 200);
            self.log.info(&line(backup, &shown, *total, before, now));
            pause = pause_after(self.interval, now.at.saturating_sub(walk_started));
            before = now;
        }
    }

    /// The backup being restored, by its id where `/diagnose` resolves the
    /// alias, and the bytes it holds. One request, no retry: the total is
    /// a comfort, and the restore must not wait for it.
    fn backup_size(&self) -> (String, Option<u64>) {
        let given = named(self.backup_id, 80);
        let read = self.client.diagnose(MAX_DIAGNOSE).and_then(|text| {
            Diagnose::parse(&text)
                .ok_or_else(|| Problem::Malformed("not barman diagnose's JSON".into()))
        });
        let diagnose = match read {
            Ok(diagnose) => diagnose,
            Err(problem) => {
                self.log.info(&format!(
                    "The progress lines give no total: GET {} failed: {problem}.",
                    self.client.diagnose_url()
                ));
                return (given, None);
            }
        };
        let found = diagnose
            .server(self.server)
            .and_then(|server| server.resolve_backup(self.backup_id));
        match found {
            Some((id, backup)) if backup.size.is_some() => (named(id, 80), backup.size),
            _ => {
                self.log.info(&format!(
                    "The progress lines give no total: Barman's diagnose gives no size \
                     for backup {given} of server {}.",
                    named(self.server, 80)
                ));
                (given, None)
            }
        }
    }
}
