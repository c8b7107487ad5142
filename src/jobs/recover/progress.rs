//! The progress lines of a running restore, from a thread of their own, so
//! that neither the walk of the data directory nor the one `/diagnose`
//! request (for the backup's size, when the first line is due) ever holds
//! up a poll. When and what: src/rules/progress.rs.

use super::disk;
use crate::api::Client;
use crate::failure::Problem;
use crate::jobs::diagnose::Diagnose;
use crate::log::Logger;
use crate::rules::poll::End;
use crate::rules::progress::{first_pause, line, pause_after, Seen};
use crate::text::named;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

/// The largest `/diagnose` read for the backup's size: `check`'s default
/// `--max-diagnose`.
const MAX_DIAGNOSE: usize = 64 << 20;

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
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::scope(|scope| {
            scope.spawn(|| self.run(stopped));
            let end = follow();
            drop(stop);
            end
        })
    }

    fn run(&self, stopped: Receiver<()>) {
        let start = Instant::now();
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
            let due = (start + before.at + pause).saturating_duration_since(Instant::now());
            if stopped.recv_timeout(due) != Err(RecvTimeoutError::Timeout) {
                return;
            }
            let (backup, total) = size.get_or_insert_with(|| self.backup_size());
            let walk_started = start.elapsed();
            let now = look();
            // The operation may have ended meanwhile: then the run's last
            // line is pg-backup-api's word, not a stale share.
            if stopped.try_recv() != Err(TryRecvError::Empty) {
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
