//! How a run ends, and the exit code each ending maps to.
//!
//! This is the only place that knows exit codes. The table is a contract that
//! users script against: rows may be added, never renumbered or reused.
//! `EXIT_CODES` words it once for `--help` and the man page; tests tie it to
//! `exit_code` and to README.md's table. The codes below 5 follow the Python
//! tool, which gives the same ending a different code in each subcommand.

use crate::sub::Sub;

/// Every way a run can end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The operation finished DONE (or help/version was printed).
    Success,
    /// The operation finished FAILED.
    OperationFailed(Sub),
    /// config-switch: the role does not match `--switch-when`; nothing was sent.
    Skipped,
    /// An HTTP or API error, or the retries ran out.
    ApiError(Sub),
    /// config-switch: neither, both, or an empty `--barman-model`/`--reset`.
    InvalidModel,
    /// `--max-wait` ran out while the operation was still running.
    StillRunning,
    /// check: a check failed.
    CheckFailed,
    /// recover: `--max-wait` ran out while an earlier restore into the data
    /// directory was still running (or another run held its record);
    /// nothing was sent.
    EarlierRestoreRunning,
    /// recover: the record of the data directory's restore cannot be
    /// written or locked; nothing was sent.
    RecordUnusable,
    /// recover: pg-backup-api said DONE, but no cluster arrived in the data
    /// directory on this host (Barman restored elsewhere).
    RestoreNotHere,
    /// Any other command-line error; nothing was sent.
    Usage,
    /// pg-backup-api could not be used: `/status` failed or is not "OK".
    /// Nothing was created.
    ApiNotOk,
    /// No subcommand was given.
    NoSubcommand,
    /// SIGHUP (1), SIGINT (2) or SIGTERM (15) ended the run: 128 + signal.
    Terminated(u8),
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::OperationFailed(Sub::ConfigSwitch) => 2,
            // recover and wait (check creates nothing to fail).
            Outcome::OperationFailed(_) => 1,
            Outcome::Skipped => 1,
            Outcome::ApiError(Sub::ConfigSwitch) => 3,
            // recover and wait (check ends 6 or 254 instead).
            Outcome::ApiError(_) => 2,
            Outcome::InvalidModel => 4,
            Outcome::StillRunning => 5,
            Outcome::CheckFailed => 6,
            Outcome::EarlierRestoreRunning => 7,
            Outcome::RecordUnusable => 8,
            Outcome::RestoreNotHere => 9,
            Outcome::Usage => 64,
            Outcome::ApiNotOk => 254,
            Outcome::NoSubcommand => 255,
            Outcome::Terminated(signal) => 128 + signal.min(127),
        }
    }
}

/// One row of the documented exit-code table.
pub struct ExitRow {
    /// The code, or codes ("129, 130, 143").
    pub code: &'static str,
    /// The subcommands it is for; none: the program run without one.
    pub subs: &'static [Sub],
    pub meaning: &'static str,
}

const EVERY: &[Sub] = &Sub::ALL;
const FOLLOWING: &[Sub] = &[Sub::Recover, Sub::Wait];
const WAITING: &[Sub] = &[Sub::Recover, Sub::ConfigSwitch, Sub::Wait];
const SWITCH: &[Sub] = &[Sub::ConfigSwitch];
const RECOVER: &[Sub] = &[Sub::Recover];
const CHECK: &[Sub] = &[Sub::Check];
const WAIT: &[Sub] = &[Sub::Wait];

const fn row(code: &'static str, subs: &'static [Sub], meaning: &'static str) -> ExitRow {
    ExitRow {
        code,
        subs,
        meaning,
    }
}

/// The exit codes as `--help` and the man page list them.
pub const EXIT_CODES: &[ExitRow] = &[
    row("0", WAITING, "the operation is DONE, or help was printed"),
    row("0", CHECK, "every check passed, or help was printed"),
    row("1", FOLLOWING, "the operation FAILED"),
    row("1", SWITCH, "skipped: ROLE does not match --switch-when; nothing was sent"),
    row("2", RECOVER, "an HTTP or API error, or the retries ran out"),
    row("2", WAIT, "an HTTP or API error, the retries ran out, no such operation in the server's list, or an unknown server"),
    row("2", SWITCH, "the operation FAILED"),
    row("3", SWITCH, "an HTTP or API error, or the retries ran out"),
    row("4", SWITCH, "neither, both, or an empty --barman-model/--reset; nothing was sent"),
    row("5", WAITING, "--max-wait ran out; the operation goes on on the Barman host"),
    row("6", CHECK, "a check failed"),
    row("7", RECOVER, "--max-wait ran out while an earlier restore into the data directory still ran; nothing was sent"),
    row("8", RECOVER, "the record of the data directory's restore cannot be written; nothing was sent"),
    row("9", RECOVER, "pg-backup-api said DONE, but no cluster arrived in the data directory on this host"),
    row("64", EVERY, "any other command-line error; nothing was sent"),
    row("129, 130, 143", WAITING, "terminated by SIGHUP, SIGINT or SIGTERM, after a line that says what goes on on the Barman host"),
    row("129, 130, 143", CHECK, "terminated by SIGHUP, SIGINT or SIGTERM"),
    row("254", EVERY, "pg-backup-api could not be used; nothing was created"),
    row("255", &[], "no subcommand was given"),
];

impl ExitRow {
    /// The numbers of `code`.
    pub fn codes(&self) -> impl Iterator<Item = u8> + '_ {
        self.code
            .split(", ")
            .map(|code| code.parse().expect("a number"))
    }

    /// The meaning, with the subcommands it is for when it is not for all:
    /// "recover, wait: the operation FAILED".
    pub fn meaning_for_all(&self) -> String {
        if self.subs.is_empty() || self.subs == EVERY {
            return self.meaning.to_string();
        }
        let names: Vec<&str> = self.subs.iter().map(|sub| sub.name()).collect();
        format!("{}: {}", names.join(", "), self.meaning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_documented_table() {
        let table = [
            (Outcome::Success, 0),
            (Outcome::OperationFailed(Sub::Recover), 1),
            (Outcome::Skipped, 1),
            (Outcome::ApiError(Sub::Recover), 2),
            (Outcome::OperationFailed(Sub::ConfigSwitch), 2),
            (Outcome::ApiError(Sub::ConfigSwitch), 3),
            (Outcome::InvalidModel, 4),
            (Outcome::StillRunning, 5),
            (Outcome::CheckFailed, 6),
            (Outcome::EarlierRestoreRunning, 7),
            (Outcome::RecordUnusable, 8),
            (Outcome::RestoreNotHere, 9),
            (Outcome::OperationFailed(Sub::Wait), 1),
            (Outcome::ApiError(Sub::Wait), 2),
            (Outcome::Usage, 64),
            (Outcome::ApiNotOk, 254),
            (Outcome::NoSubcommand, 255),
            (Outcome::Terminated(1), 129),
            (Outcome::Terminated(2), 130),
            (Outcome::Terminated(15), 143),
        ];
        for (outcome, code) in table {
            assert_eq!(outcome.exit_code(), code, "{outcome:?}");
        }
    }

    /// Every ending a subcommand can have, by the subcommand.
    fn endings(sub: Sub) -> Vec<Outcome> {
        let mut endings = vec![
            Outcome::Success,
            Outcome::Usage,
            Outcome::ApiNotOk,
            Outcome::Terminated(1),
            Outcome::Terminated(2),
            Outcome::Terminated(15),
        ];
        match sub {
            Sub::Check => endings.push(Outcome::CheckFailed),
            _ => endings.extend([
                Outcome::OperationFailed(sub),
                Outcome::ApiError(sub),
                Outcome::StillRunning,
            ]),
        }
        if sub == Sub::ConfigSwitch {
            endings.extend([Outcome::Skipped, Outcome::InvalidModel]);
        }
        if sub == Sub::Recover {
            endings.extend([
                Outcome::EarlierRestoreRunning,
                Outcome::RecordUnusable,
                Outcome::RestoreNotHere,
            ]);
        }
        endings
    }

    #[test]
    fn the_worded_table_lists_exactly_the_codes_each_subcommand_can_end_with() {
        for sub in Sub::ALL {
            let mut ended: Vec<u8> = endings(sub).into_iter().map(Outcome::exit_code).collect();
            let mut listed: Vec<u8> = EXIT_CODES
                .iter()
                .filter(|row| row.subs.contains(&sub))
                .flat_map(ExitRow::codes)
                .collect();
            ended.sort();
            listed.sort();
            assert_eq!(ended, listed, "{sub:?}");
        }
        let bare: Vec<u8> = EXIT_CODES
            .iter()
            .filter(|row| row.subs.is_empty())
            .flat_map(ExitRow::codes)
            .collect();
        assert_eq!(bare, [Outcome::NoSubcommand.exit_code()]);
    }
}
