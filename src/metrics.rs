//! `--metrics-file PATH.prom`: how the last run of this command line ended,
//! in node_exporter's textfile format, for alerting. Patroni ignores a
//! callback's exit code, so a config switch that failed after a failover
//! is otherwise found only when a restore needs the WAL it missed.
//!
//! Written at the end of every run (the signal's end included), atomically:
//! a temporary file in the same directory (not ending in `.prom`, which the
//! collector would read half-written), then a rename. No sample timestamps:
//! the collector refuses them. A file that cannot be written costs one
//! WARNING, never the run's exit code.

use crate::log::Logger;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const PREFIX: &str = "patroni_barman_";
const LAST_SUCCESS: &str = "last_success_timestamp_seconds";
/// The most of a previous file read for its last success: this tool's
/// files are under 2 KiB.
const MAX_FILE: u64 = 64 << 10;

/// What the file says of one run.
pub struct Run<'a> {
    pub subcommand: &'a str,
    pub server: &'a str,
    pub started: SystemTime,
    pub ended: SystemTime,
    pub exit_code: u8,
    /// recover: the bytes in the data directory (and its tablespaces) at
    /// the end.
    pub restored_bytes: Option<u64>,
}

/// Writes `run` to `path`, keeping the last success of the file there
/// when this run failed; a WARNING on `log` when it cannot.
pub fn write(path: &Path, run: &Run, log: &Logger) {
    let mut previous = String::new();
    let read =
        File::open(path).and_then(|file| (&file).take(MAX_FILE).read_to_string(&mut previous));
    let kept = read.ok().and_then(|_| last_success(&previous));
    let text = render(run, kept.as_deref());
    if let Err(why) = replace(path, &text) {
        log.warning(&format!(
            "Cannot write --metrics-file {}: {why}; the run's outcome stands.",
            path.display()
        ));
    }
}

/// The file's text: one gauge per line, each with its HELP and TYPE.
fn render(run: &Run, kept_success: Option<&str>) -> String {
    let labels = format!(
        "{{subcommand=\"{}\",server=\"{}\"}}",
        label_value(run.subcommand),
        label_value(run.server)
    );
    let ended = seconds_text(run.ended.duration_since(UNIX_EPOCH).unwrap_or_default());
    let took = run.ended.duration_since(run.started).unwrap_or_default();
    let success = match run.exit_code {
        0 => Some(ended.clone()),
        _ => kept_success.map(String::from),
    };
    let mut gauges = vec![
        (
            "last_run_timestamp_seconds",
            "When the last run ended (Unix time).",
            Some(ended),
        ),
        (
            LAST_SUCCESS,
            "When the last run that exited 0 ended (Unix time).",
            success,
        ),
        (
            "last_exit_code",
            "The exit code of the last run (README, Exit codes).",
            Some(run.exit_code.to_string()),
        ),
        (
            "last_run_duration_seconds",
            "How long the last run took.",
            Some(seconds_text(took)),
        ),
    ];
    if let Some(bytes) = run.restored_bytes {
        gauges.push((
            "last_restored_bytes",
            "recover: the bytes in the data directory and its tablespaces when the last run ended.",
            Some(bytes.to_string()),
        ));
    }
    let mut text = String::new();
    for (name, help, value) in gauges {
        let Some(value) = value else { continue };
        let _ = write!(
            text,
            "# HELP {PREFIX}{name} {help}\n# TYPE {PREFIX}{name} gauge\n{PREFIX}{name}{labels} {value}\n"
        );
    }
    text
}

/// The value of the last success in a file this tool wrote, as written.
fn last_success(text: &str) -> Option<String> {
    let name = format!("{PREFIX}{LAST_SUCCESS}{{");
    let line = text.lines().find(|line| line.starts_with(&name))?;
    let value = line.rsplit_once(' ')?.1;
    let plain = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    plain.then(|| value.to_string())
}

/// `1796520000.123`: whole seconds and milliseconds, without floats.
fn seconds_text(time: Duration) -> String {
    format!("{}.{:03}", time.as_secs(), time.subsec_millis())
}

/// A label value as the text format escapes it: `\`, `"` and newlines.
fn label_value(text: &str) -> String {
    text.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

/// Writes `text` beside `path` and renames it over `path`.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary: PathBuf = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = File::create(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
        })
        .and_then(|()| fs::rename(&temporary, path));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(exit_code: u8) -> Run<'static> {
        Run {
            subcommand: "config-switch",
            server: "ma\"in",
            started: UNIX_EPOCH + Duration::from_millis(1_796_520_000_000),
            ended: UNIX_EPOCH + Duration::from_millis(1_796_520_002_345),
            exit_code,
            restored_bytes: None,
        }
    }

    #[test]
    fn a_run_is_four_gauges_with_escaped_labels() {
        let text = render(&run(0), None);
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let labels = r#"{subcommand="config-switch",server="ma\"in"}"#;
        assert_eq!(
            samples,
            [
                format!("patroni_barman_last_run_timestamp_seconds{labels} 1796520002.345"),
                format!("patroni_barman_last_success_timestamp_seconds{labels} 1796520002.345"),
                format!("patroni_barman_last_exit_code{labels} 0"),
                format!("patroni_barman_last_run_duration_seconds{labels} 2.345"),
            ]
        );
        assert_eq!(text.lines().filter(|l| l.starts_with("# TYPE")).count(), 4);
    }

    #[test]
    fn a_failed_run_keeps_the_last_success_or_has_none() {
        let earlier = render(&run(0), None);
        let kept = last_success(&earlier);
        assert_eq!(kept.as_deref(), Some("1796520002.345"));
        let failed = render(&run(3), kept.as_deref());
        assert!(failed.contains("last_success_timestamp_seconds{"));
        assert!(
            failed.contains("_last_exit_code{subcommand=\"config-switch\",server=\"ma\\\"in\"} 3")
        );
        let never = render(&run(3), None);
        assert!(!never.contains(LAST_SUCCESS), "{never}");
        assert_eq!(
            last_success("patroni_barman_last_success_timestamp_seconds{a} 1e9"),
            None
        );
    }
}
