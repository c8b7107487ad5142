//! What was typed, recorded with lexopt, each value read as its option's
//! kind (`options::Takes`) where it is read, with the option's name in every
//! error. An error waits in the value until it is asked for, so that the
//! command line's problems are reported in one order, whatever order they
//! were typed in.

use super::options::{kind, Choice, Key, Least, Opt, Spec, Takes, OPTIONS, PYTHON_OPTIONS};
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
    /// Every option given, flags included, in order (the last value of an
    /// option wins), then the defaults of those not given.
    given: Vec<Given>,
    pub positionals: Vec<String>,
    /// Options given but not used, by name only: their values (a connstring,
    /// say) may hold secrets.
    pub ignored: Vec<String>,
}

/// An option's value as typed, and as read: every kind reads as a number
/// (nanoseconds, attempts, bytes, a word's index) or as the text itself, and
/// its `Kind` makes that number its type again.
struct Given {
    opt: Opt,
    text: String,
    read: Result<u64, String>,
}

/// By the option only: the text may be a URL with its password, and a
/// refusal may quote it.
impl std::fmt::Debug for Given {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Given")
            .field("opt", &self.opt)
            .field("read", &self.read.is_ok())
            .finish_non_exhaustive()
    }
}

/// The type of an option's value, from what it was read as.
pub trait Kind {
    type Out;
    fn out(text: &str, number: u64) -> Self::Out;
}

impl Kind for kind::Text {
    type Out = String;
    fn out(text: &str, _: u64) -> String {
        text.into()
    }
}

impl Kind for kind::Checked {
    type Out = String;
    fn out(text: &str, _: u64) -> String {
        text.into()
    }
}

impl Kind for kind::Seconds {
    type Out = Duration;
    fn out(_: &str, nanos: u64) -> Duration {
        Duration::from_nanos(nanos)
    }
}

impl Kind for kind::Count {
    type Out = u32;
    fn out(_: &str, count: u64) -> u32 {
        // `number` read a u32: nothing is cut.
        count as u32
    }
}

impl Kind for kind::Mebibytes {
    type Out = usize;
    fn out(_: &str, bytes: u64) -> usize {
        bytes as usize
    }
}

impl<T: Choice> Kind for kind::Choice<T> {
    type Out = T;
    fn out(_: &str, index: u64) -> T {
        T::ALL[index as usize]
    }
}

impl Typed {
    fn last(&self, opt: Opt) -> Option<&Given> {
        self.given.iter().rev().find(|given| given.opt == opt)
    }

    /// The value, or the option's default for this subcommand: `Err` when
    /// it is not what the option takes.
    pub fn get<K: Kind>(&self, key: Key<K>) -> Result<Option<K::Out>, String> {
        let Some(given) = self.last(key.opt) else {
            return Ok(None);
        };
        let number = given.read.clone()?;
        Ok(Some(K::out(&given.text, number)))
    }

    /// Text, which needs no check.
    pub fn text(&self, key: Key<kind::Text>) -> Option<&str> {
        self.last(key.opt).map(|given| given.text.as_str())
    }

    /// The value, which must be given, and not empty.
    pub fn required<K: Kind>(&self, key: Key<K>) -> Result<K::Out, String> {
        let given = self.present(key.opt)?;
        let number = given.read.clone()?;
        Ok(K::out(&given.text, number))
    }

    /// The last value of `opt`, which must be given, and not empty.
    fn present(&self, opt: Opt) -> Result<&Given, String> {
        let flag = opt.flag();
        match self.last(opt) {
            Some(given) if given.text.is_empty() => Err(format!("{flag} must not be empty")),
            Some(given) => Ok(given),
            None => {
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

    pub fn flag(&self, key: Key<kind::Nothing>) -> bool {
        self.last(key.opt).is_some()
    }

    /// `self`, after checking that `sub` got no positional argument.
    pub fn without_arguments(&self, sub: Sub) -> Result<&Typed, String> {
        match self.positionals.first() {
            Some(extra) => Err(format!(
                "{} takes no argument, but {extra:?} was given",
                sub.name()
            )),
            None => Ok(self),
        }
    }

    /// Records `text` as the value of `spec`'s option, read as its kind.
    fn record(&mut self, spec: &Spec, text: String) {
        let flag = spec.opt.flag();
        let read = match spec.takes {
            Takes::Checked(_, rule) => rule(&text)
                .map(|()| 0)
                .map_err(|why| format!("{flag} {why}")),
            takes => {
                number(takes, &text).map_err(|what| format!("{flag} must be {what}, not {text:?}"))
            }
        };
        let opt = spec.opt;
        self.given.push(Given { opt, text, read });
    }
}

/// `text` read as a number of `takes`' kind, or what it must be instead.
/// Text is read as itself: its number is 0.
fn number(takes: Takes, text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    match takes {
        Takes::Nothing | Takes::Text(_) | Takes::Checked(..) => Ok(0),
        Takes::Seconds(least) => seconds(least, trimmed),
        Takes::Count => match trimmed.parse::<u32>() {
            Ok(count) => Ok(count.into()),
            Err(_) => Err("a whole number of attempts".into()),
        },
        Takes::Mebibytes => match trimmed.parse::<u64>() {
            Ok(mib @ 1..=4096) => Ok(mib << 20),
            _ => Err("a whole number of MiB from 1 to 4096".into()),
        },
        Takes::Choice(_, word) => {
            let words = || (0..).map_while(word);
            match words().position(|word| word == text) {
                Some(index) => Ok(index as u64),
                // "a, b or c"
                None => Err(words().enumerate().fold(String::new(), |list, (i, name)| {
                    let sep = match (i, word(i + 1)) {
                        (0, _) => "",
                        (_, None) => " or ",
                        _ => ", ",
                    };
                    list + sep + name
                })),
            }
        }
    }
}

/// A number of seconds like `2`, `0.05` or `1.5`, at least `least`, in
/// nanoseconds.
fn seconds(least: Least, text: &str) -> Result<u64, String> {
    let (what, least) = match least {
        Least::Zero => ("a number of seconds", Duration::ZERO),
        Least::AboveZero => ("a number of seconds above 0", Duration::from_nanos(1)),
        Least::Millisecond => (
            "a number of seconds, at least 0.001",
            Duration::from_millis(1),
        ),
    };
    match parse_seconds(text) {
        Some(secs) if secs < least => Err(what.into()),
        // At most 10^18 nanoseconds.
        Some(secs) if secs.as_secs() < MAX_SECONDS => Ok(secs.as_nanos() as u64),
        Some(_) => Err(format!("under {MAX_SECONDS} seconds (31 years)")),
        None => Err(what.into()),
    }
}

/// Records what was typed, each value read as its kind, then the defaults
/// of the options not given: only lexopt's errors are reported here.
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
    if let Some(sub) = typed.sub {
        for spec in OPTIONS {
            match spec.default_for(sub) {
                Some(default) if typed.last(spec.opt).is_none() => {
                    typed.record(spec, default.into());
                }
                _ => {}
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
        let text = match spec.takes {
            // lexopt refuses `-h=x` itself, naming the option as typed.
            Takes::Nothing if long && parser.optional_value().is_some() => {
                return Err(format!("{flag} takes no value"));
            }
            Takes::Nothing => String::new(),
            _ => parser
                .value()
                .map_err(|_| format!("{flag} needs a value"))?
                .into_string()
                .map_err(|_| format!("{flag} is not valid UTF-8"))?,
        };
        self.record(spec, text);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::options::key;
    use crate::cli::SwitchWhen;
    use crate::log::Format;
    use std::fmt::Debug;

    fn typed(words: &str) -> Typed {
        read(words.split(' ').map(OsString::from)).unwrap()
    }

    /// The error of `--option value` after `sub`, read by `key`.
    fn error<K: Kind>(sub: &str, option_and_value: &str, key: Key<K>) -> String
    where
        K::Out: Debug,
    {
        let typed = typed(&format!("{sub} {option_and_value}"));
        typed.get(key).unwrap_err()
    }

    #[test]
    fn each_kind_reads_its_value_as_its_type() {
        let t = typed(
            "check --retry-wait 0.5 --max-retries 3 --max-diagnose 2 --log-format json \
             --switch-when demoted --backup-id b --metrics-file m.prom --record-dir r --reset",
        );
        assert_eq!(t.get(key::RetryWait), Ok(Some(Duration::from_millis(500))));
        assert_eq!(t.get(key::MaxRetries), Ok(Some(3)));
        assert_eq!(t.get(key::MaxDiagnose), Ok(Some(2 << 20)));
        assert_eq!(t.get(key::LogFormat), Ok(Some(Format::Json)));
        assert_eq!(t.get(key::SwitchWhen), Ok(Some(SwitchWhen::Demoted)));
        assert_eq!(t.get(key::BackupId), Ok(Some("b".to_string())));
        assert_eq!(t.get(key::MetricsFile), Ok(Some("m.prom".to_string())));
        assert_eq!(t.text(key::RecordDir), Some("r"));
        assert!(t.flag(key::Reset) && !t.flag(key::Help));
        // Not given, and no default in check.
        assert_eq!(t.get(key::MaxWait), Ok(None));
        assert_eq!(t.text(key::SshCommand), None);
    }

    #[test]
    fn each_kind_names_the_option_and_what_it_takes() {
        let cases = [
            (
                error("recover", "--retry-wait x", key::RetryWait),
                r#"--retry-wait must be a number of seconds, not "x""#,
            ),
            (
                error("recover", "--max-wait 0", key::MaxWait),
                r#"--max-wait must be a number of seconds above 0, not "0""#,
            ),
            (
                error("recover", "--loop-wait 0.0009", key::LoopWait),
                r#"--loop-wait must be a number of seconds, at least 0.001, not "0.0009""#,
            ),
            (
                error("recover", "--http-timeout 1000000000", key::HttpTimeout),
                r#"--http-timeout must be under 1000000000 seconds (31 years), not "1000000000""#,
            ),
            (
                error("recover", "--max-retries -1", key::MaxRetries),
                r#"--max-retries must be a whole number of attempts, not "-1""#,
            ),
            (
                error("check", "--max-diagnose 4097", key::MaxDiagnose),
                r#"--max-diagnose must be a whole number of MiB from 1 to 4096, not "4097""#,
            ),
            (
                error("check", "--log-format xml", key::LogFormat),
                r#"--log-format must be plain or json, not "xml""#,
            ),
            (
                error("check", "--switch-when never", key::SwitchWhen),
                r#"--switch-when must be promoted, demoted or always, not "never""#,
            ),
            (
                error("check", "--backup-id=", key::BackupId),
                "--backup-id must not be empty",
            ),
            (
                error("check", "--metrics-file m.txt", key::MetricsFile),
                "--metrics-file must name a .prom file (node_exporter's textfile collector reads only those)",
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(message, expected);
        }
    }

    #[test]
    fn a_bad_value_waits_until_asked_for_and_the_last_one_wins() {
        let t = typed("recover --max-retries x --retry-wait x --retry-wait 1");
        assert!(t.get(key::MaxRetries).is_err());
        assert_eq!(t.get(key::RetryWait), Ok(Some(Duration::from_secs(1))));
    }

    #[test]
    fn every_default_reads_as_its_kind_where_it_applies() {
        for sub in Sub::ALL {
            let t = typed(sub.name());
            for spec in OPTIONS.iter().filter(|spec| spec.applies_to(Some(sub))) {
                let given = t.last(spec.opt);
                let default = spec.default_for(sub);
                assert_eq!(given.map(|given| given.text.as_str()), default);
                assert_eq!(given.map(|given| given.read.is_ok()), default.map(|_| true));
            }
        }
        assert_eq!(
            typed("recover").get(key::BackupId),
            Ok(Some("latest".into()))
        );
        assert_eq!(
            typed("config-switch").get(key::LoopWait),
            Ok(Some(Duration::from_secs(5)))
        );
    }
}
