//! How a run ends, and the exit code each ending maps to.
//!
//! This is the only place that knows exit codes. The table is a contract that
//! users script against (it is also in README.md): rows may be added, never
//! renumbered or reused. The codes below 5 follow the Python tool, which gives
//! the same ending a different code in each subcommand.

use crate::cli::Sub;

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
            Outcome::Usage => 64,
            Outcome::ApiNotOk => 254,
            Outcome::NoSubcommand => 255,
            Outcome::Terminated(signal) => 128 + signal.min(127),
        }
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
}
