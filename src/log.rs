//! Log lines in the Python tool's format: `YYYY-MM-DD HH:MM:SS,mmm LEVEL: message`,
//! or (`--log-format json`) one JSON object per line with the keys of
//! Patroni's JSON log (`asctime`, `levelname`, `message`) and the run's own
//! fields (`subcommand`, `server`, `operation_id` once known, `exit_code` on
//! the last line), for log shippers that parse Patroni's stream.
//!
//! Timestamps are UTC: a static binary on a scratch image has no time zone
//! database to read, and UTC reads the same on every host of a cluster.

use crate::sys::{fcntl, write, F_GETFL, F_SETFL, O_NONBLOCK};
use crate::text::{is_unsafe, printable};
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        }
    }
}

/// How a line is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// The Python tool's text.
    #[default]
    Plain,
    /// One JSON object per line.
    Json,
}

/// Writes log lines to stderr, or appends them to a file.
pub struct Logger {
    file: Option<File>,
    /// Set once a write to the file failed.
    file_failed: AtomicBool,
    format: Format,
    /// The run's own fields of a JSON line, in order.
    fields: Mutex<Vec<(&'static str, String)>>,
    /// Unit tests read the lines back instead of writing them anywhere.
    #[cfg(test)]
    pub captured: Option<std::sync::Mutex<Vec<String>>>,
}

impl Logger {
    pub fn stderr() -> Logger {
        Logger::writing_to(None)
    }

    fn writing_to(file: Option<File>) -> Logger {
        Logger {
            file,
            file_failed: AtomicBool::new(false),
            format: Format::Plain,
            fields: Mutex::new(Vec::new()),
            #[cfg(test)]
            captured: None,
        }
    }

    #[cfg(test)]
    pub fn capture() -> Logger {
        Logger {
            captured: Some(Default::default()),
            ..Logger::stderr()
        }
    }

    /// The same logger, writing lines in `format`.
    pub fn in_format(self, format: Format) -> Logger {
        Logger { format, ..self }
    }

    /// Sets a field of every JSON line from now on.
    pub fn field(&self, key: &'static str, value: &str) {
        let mut fields = self.fields.lock().unwrap_or_else(|p| p.into_inner());
        match fields.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => *old = value.to_string(),
            None => fields.push((key, value.to_string())),
        }
    }

    /// The run's last line, in JSON only: its exit code, for pipelines
    /// that filter on it. The plain format stays the Python tool's.
    pub fn exit(&self, code: u8) {
        if self.format == Format::Json {
            self.write_line(&self.line(Level::Info, &format!("Exit code {code}."), Some(code)));
        }
    }

    /// The messages captured so far, as `LEVEL: message`.
    #[cfg(test)]
    pub fn lines(&self) -> Vec<String> {
        self.captured
            .as_ref()
            .map(|c| c.lock().unwrap().clone())
            .unwrap_or_default()
    }

    /// Appends to `path`; when it cannot be opened, logs to stderr after a
    /// WARNING that says why: a log file must never cost the operation
    /// (`on_role_change` runs only during a failover).
    pub fn to_file_or_stderr(path: &Path) -> Logger {
        Logger::append_to(path).unwrap_or_else(|e| {
            let log = Logger::stderr();
            log.warning(&format!(
                "Cannot open --log-file {}: {e}; logging to stderr instead.",
                path.display()
            ));
            log
        })
    }

    /// Opens `path` for appending, creating it if needed. Non-blocking, so
    /// that a FIFO nobody reads is an error (ENXIO) instead of a hang; the
    /// flag stays, so a line a FIFO's slow reader has no room for goes to
    /// stderr (see `log`) rather than holding up the run.
    pub fn append_to(path: &Path) -> std::io::Result<Logger> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .custom_flags(O_NONBLOCK)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(ENXIO) => std::io::Error::other(no_such_device(path)),
                _ => e,
            })?;
        Ok(Logger::writing_to(Some(file)))
    }

    pub fn info(&self, message: &str) {
        self.log(Level::Info, message);
    }

    pub fn warning(&self, message: &str) {
        self.log(Level::Warning, message);
    }

    pub fn error(&self, message: &str) {
        self.log(Level::Error, message);
    }

    /// The line a signal ends the run with: it must never wait. It goes to
    /// the log file (non-blocking), else to stderr with one non-blocking
    /// write that bypasses std's stderr lock (the main thread may hold it,
    /// blocked on a full pipe): a line there is no room for is lost.
    pub fn last_line(&self, level: Level, message: &str, exit_code: u8) {
        #[cfg(test)]
        if self.captured.is_some() {
            return self.log(level, message);
        }
        let line = self.line(level, message, Some(exit_code));
        if let Some(file) = &self.file {
            if (&*file).write_all(line.as_bytes()).is_ok() {
                return;
            }
        }
        write_to_stderr_at_once(line.as_bytes());
    }

    /// One line, its newline included; the exit code is JSON's only.
    fn line(&self, level: Level, message: &str, exit_code: Option<u8>) -> String {
        let time = timestamp(SystemTime::now());
        if self.format == Format::Plain {
            return format!("{time} {}: {}\n", level.name(), printable(message));
        }
        let fields = self.fields.lock().unwrap_or_else(|p| p.into_inner());
        let mut line = format!(
            "{{\"asctime\":{},\"levelname\":{},\"message\":{}",
            json_text(&time),
            json_text(level.name()),
            json_text(message)
        );
        for (key, value) in fields.iter() {
            let _ = write!(line, ",{}:{}", json_text(key), json_text(value));
        }
        if let Some(code) = exit_code {
            let _ = write!(line, ",\"exit_code\":{code}");
        }
        line + "}\n"
    }

    /// Writes one line with a single write, so concurrent writers to the same
    /// file (O_APPEND) never interleave inside a line. A failing log write is
    /// ignored: losing a line must not change the outcome of a recovery.
    pub fn log(&self, level: Level, message: &str) {
        #[cfg(test)]
        if let Some(captured) = &self.captured {
            captured
                .lock()
                .unwrap()
                .push(format!("{}: {}", level.name(), printable(message)));
            return;
        }
        self.write_line(&self.line(level, message, None));
    }

    fn write_line(&self, line: &str) {
        let Some(file) = &self.file else {
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
            return;
        };
        // A full disk, say: the line goes to stderr, where Patroni logs it,
        // after one line that says why.
        if let Err(e) = (&*file).write_all(line.as_bytes()) {
            let mut stderr = std::io::stderr().lock();
            if !self.file_failed.swap(true, Ordering::Relaxed) {
                let _ = writeln!(
                    stderr,
                    "patroni_barman: cannot write to --log-file ({e}): logging here"
                );
            }
            let _ = stderr.write_all(line.as_bytes());
        }
    }
}

/// Writes `bytes` to fd 2 with one write(2), made non-blocking for it, then
/// puts the flags back (the pipe may be shared with other processes).
fn write_to_stderr_at_once(bytes: &[u8]) {
    // SAFETY: fcntl and write on fd 2 with a valid buffer; errors ignored.
    unsafe {
        let flags = fcntl(2, F_GETFL);
        if flags >= 0 {
            fcntl(2, F_SETFL, flags | O_NONBLOCK);
        }
        write(2, bytes.as_ptr(), bytes.len());
        if flags >= 0 {
            fcntl(2, F_SETFL, flags);
        }
    }
}

/// `text` as a JSON string: quotes and backslashes escaped, and every
/// control, invisible or bidi character as `\uXXXX`, so that a line stays
/// one line of valid JSON and shows what the server really sent.
pub fn json_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ if c < ' ' || is_unsafe(c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What such an open of a FIFO without a reader fails with.
const ENXIO: i32 = 6;

/// Formats a time as `2026-11-25 17:10:25,123` (UTC).
pub fn timestamp(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let of_day = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02},{:03}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since_epoch.subsec_millis()
    )
}

/// Days since 1970-01-01 to a (year, month, day) of the proleptic Gregorian
/// calendar (Howard Hinnant's well-known algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Why `path` gave ENXIO: a FIFO with no reader, or a socket (`/dev/stderr`
/// when stderr is journald's socket), which no open() reaches.
fn no_such_device(path: &Path) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(path).map(|m| m.file_type()) {
        Ok(kind) if kind.is_socket() => {
            "a socket (journald's stderr, say), which cannot be opened as a file"
        }
        Ok(kind) if kind.is_fifo() => "a FIFO that no process reads",
        _ => "no device or reader behind it",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, millis: u64) -> String {
        timestamp(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis))
    }

    #[test]
    fn a_message_stays_on_one_line() {
        let log = Logger::capture();
        log.info("server m\nINFO: forged\u{1b}[31m \u{202e}desrever");
        assert_eq!(
            log.lines(),
            vec![r"INFO: server m\nINFO: forged\u{1b}[31m \u{202e}desrever"]
        );
    }

    #[test]
    fn a_socket_as_log_file_is_named_for_what_it_is() {
        // /dev/stderr on a journald socket gives the same ENXIO as this.
        let dir = std::env::temp_dir().join(format!("pb-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("journal.sock");
        let _ = std::fs::remove_file(&path);
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let error = Logger::append_to(&path)
            .err()
            .expect("a socket cannot be opened");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(error.to_string().starts_with("a socket"), "{error}");
    }

    #[test]
    fn formats_like_python_logging() {
        assert_eq!(at(0, 0), "1970-01-01 00:00:00,000");
        // 2026-11-25 17:10:25 UTC
        assert_eq!(at(1_795_626_625, 123), "2026-11-25 17:10:25,123");
        // A leap day and the last second of a year.
        assert_eq!(at(951_782_400, 7), "2000-02-29 00:00:00,007");
        assert_eq!(at(1_735_689_599, 999), "2024-12-31 23:59:59,999");
    }
}
