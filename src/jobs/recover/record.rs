//! The record of a data directory's restore: at most one restore writes
//! into a data directory, whoever started it.
//!
//! Patroni cancels a replica creation with SIGTERM (SIGKILL 10 s later) and
//! removes the data directory, but pg-backup-api cannot cancel the restore,
//! which goes on writing there. The record tells the next `recover` for the
//! directory which operation may still be at work in it. It lives outside
//! the directory (Patroni deletes that): by default beside it, as
//! `.NAME.patroni_barman` in its parent, else in `--record-dir` under the
//! directory's absolute path with `%` and `/` percent-encoded.
//!
//! It is one line of JSON, written in place with one write and synced
//! before the POST that it covers, then again once the operation id is
//! known:
//!
//! ```text
//! {"data_directory":"/var/lib/pg/data","server":"main","pid":4242,"started":"2026-12-03 04:00:00,123","operation_id":"20261203T040001"}
//! {"data_directory":"/var/lib/pg/data","server":"main","pid":4242,"started":"...","newest_before":"20261202T..."}
//! ```
//!
//! The second form is pending: a POST was, or may have been, sent, and
//! its answer not read; `newest_before` is the newest recovery the
//! server listed just before it (`null`: none), so that the operation it
//! made, if any, is a newer one: ids are the API host's time, and two
//! operations of a server never share a second. One id, whatever the
//! server's history holds (a record of 0.1.0 listed every recovery id,
//! `listed_before`: it still reads, as its newest). A record
//! with neither key says that no POST was sent. A run holds
//! an exclusive `flock` on the record for its whole life (the kernel drops
//! it however the process ends), and a successful run removes the record.

use crate::log::timestamp;
use miniserde::json::{self, Array, Number, Object, Value};
use std::ffi::c_int;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What a record says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub data_directory: String,
    pub server: String,
    pub pid: u32,
    /// When the run that wrote it started, as log lines write times (UTC).
    pub started: String,
    pub state: State,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum State {
    /// No POST was sent (yet): nothing of this run can be at work.
    #[default]
    NothingSent,
    /// A POST was or may have been sent; the newest recovery listed
    /// before it, if any.
    Pending(Option<String>),
    /// The operation created (or adopted) for the directory.
    Created(String),
}

impl Entry {
    /// An entry for this process, started now.
    pub fn new(data_directory: &str, server: &str, state: State) -> Entry {
        Entry {
            data_directory: data_directory.to_string(),
            server: server.to_string(),
            pid: std::process::id(),
            started: timestamp(SystemTime::now()),
            state,
        }
    }

    fn to_line(&self) -> String {
        let mut object = Object::new();
        let text = |s: &str| Value::String(s.to_string());
        object.insert("data_directory".into(), text(&self.data_directory));
        object.insert("server".into(), text(&self.server));
        object.insert("pid".into(), Value::Number(Number::U64(self.pid.into())));
        object.insert("started".into(), text(&self.started));
        match &self.state {
            State::NothingSent => None,
            State::Created(id) => object.insert("operation_id".into(), text(id)),
            State::Pending(newest) => object.insert(
                "newest_before".into(),
                newest.as_deref().map_or(Value::Null, text),
            ),
        };
        json::to_string(&Value::Object(object)) + "\n"
    }

    /// The first line of `text`; what follows it is left over from a
    /// longer record written before (see `Record::write`).
    fn from_text(text: &str) -> Option<Entry> {
        let line = text.lines().next()?;
        let Value::Object(object) = json::from_str::<Value>(line).ok()? else {
            return None;
        };
        let text = |key: &str| match object.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let pid = match object.get("pid") {
            Some(Value::Number(Number::U64(n))) => u32::try_from(*n).ok()?,
            _ => return None,
        };
        let state = match (text("operation_id"), object.get("newest_before")) {
            (Some(id), _) => State::Created(id),
            (None, Some(Value::String(id))) => State::Pending(Some(id.clone())),
            (None, Some(Value::Null)) => State::Pending(None),
            (None, None) => match object.get("listed_before") {
                Some(Value::Array(ids)) => State::Pending(newest_of(ids)?),
                Some(_) => return None,
                None => State::NothingSent,
            },
            _ => return None,
        };
        Some(Entry {
            data_directory: text("data_directory")?,
            server: text("server")?,
            pid,
            started: text("started")?,
            state,
        })
    }
}

/// The newest of the ids a record of 0.1.0 listed; `None` inside when it
/// listed none, outside when one is not an id.
fn newest_of(ids: &Array) -> Option<Option<String>> {
    let mut newest: Option<&String> = None;
    for id in ids {
        let Value::String(id) = id else { return None };
        newest = newest.max(Some(id));
    }
    Some(newest.cloned())
}

/// Where the record of `data_directory` goes: beside it, or in `dir`.
pub fn path_for(data_directory: &Path, dir: Option<&Path>) -> Result<PathBuf, String> {
    let absolute = match data_directory.is_absolute() {
        true => data_directory.to_path_buf(),
        false => std::env::current_dir()
            .map_err(|e| format!("cannot make {} absolute: {e}", data_directory.display()))?
            .join(data_directory),
    };
    let absolute = absolute.to_string_lossy();
    let trimmed = absolute.trim_end_matches('/');
    match dir {
        Some(dir) => {
            let encoded = trimmed.replace('%', "%25").replace('/', "%2F");
            Ok(dir.join(format!("{encoded}.patroni_barman")))
        }
        None => {
            let (parent, name) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
            if name.is_empty() {
                return Err("the data directory cannot be / itself".into());
            }
            let parent = if parent.is_empty() { "/" } else { parent };
            Ok(Path::new(parent).join(format!(".{name}.patroni_barman")))
        }
    }
}

/// The record of one data directory, locked for this process's life.
pub struct Record {
    path: PathBuf,
    file: File,
}

/// Why the lock was not taken at once.
pub enum Busy {
    /// Another process holds it: the pid its record names, when it does.
    HeldBy(Option<u32>),
    Failed(String),
}

extern "C" {
    fn flock(fd: c_int, operation: c_int) -> c_int;
}
const LOCK_EX: c_int = 2;
const LOCK_NB: c_int = 4;

impl Record {
    /// Opens (creating it empty if needed) and locks the record at `path`,
    /// without waiting: `Err(Busy::HeldBy)` when another run holds it.
    pub fn try_lock(path: &Path) -> Result<Record, Busy> {
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)
                .map_err(|e| Busy::Failed(format!("cannot open {}: {e}", path.display())))?;
            // SAFETY: flock on a descriptor this function owns.
            if unsafe { flock(file.as_raw_fd(), LOCK_EX | LOCK_NB) } != 0 {
                let error = std::io::Error::last_os_error();
                if error.kind() == std::io::ErrorKind::WouldBlock {
                    let holder = read_entry(&file).ok().flatten().map(|e| e.pid);
                    return Err(Busy::HeldBy(holder));
                }
                return Err(Busy::Failed(format!(
                    "cannot lock {}: {error}",
                    path.display()
                )));
            }
            // The holder before may have removed it (a successful run
            // does) after this open: then lock the file that is there now.
            let same = match (file.metadata(), std::fs::metadata(path)) {
                (Ok(held), Ok(named)) => held.ino() == named.ino() && held.dev() == named.dev(),
                _ => false,
            };
            if same {
                sync_parent(path);
                return Ok(Record {
                    path: path.to_path_buf(),
                    file,
                });
            }
        }
    }

    /// What the record says; `Ok(None)` when it is empty (new).
    pub fn read(&self) -> Result<Option<Entry>, String> {
        read_entry(&self.file).map_err(|why| format!("{}: {why}", self.path.display()))
    }

    /// Writes `entry` in place with one write, then syncs it. A longer
    /// record written before leaves its tail after the first line, which
    /// `read` ignores, so that no moment holds a record cut short.
    pub fn write(&self, entry: &Entry) -> Result<(), String> {
        let line = entry.to_line();
        let written = self
            .file
            .write_all_at(line.as_bytes(), 0)
            .and_then(|()| self.file.sync_data());
        written.map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        // Trimming the tail is tidiness, not safety.
        let _ = self.file.set_len(line.len() as u64);
        Ok(())
    }

    /// When the record was last written, on the kernel's clock.
    pub fn changed(&self) -> Option<super::disk::Changed> {
        self.file
            .metadata()
            .ok()
            .map(|m| super::disk::Changed::of(&m))
    }

    /// The restore it tracked succeeded: nothing to remember.
    pub fn remove(self) -> Result<(), String> {
        std::fs::remove_file(&self.path)
            .map_err(|e| format!("cannot remove {}: {e}", self.path.display()))?;
        sync_parent(&self.path);
        Ok(())
    }
}

/// The longest record read: one of 0.1.0 listed every recovery id.
const MAX_RECORD: u64 = 4 << 20;

fn read_entry(file: &File) -> Result<Option<Entry>, String> {
    let mut text = String::new();
    file.take(MAX_RECORD)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read it: {e}"))?;
    // read_to_string reads from the current offset: keep it at the start.
    let _ = std::io::Seek::rewind(&mut &*file);
    if text.trim().is_empty() {
        return Ok(None);
    }
    Entry::from_text(&text)
        .map(Some)
        .ok_or_else(|| "it is not a record patroni_barman wrote".into())
}

/// Makes the record's creation or removal survive a crash of the host.
fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent() {
        if let Ok(dir) = File::open(parent) {
            let _ = dir.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_goes_beside_the_directory_or_into_record_dir() {
        let beside = |dir: &str| path_for(Path::new(dir), None);
        assert_eq!(
            beside("/var/lib/pg/data").unwrap(),
            Path::new("/var/lib/pg/.data.patroni_barman")
        );
        assert_eq!(
            beside("/var/lib/pg/data/").unwrap(),
            Path::new("/var/lib/pg/.data.patroni_barman")
        );
        assert_eq!(beside("/data").unwrap(), Path::new("/.data.patroni_barman"));
        assert!(beside("/").is_err());
        let elsewhere = path_for(Path::new("/var/lib/pg/d%1"), Some(Path::new("/run/pb")));
        assert_eq!(
            elsewhere.unwrap(),
            Path::new("/run/pb/%2Fvar%2Flib%2Fpg%2Fd%251.patroni_barman")
        );
    }

    #[test]
    fn entries_read_back_as_written_whatever_follows_their_line() {
        for state in [
            State::NothingSent,
            State::Created("20261203T040001".into()),
            State::Pending(Some("x\"y".into())),
            State::Pending(None),
        ] {
            let entry = Entry::new("/var/lib/pg/data", "main", state);
            let text = entry.to_line() + "{\"tail of\": an older, longer record}";
            assert_eq!(Entry::from_text(&text), Some(entry));
        }
        let old = r#"{"data_directory":"/d","server":"main","pid":1,"started":"s","listed_before":["20261202T000000","20261203T000000","20261201T000000"]}"#;
        let state = |text| Entry::from_text(text).map(|e| e.state);
        assert_eq!(
            state(old),
            Some(State::Pending(Some("20261203T000000".into())))
        );
        let none = old.replace(r#"["20261202T000000","20261203T000000","20261201T000000"]"#, "[]");
        assert_eq!(state(&none), Some(State::Pending(None)));
        assert_eq!(state(&old.replace("\"20261201T000000\"", "5")), None);
        assert_eq!(Entry::from_text("{\"pid\": 1}"), None);
        assert_eq!(Entry::from_text("garbage"), None);
    }

    #[test]
    fn a_second_lock_is_refused_and_names_the_holder() {
        let dir = std::env::temp_dir().join(format!("pb-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r");
        let held = Record::try_lock(&path).ok().unwrap();
        held.write(&Entry::new("/d", "main", State::Created("1".into())))
            .unwrap();
        match Record::try_lock(&path) {
            Err(Busy::HeldBy(pid)) => assert_eq!(pid, Some(std::process::id())),
            _ => panic!("locked twice"),
        }
        assert_eq!(
            held.read().unwrap().unwrap().state,
            State::Created("1".into())
        );
        held.remove().unwrap();
        let again = Record::try_lock(&path).ok().unwrap();
        assert_eq!(again.read().unwrap(), None);
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
