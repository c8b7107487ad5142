//! The subcommands, one row each: the parser (names, positional arguments),
//! `--help`, the man page and every message that lists them are made from
//! `SUBCOMMANDS`. A leaf: it uses nothing of the crate, so that the option
//! table, the exit codes and the jobs can all name a subcommand.

/// One subcommand's row.
pub struct Subcommand {
    pub sub: Sub,
    /// As typed.
    pub name: &'static str,
    /// What it does, after "patroni_barman NAME: " in its help.
    pub title: &'static str,
    /// Its lines in the program's list of subcommands.
    pub summary: &'static str,
    /// Help's usage, after "patroni_barman --api-url URL NAME".
    pub usage: &'static str,
    /// How many positional arguments it takes (Patroni's callback appends
    /// ACTION ROLE CLUSTER).
    pub positionals: usize,
    /// Help's prose before the options, and after them.
    pub intro: &'static str,
    pub outro: &'static str,
}

/// Makes `Sub`, one variant per row in the rows' order, and `SUBCOMMANDS`
/// from the rows: a subcommand cannot exist without its row, and row i is
/// variant i, so that `Sub::row` indexes.
macro_rules! subcommand_table {
    ($(Subcommand { sub: Sub::$sub:ident, $($field:tt)* }),* $(,)?) => {
        /// A subcommand, by what it does: one per row of `SUBCOMMANDS`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Sub {
            $($sub),*
        }

        impl Sub {
            pub const ALL: [Sub; [$(Sub::$sub),*].len()] = [$(Sub::$sub),*];
        }

        pub const SUBCOMMANDS: [Subcommand; Sub::ALL.len()] =
            [$(Subcommand { sub: Sub::$sub, $($field)* }),*];
    };
}

subcommand_table! {
    Subcommand {
        sub: Sub::Recover,
        name: "recover",
        title: "restore a Barman backup into this node's data directory",
        summary: "restore a Barman backup into this node's data directory\n\
                  (a Patroni bootstrap or replica creation method)",
        usage: "--barman-server NAME\n\
                --ssh-command CMD --data-directory DIR [--backup-id ID]\n\
                [--loop-wait SECS]",
        positionals: 0,
        intro: "\
Asks pg-backup-api to run `barman recover` of the backup into DIR on this host
(over CMD), then polls until the operation is DONE (exit 0) or FAILED (exit 1).
",
        outro: "
Global options (--api-url, --retry-wait, ...) may also come here. Options this
tool does not know, like Patroni's --scope= and --role=, are ignored.
",
    },
    Subcommand {
        sub: Sub::ConfigSwitch,
        name: "config-switch",
        title: "apply a Barman config model on a role change",
        summary: "apply or reset a Barman config model on a role change\n\
                  (Patroni's on_role_change callback)",
        usage: "--barman-server NAME\n\
                (--barman-model MODEL | --reset) --switch-when WHEN\n\
                on_role_change ROLE CLUSTER",
        positionals: 3,
        intro: "\
Patroni appends on_role_change ROLE CLUSTER when it runs the callback. When
ROLE matches WHEN, asks pg-backup-api to apply MODEL (or reset the config) and
polls until the operation is DONE (exit 0) or FAILED (exit 2); otherwise it
sends nothing and exits 1.
",
        outro: "
  ROLE                  primary, promoted, standby_leader, replica, demoted
                        or master

Global options (--api-url, --retry-wait, ...) may also come here.
",
    },
    Subcommand {
        sub: Sub::Check,
        name: "check",
        title: "prove Barman settings before a failover needs them",
        summary: "prove this node's settings before a failover needs them",
        usage: "--barman-server NAME\n\
                [--barman-model MODEL | --reset] [--backup-id ID]",
        positionals: 0,
        intro: "\
Prints one line per check to stdout, ok, FAIL or WARNING: /status answers
over this transport (TLS files included); the server is known, with its
operations; from /diagnose, its cluster and active model, the model to apply
(it exists, is a model, and belongs to the server's cluster) and the backup to
restore (it is DONE: --backup-id, or latest when recover's --ssh-command or
--data-directory is given); the place of the data directory's record. It
takes the options of recover and config-switch too, so run it with the
options of your Patroni sections. Nothing is created.
",
        outro: "
A WARNING line does not fail the check: a relative --data-directory, an empty
--ssh-command, a backup WAITING_FOR_WALS, and a --reset or --barman-model that
would run on demotion (it races the new primary's model on a switchover).
--loop-wait is accepted, and not used. Global options (--api-url, --ca-file,
...) may also come here.
",
    },
    Subcommand {
        sub: Sub::Wait,
        name: "wait",
        title: "follow an operation left running, until it ends",
        summary: "follow an operation left running, until it ends",
        usage: "--barman-server NAME --operation-id ID",
        positionals: 0,
        intro: "\
Polls the operation as recover does (the same schedule, retries, --loop-wait
and --max-wait) until it is DONE (exit 0) or FAILED (exit 1). Every log line
that says an operation goes on on the Barman host prints this command.
",
        outro: "
Global options (--api-url, --max-wait, ...) may also come here.
",
    },
}

impl Sub {
    pub fn row(self) -> &'static Subcommand {
        &SUBCOMMANDS[self as usize]
    }

    /// As typed on the command line.
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// The subcommand typed as `word`.
    pub fn named(word: &str) -> Option<Sub> {
        SUBCOMMANDS
            .iter()
            .find(|row| row.name == word)
            .map(|row| row.sub)
    }
}

/// "recover, config-switch, check or wait", for messages: made from the
/// table at compile time, so that it costs the binary no code.
pub const NAMES_LISTED: &str = match std::str::from_utf8(&LISTED) {
    Ok(text) => text,
    Err(_) => panic!("subcommand names are UTF-8"),
};

const LISTED: [u8; listed_len()] = listed();

/// The separator before the `at`-th name.
const fn separator(at: usize) -> &'static str {
    match at {
        0 => "",
        _ if at + 1 == SUBCOMMANDS.len() => " or ",
        _ => ", ",
    }
}

const fn listed_len() -> usize {
    let (mut len, mut at) = (0, 0);
    while at < SUBCOMMANDS.len() {
        len += separator(at).len() + SUBCOMMANDS[at].name.len();
        at += 1;
    }
    len
}

const fn listed() -> [u8; listed_len()] {
    let mut out = [0; listed_len()];
    let (mut len, mut at) = (0, 0);
    while at < SUBCOMMANDS.len() {
        let mut part = 0;
        while part < 2 {
            let bytes = match part {
                0 => separator(at).as_bytes(),
                _ => SUBCOMMANDS[at].name.as_bytes(),
            };
            let mut i = 0;
            while i < bytes.len() {
                out[len] = bytes[i];
                len += 1;
                i += 1;
            }
            part += 1;
        }
        at += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_is_found_by_its_name() {
        for sub in Sub::ALL {
            assert_eq!(Sub::named(sub.name()), Some(sub));
        }
        assert_eq!(Sub::named("restore"), None);
        assert_eq!(NAMES_LISTED, "recover, config-switch, check or wait");
    }
}
