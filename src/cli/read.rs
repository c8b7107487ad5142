//! What was typed, recorded with lexopt before any checking, and each value
//! read as its option's kind (`options::Takes`), with the option's name in
//! every error.

use super::options::{Least, Opt, Spec, Takes, OPTIONS, PYTHON_OPTIONS};
use crate::sub::Sub;
use crate::text::{parse_seconds, printable};
use lexopt::Arg;
use std::ffi::OsString;
use std::time::Duration;

/// The bound of every wait and timeout: far more than anyone waits, and far
/// less than what overflows a deadline (`Instant + Duration` panics when the
/// sum does not fit).
pub const MAX_SECONDS: u64 = 1_000_000_000;

#[derive(Debug, Default)]
pub struct Typed {
    pub sub: Option<Sub>,
    /// Option values in order; the last one wins.
    values: Vec<(Opt, String)>,
    flags: Vec<Opt>,
    pub positionals: Vec<String>,
    /// Options given but not used, by name only: their values (a connstring,
    /// say) may hold secrets.
    pub ignored: Vec<String>,
}

impl Typed {
    pub fn text(&self, opt: Opt) -> Option<&str> {
        let last = self.values.iter().rev().find(|(o, _)| *o == opt);
        last.map(|(_, value)| value.as_str())
    }

    /// The value, or the option's default for this subcommand.
    pub fn text_or_default(&self, opt: Opt) -> Option<&str> {
        let default = self.sub.and_then(|sub| opt.spec().default_for(sub));
        self.text(opt).or(default)
    }

    pub fn required(&self, opt: Opt) -> Result<&str, String> {
        match self.text(opt) {
            Some("") => Err(format!("{} must not be empty", opt.flag())),
            Some(value) => Ok(value),
            None => {
                let flag = opt.flag();
                let typo = self
                    .ignored
                    .iter()
                    .find(|i| likely_meant(i) == Some(flag.clone()));
                Err(match typo {
                    Some(typo) => {
                        format!("{flag} is required ({typo} was given: did you mean {flag}?)")
                    }
                    None => format!("{flag} is required"),
                })
            }
        }
    }

    pub fn flag(&self, opt: Opt) -> bool {
        self.flags.contains(&opt)
    }

    /// A number of seconds like `2`, `0.05` or `1.5`, at least what the
    /// option's row says; its default when not given.
    pub fn seconds(&self, opt: Opt) -> Result<Option<Duration>, String> {
        let Some(text) = self.text_or_default(opt) else {
            return Ok(None);
        };
        let Takes::Seconds(least) = opt.spec().takes else {
            unreachable!("{opt:?} does not take seconds")
        };
        let kind = match least {
            Least::Zero => "a number of seconds",
            Least::AboveZero => "a number of seconds above 0",
            Least::Millisecond => "a number of seconds, at least 0.001",
        };
        let name = opt.flag();
        let bad = || format!("{name} must be {kind}, not {text:?}");
        let secs = parse_seconds(text.trim()).ok_or_else(bad)?;
        let too_small = match least {
            Least::Zero => false,
            Least::AboveZero => secs.is_zero(),
            Least::Millisecond => secs < Duration::from_millis(1),
        };
        if too_small {
            return Err(bad());
        }
        if secs.as_secs() >= MAX_SECONDS {
            return Err(format!(
                "{name} must be under {MAX_SECONDS} seconds (31 years), not {text:?}"
            ));
        }
        Ok(Some(secs))
    }

    /// A whole number, its default when not given.
    pub fn count(&self, opt: Opt) -> Result<u32, String> {
        let text = self.text_or_default(opt).unwrap_or("0");
        text.trim().parse::<u32>().map_err(|_| {
            format!(
                "{} must be a whole number of attempts, not {text:?}",
                opt.flag()
            )
        })
    }
}

/// Records what was typed; the only checks are those lexopt makes.
pub fn read(args: impl IntoIterator<Item = OsString>) -> Result<Typed, String> {
    let mut typed = Typed::default();
    let mut parser = lexopt::Parser::from_args(args);
    // An unknown `--key` typed without `=value` may be followed by its value
    // (`--foo bar`): like argparse, a word that no positional slot wants is
    // taken as that value and dropped with it.
    let mut after_unknown = false;
    // lexopt quotes an option name as typed (`-x=1`: "unexpected argument
    // for option '-x'"): made printable, as the names of ignored options.
    while let Some(arg) = parser.next().map_err(|e| printable(&e.to_string()))? {
        let value_of_unknown = std::mem::take(&mut after_unknown);
        match arg {
            Arg::Short(c) => match OPTIONS.iter().find(|spec| spec.short == Some(c)) {
                Some(spec) if spec.applies_to(typed.sub) => {
                    typed.read_option(spec, false, &mut parser)?;
                }
                _ => typed.ignored.push(printable(&format!("-{c}"))),
            },
            Arg::Long(name) => {
                let name = name.to_string();
                after_unknown = typed.read_long(&name, &mut parser)?;
            }
            Arg::Value(value) => {
                let value = value
                    .into_string()
                    .map_err(|_| "an argument is not valid UTF-8".to_string())?;
                typed.read_word(value, value_of_unknown)?;
            }
        }
    }
    Ok(typed)
}

impl Typed {
    /// Records `--name[=value]`; true when it is unknown and has no
    /// `=value`, so that the next word may be its value.
    fn read_long(&mut self, name: &str, parser: &mut lexopt::Parser) -> Result<bool, String> {
        let Some(spec) = resolve(name, self.sub)? else {
            // Drop the `=value`, if any, with the option.
            let bare = parser.optional_value().is_none();
            self.ignored.push(printable(&format!("--{name}")));
            return Ok(bare);
        };
        self.read_option(spec, true, parser)?;
        Ok(false)
    }

    /// Records a known option, given by its name (`long`) or its letter.
    fn read_option(
        &mut self,
        spec: &Spec,
        long: bool,
        parser: &mut lexopt::Parser,
    ) -> Result<(), String> {
        let flag = spec.opt.flag();
        if spec.takes == Takes::Nothing {
            // lexopt refuses `-h=x` itself, naming the option as typed.
            if long && parser.optional_value().is_some() {
                return Err(format!("{flag} takes no value"));
            }
            self.flags.push(spec.opt);
            return Ok(());
        }
        let value = parser
            .value()
            .map_err(|_| format!("{flag} needs a value"))?
            .into_string()
            .map_err(|_| format!("{flag} is not valid UTF-8"))?;
        self.values.push((spec.opt, value));
        Ok(())
    }

    /// Records a word that is not an option: the subcommand, one of its
    /// arguments, or (`value_of_unknown`) maybe the value of an ignored option.
    fn read_word(&mut self, word: String, value_of_unknown: bool) -> Result<(), String> {
        let Some(sub) = self.sub else {
            if let Some(sub) = Sub::named(&word) {
                self.sub = Some(sub);
                return Ok(());
            }
            // `--loop-wait 5 recover`: an option of a subcommand typed
            // before it, so its value reads as one.
            let after = match self.ignored.last() {
                Some(option) if value_of_unknown => match likely_meant(option) {
                    Some(meant) => {
                        format!(" (after {option}, which is no option: did you mean {meant}?)")
                    }
                    None if known_somewhere(option) => format!(
                        " (after {option}, which is not an option before the subcommand: \
                         move it after the subcommand)"
                    ),
                    None => format!(" (after {option}, which patroni_barman does not know)"),
                },
                _ => String::new(),
            };
            return Err(format!(
                "unknown subcommand {word:?}: use {}{after}",
                crate::sub::NAMES_LISTED
            ));
        };
        if !(value_of_unknown && self.positionals.len() >= sub.row().positionals) {
            self.positionals.push(word);
        }
        Ok(())
    }
}

/// The option that an unknown `--name` was most likely meant to be:
/// the same with `_` for `-` or another case, or one letter away.
pub fn likely_meant(typed: &str) -> Option<String> {
    let bare = typed
        .trim_start_matches('-')
        .to_ascii_lowercase()
        .replace('_', "-");
    let names = || OPTIONS.iter().flat_map(|spec| spec.names.iter().copied());
    let found = names()
        .find(|name| *name == bare)
        .or_else(|| names().find(|name| one_edit_apart(name, &bare)))?;
    (found != typed.trim_start_matches('-')).then(|| format!("--{found}"))
}

/// Whether `--name` is an option of some subcommand.
fn known_somewhere(typed: &str) -> bool {
    let bare = typed.trim_start_matches('-');
    OPTIONS.iter().any(|spec| spec.names.contains(&bare))
}

/// One letter inserted, dropped or changed.
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let common = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    let (short_tail, long_tail) = (&short[common..], &long[common..]);
    match long.len() == short.len() {
        true => short_tail.get(1..) == long_tail.get(1..),
        false => short_tail == &long_tail[1..],
    }
}

/// The option `name` stands for with `sub`: one of its names, or the one
/// name it is a prefix of (argparse's abbreviations: like argparse, a prefix
/// of two names of one option, `--data`, is ambiguous too).
fn resolve(name: &str, sub: Option<Sub>) -> Result<Option<&'static Spec>, String> {
    let known = || OPTIONS.iter().filter(|spec| spec.applies_to(sub));
    if let Some(exact) = known().find(|spec| spec.names.contains(&name)) {
        return Ok(Some(exact));
    }
    if name.is_empty() {
        return Ok(None);
    }
    let candidates: Vec<(&'static Spec, &str)> = known()
        .flat_map(|spec| spec.names.iter().map(move |n| (spec, *n)))
        .filter(|(_, n)| n.starts_with(name))
        .collect();
    let python: Vec<&(&'static Spec, &str)> = candidates
        .iter()
        .filter(|(spec, _)| PYTHON_OPTIONS.contains(&spec.opt))
        .collect();
    match (candidates.as_slice(), python.as_slice()) {
        ([], _) => Ok(None),
        ([(one, _)], _) => Ok(Some(one)),
        // What the Python tool took as its own abbreviation.
        (_, [(one, _)]) => Ok(Some(one)),
        (many, _) => {
            let names: Vec<&str> = many.iter().map(|(_, n)| *n).collect();
            Err(format!(
                "--{name} is ambiguous: it could be --{}",
                names.join(", --")
            ))
        }
    }
}
