//! The man page, `patroni_barman.1`, made from the option table as `--help`
//! is, so that the two cannot drift apart. `examples/man.rs` prints it;
//! `make man` writes it.

use super::help::{shown_default, synopsis};
use super::options::{listed_in, Spec};
use crate::outcome::EXIT_CODES;
use crate::sub::{Sub, SUBCOMMANDS};

const HEAD: &str = r#".TH PATRONI_BARMAN 1 "" "patroni_barman VERSION" "User Commands"
.nh
.SH NAME
patroni_barman \- drive Barman through pg-backup-api for Patroni
.SH SYNOPSIS
.B patroni_barman
.B \-\-api\-url
.I URL
.RI [ OPTIONS ]
SUBCOMMANDS
.RI ...
.SH DESCRIPTION
.B patroni_barman
asks pg\-backup\-api, Barman's REST API, to restore a backup into this
node's data directory
.RB ( recover ,
a Patroni bootstrap or replica creation method) or to apply a Barman config
model when the node's role changes
.RB ( config\-switch ,
Patroni's on_role_change callback), then polls the operation until it is DONE
or FAILED.
.B check
proves a node's settings before a failover needs them;
.B wait
follows an operation left running.
Options may be written \-\-key value or \-\-key=value, global options may come
before or after the subcommand, and options it does not know (Patroni's
\-\-scope=, \-\-role=, \-\-connstring=) are ignored.
"#;

const TAIL: &str = r#".SH ENVIRONMENT
.TP
.B SSL_CERT_FILE
A PEM file of CA certificates to trust for https:// when \-\-ca\-file is
not given, as OpenSSL reads it (default build only).
.TP
.B SSL_CERT_DIR
Directories, separated by colons, whose PEM files are CA certificates to
trust, hashed by openssl rehash or not. When either variable is set, the
system's store is not read.
.TP
.B TZ
Not read: log lines are stamped in UTC (2026\-11\-25 17:10:25,123), which
reads the same on every host of a cluster and needs no time zone database.
.SH FILES
.TP
.I PARENT/.NAME.patroni_barman
The record of the restore into the data directory PARENT/NAME (or, with
\-\-record\-dir DIR, DIR/ABSOLUTE_PATH.patroni_barman with % and /
percent\-encoded): one line of JSON naming the operation that recover
started, or the server's list before a POST whose answer it did not read.
It is written and synced before each POST, locked for the run's whole life,
and removed by a run that succeeds. A recover that finds it naming an
operation still IN_PROGRESS follows that operation to its end before it
starts its own restore, so that at most one restore writes into a data
directory at any moment, across cancels and restarts (exit 7 when
\-\-max\-wait runs out first, 8 when the record cannot be kept).
.SH EXAMPLES
Patroni's bootstrap method, and a replica creation method that falls back
to pg_basebackup:
.PP
.nf
.RS
bootstrap:
  method: barman
  barman:
    keep_existing_recovery_conf: true
    command: patroni_barman \-\-api\-url http://barman:7480 recover
    barman\-server: my_server
    ssh\-command: ssh postgres@pg\-node\-1
postgresql:
  create_replica_methods: [barman, basebackup]
  barman: ...the same keys...
.RE
.fi
.PP
The on_role_change callback:
.PP
.nf
.RS
postgresql:
  callbacks:
    on_role_change: patroni_barman \-\-api\-url http://barman:7480
      \-\-max\-wait 300 config\-switch \-\-barman\-server my_server
      \-\-barman\-model my_server\-pg\-node\-1 \-\-switch\-when promoted
.RE
.fi
.PP
Before a failover needs it:
.PP
.nf
.RS
patroni_barman \-\-api\-url http://barman:7480 check \e
  \-\-barman\-server my_server \-\-barman\-model my_server\-pg\-node\-1
.RE
.fi
.SH SEE ALSO
.BR patronictl (1),
.BR barman (1)
"#;

/// The whole page, in roff.
pub fn man_page() -> String {
    let names: Vec<String> = SUBCOMMANDS
        .iter()
        .map(|row| format!(".B {}", escape(row.name)))
        .collect();
    let mut page = HEAD
        .replace("VERSION", env!("CARGO_PKG_VERSION"))
        .replace("SUBCOMMANDS", &names.join("\n|\n"));
    page += ".SH OPTIONS\n";
    page += &options(None);
    for sub in Sub::ALL {
        page += &format!(".SS {} options\n", escape(sub.name()));
        page += &options(Some(sub));
    }
    page += ".SH EXIT STATUS\n";
    for row in EXIT_CODES {
        let meaning = escape(&row.meaning_for_all());
        page += &format!(".TP\n.B {}\n{meaning}.\n", row.code);
    }
    page + TAIL
}

fn options(sub: Option<Sub>) -> String {
    listed_in(sub).map(|spec| option(spec, sub)).collect()
}

fn option(spec: &Spec, sub: Option<Sub>) -> String {
    let mut text = spec.help.replace('\n', " ");
    if spec.required(sub) {
        text += "; required";
    }
    if let Some(value) = shown_default(spec, sub) {
        text += &format!(" [default: {value}]");
    }
    format!(".TP\n.B {}\n{}\n", escape(&synopsis(spec)), escape(&text))
}

/// Text safe in roff: hyphens as minus signs (options are typed so),
/// backslashes escaped, no line starting with a control character.
fn escape(text: &str) -> String {
    let escaped = text.replace('\\', r"\e").replace('-', r"\-");
    match escaped.starts_with(['.', '\'']) {
        true => format!(r"\&{escaped}"),
        false => escaped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::options::OPTIONS;

    #[test]
    fn every_option_is_on_the_page() {
        let page = man_page();
        for spec in OPTIONS {
            let shown = format!(".B {}\n", escape(&synopsis(spec)));
            assert!(page.contains(&shown), "{shown}");
        }
        assert!(page.contains(".SS check options\n"));
        assert!(page.starts_with(".TH PATRONI_BARMAN 1"));
    }

    #[test]
    fn roff_controls_are_escaped() {
        assert_eq!(escape("--max-wait"), r"\-\-max\-wait");
        assert_eq!(escape(".x"), r"\&.x");
        assert_eq!(escape(r"a\b"), r"a\eb");
    }
}
