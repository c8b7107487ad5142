//! `--help` for the program and each subcommand, made from the option table
//! (`options::OPTIONS`) and a few lines of prose each.

use super::options::{listed_in, DefaultValue, Spec, Takes};
use crate::outcome::EXIT_CODES;
use crate::sub::{Sub, Subcommand, SUBCOMMANDS};

const INTRO: &str = "\
patroni_barman: drive Barman through pg-backup-api for Patroni

Usage: patroni_barman --api-url URL [OPTIONS] SUBCOMMAND ...

Subcommands (each has its own --help):
";

const OPTIONS_INTRO: &str = "\nOptions, before or after the subcommand:\n";

/// The program's help before the options: its usage and the subcommands'
/// summaries, from the table in src/sub.rs.
fn program_intro() -> String {
    let mut text = INTRO.to_string();
    for row in &SUBCOMMANDS {
        text += &indented(&format!("  {:<16}{}", row.name, row.summary), 18);
    }
    text + OPTIONS_INTRO
}

/// A subcommand's help before its options: title, usage and prose.
fn subcommand_intro(row: &Subcommand) -> String {
    let usage = format!(
        "Usage: patroni_barman --api-url URL {} {}",
        row.name, row.usage
    );
    format!(
        "patroni_barman {}: {}\n\n{}\n{}\n",
        row.name,
        row.title,
        indented(&usage, 22),
        row.intro
    )
}

/// `text` with its lines after the first indented by `indent` columns.
fn indented(text: &str, indent: usize) -> String {
    let mut out = text.replace('\n', &format!("\n{:indent$}", ""));
    out.push('\n');
    out
}

/// The help for the program (`None`) or for a subcommand.
pub fn help(sub: Option<Sub>) -> String {
    let (mut text, outro) = match sub {
        None => (program_intro(), ""),
        Some(sub) => (subcommand_intro(sub.row()), sub.row().outro),
    };
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

/// `--name VALUE` as help shows it, after its letter if it has one
/// (`-h, --help`).
pub fn synopsis(spec: &Spec) -> String {
    let mut text = match spec.short {
        Some(letter) => format!("-{letter}, "),
        None => String::new(),
    };
    text = text + "--" + spec.names[0];
    let placeholder = match spec.takes {
        Takes::Nothing => return text,
        Takes::Text(placeholder)
        | Takes::Checked(placeholder, _)
        | Takes::Choice(placeholder, _) => placeholder,
        Takes::Seconds(_) => "SECS",
        Takes::Count => "N",
        Takes::Mebibytes => "MIB",
    };
    text + " " + placeholder
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
