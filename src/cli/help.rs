//! `--help` for the program and each subcommand, made from the option table
//! (`options::OPTIONS`) and a few lines of prose each.

use super::options::{listed_in, DefaultValue, Spec, Sub, Takes};
use crate::outcome::EXIT_CODES;

const INTRO: &str = "\
patroni_barman: drive Barman through pg-backup-api for Patroni

Usage: patroni_barman --api-url URL [OPTIONS] SUBCOMMAND ...

Subcommands (each has its own --help):
  recover         restore a Barman backup into this node's data directory
                  (a Patroni bootstrap or replica creation method)
  config-switch   apply or reset a Barman config model on a role change
                  (Patroni's on_role_change callback)
  check           prove this node's settings before a failover needs them
  wait            follow an operation left running, until it ends

Options, before or after the subcommand:
";

const OUTRO: &str = "";

const RECOVER_INTRO: &str = "\
patroni_barman recover: restore a Barman backup into this node's data directory

Usage: patroni_barman --api-url URL recover --barman-server NAME
                      --ssh-command CMD --data-directory DIR [--backup-id ID]
                      [--loop-wait SECS]

Asks pg-backup-api to run `barman recover` of the backup into DIR on this host
(over CMD), then polls until the operation is DONE (exit 0) or FAILED (exit 1).

";

const RECOVER_OUTRO: &str = "
Global options (--api-url, --retry-wait, ...) may also come here. Options this
tool does not know, like Patroni's --scope= and --role=, are ignored.
";

const SWITCH_INTRO: &str = "\
patroni_barman config-switch: apply a Barman config model on a role change

Usage: patroni_barman --api-url URL config-switch --barman-server NAME
                      (--barman-model MODEL | --reset) --switch-when WHEN
                      on_role_change ROLE CLUSTER

Patroni appends on_role_change ROLE CLUSTER when it runs the callback. When
ROLE matches WHEN, asks pg-backup-api to apply MODEL (or reset the config) and
polls until the operation is DONE (exit 0) or FAILED (exit 2); otherwise it
sends nothing and exits 1.

";

const SWITCH_OUTRO: &str = "
  ROLE                  primary, promoted, standby_leader, replica, demoted
                        or master

Global options (--api-url, --retry-wait, ...) may also come here.
";

const CHECK_INTRO: &str = "\
patroni_barman check: prove Barman settings before a failover needs them

Usage: patroni_barman --api-url URL check --barman-server NAME
                      [--barman-model MODEL | --reset] [--backup-id ID]

Prints one line per check to stdout, ok, FAIL or WARNING: /status answers
over this transport (TLS files included); the server is known, with its
operations; from /diagnose, its cluster and active model, the model to apply
(it exists, is a model, and belongs to the server's cluster) and the backup to
restore (it is DONE: --backup-id, or latest when recover's --ssh-command or
--data-directory is given); the place of the data directory's record. It
takes the options of recover and config-switch too, so run it with the
options of your Patroni sections. Nothing is created.

";

const CHECK_OUTRO: &str = "
A WARNING line does not fail the check: a relative --data-directory, an empty
--ssh-command, a backup WAITING_FOR_WALS, and a --reset or --barman-model that
would run on demotion (it races the new primary's model on a switchover).
--loop-wait is accepted, and not used. Global options (--api-url, --ca-file,
...) may also come here.
";

const WAIT_INTRO: &str = "\
patroni_barman wait: follow an operation left running, until it ends

Usage: patroni_barman --api-url URL wait --barman-server NAME --operation-id ID

Polls the operation as recover does (the same schedule, retries, --loop-wait
and --max-wait) until it is DONE (exit 0) or FAILED (exit 1). Every log line
that says an operation goes on on the Barman host prints this command.

";

const WAIT_OUTRO: &str = "
Global options (--api-url, --max-wait, ...) may also come here.
";

/// The help for the program (`None`) or for a subcommand.
pub fn help(sub: Option<Sub>) -> String {
    let (intro, outro) = match sub {
        None => (INTRO, OUTRO),
        Some(Sub::Recover) => (RECOVER_INTRO, RECOVER_OUTRO),
        Some(Sub::ConfigSwitch) => (SWITCH_INTRO, SWITCH_OUTRO),
        Some(Sub::Check) => (CHECK_INTRO, CHECK_OUTRO),
        Some(Sub::Wait) => (WAIT_INTRO, WAIT_OUTRO),
    };
    let mut text = intro.to_string();
    let used = |spec: &&Spec| !matches!(sub, Some(sub) if spec.unused_in.contains(&sub));
    for spec in listed_in(sub).filter(used) {
        text += &option_lines(spec, sub);
    }
    text + outro + &exit_codes(sub)
}

/// The exit codes `sub` can end with (all of them for the program), from
/// the one table in src/outcome.rs.
fn exit_codes(sub: Option<Sub>) -> String {
    let mut text = "\nExit codes:\n".to_string();
    for row in EXIT_CODES {
        let meaning = match sub {
            None => row.meaning_for_all(),
            Some(sub) if row.subs.contains(&sub) => row.meaning.to_string(),
            Some(_) => continue,
        };
        text += &wrapped(&format!("  {:<15}", row.code), &meaning);
    }
    text
}

/// `text` after `first` (whose width sets the indent), in lines of at most
/// 80 columns.
fn wrapped(first: &str, text: &str) -> String {
    let indent = first.len();
    let mut out = String::new();
    let mut line = first.to_string();
    for word in text.split(' ') {
        if line.len() > indent && line.len() + 1 + word.len() > 80 {
            out += line.trim_end();
            out.push('\n');
            line = " ".repeat(indent);
        }
        if line.len() > indent {
            line.push(' ');
        }
        line += word;
    }
    out + &line + "\n"
}

/// `--name VALUE` as help shows it (`-h, --help` for help).
pub fn synopsis(spec: &Spec) -> String {
    let name = match spec.names[0] {
        "help" => "-h, --help".to_string(),
        name => format!("--{name}"),
    };
    match spec.takes {
        Takes::Nothing => name,
        Takes::Text(placeholder) => format!("{name} {placeholder}"),
        Takes::Seconds(_) => format!("{name} SECS"),
        Takes::Count => format!("{name} N"),
    }
}

/// The default shown for `spec` in `sub`'s help.
pub fn shown_default(spec: &Spec, sub: Option<Sub>) -> Option<&'static str> {
    match (&spec.default, sub) {
        (DefaultValue::PerSub(_), Some(sub)) => spec.default_for(sub),
        (DefaultValue::Is(value), _) => Some(value),
        _ => None,
    }
}

/// Adds `piece` to the last line of `help` after `sep`, or on a line of its
/// own when the line would pass column 80.
fn add_to_last_line(help: &mut String, sep: &str, piece: &str) {
    let last = help.lines().last().unwrap_or_default().len();
    match 24 + last + sep.len() + piece.len() > 80 {
        true => *help += &format!("\n{piece}"),
        false => *help += &format!("{sep}{piece}"),
    }
}

/// The option's lines: its synopsis, then its help from column 24.
fn option_lines(spec: &Spec, sub: Option<Sub>) -> String {
    let mut help = spec.help.to_string();
    if spec.required(sub) {
        add_to_last_line(&mut help, "; ", "required");
    }
    if let Some(value) = shown_default(spec, sub) {
        add_to_last_line(&mut help, " ", &format!("[default: {value}]"));
    }
    let mut lines = help.lines();
    let first = lines.next().unwrap_or_default();
    let mut text = format!("  {:<22}{first}\n", synopsis(spec));
    if synopsis(spec).len() > 21 {
        text = format!("  {}\n{:24}{first}\n", synopsis(spec), "");
    }
    for line in lines {
        text += &format!("{:24}{line}\n", "");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::options::{Scope, OPTIONS};

    #[test]
    fn every_option_is_in_some_help_once() {
        let subs = Sub::ALL.into_iter().map(Some);
        let texts: Vec<String> = std::iter::once(None).chain(subs).map(help).collect();
        for spec in OPTIONS {
            let line = format!("  {}", synopsis(spec));
            let found = texts.iter().filter(|t| t.contains(&line)).count();
            let expected = match spec.scope {
                Scope::Global => 1,
                Scope::Of(subs) => subs.len() - spec.unused_in.len(),
            };
            assert_eq!(found, expected, "{line}");
        }
    }

    #[test]
    fn defaults_follow_the_subcommand() {
        assert!(help(Some(Sub::Recover)).contains("age/12)\n                        [default: 10]"));
        assert!(
            help(Some(Sub::ConfigSwitch)).contains("age/12)\n                        [default: 5]")
        );
        let global = help(None);
        assert!(
            global.contains(
                "  --http-timeout SECS   deadline of each request, e.g. 30 or 2.5 [default: 30]"
            ),
            "{global}"
        );
        assert!(
            global.contains("  -h, --help            print help"),
            "{global}"
        );
    }

    #[test]
    fn each_subcommand_lists_its_own_exit_codes() {
        let switch = help(Some(Sub::ConfigSwitch));
        assert!(switch.contains("\n  1              skipped: ROLE does not match"));
        assert!(!switch.contains("a check failed"));
        let check = help(Some(Sub::Check));
        assert!(check.contains("\n  6              a check failed\n"));
        assert!(!check.contains("--max-wait ran out"));
        assert!(help(None).contains("\n  6              check: a check failed\n"));
    }

    #[test]
    fn help_lines_fit_a_terminal() {
        for sub in std::iter::once(None).chain(Sub::ALL.into_iter().map(Some)) {
            for line in help(sub).lines() {
                assert!(line.chars().count() <= 80, "{line}");
            }
        }
    }
}
