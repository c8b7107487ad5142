//! Every option, defined once: its names, where it applies, what value it
//! takes and how that is read and checked, its default and its help line.
//! `--help`, the man page, the test that README lists the same options and
//! the reading of values (`read.rs`, through `key`) are all made from
//! `OPTIONS`.

use super::SwitchWhen;
use crate::log::Format;
use crate::sub::Sub;
use std::marker::PhantomData;
use std::path::Path;

/// The least value an option of seconds takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Least {
    /// `--retry-wait 0`: retry at once.
    Zero,
    AboveZero,
    /// `--loop-wait`: polls closer than this would load the API for nothing.
    Millisecond,
}

/// What follows the option, and what it is read as (`read.rs`); each kind
/// has its type in `kind`, so that its `Key` gives a value of that type.
#[derive(Clone, Copy, Debug)]
pub enum Takes {
    /// Nothing: a flag.
    Nothing,
    /// Any text, shown in help as this placeholder.
    Text(&'static str),
    /// Text that the rule accepts; its `Err` follows the option's name.
    Checked(&'static str, fn(&str) -> Result<(), &'static str>),
    /// A number of seconds, fractions allowed: a `Duration`.
    Seconds(Least),
    /// A whole number of attempts: a `u32`.
    Count,
    /// A whole number of MiB from 1 to 4096: bytes, a `usize`.
    Mebibytes,
    /// One of the words of a `Choice`, given by `word::<T>`, shown in help
    /// as this placeholder: a `T`.
    Choice(&'static str, fn(usize) -> Option<&'static str>),
}

/// The kinds of `Takes` as types, for `Key`.
pub mod kind {
    use std::marker::PhantomData;

    pub enum Nothing {}
    pub enum Text {}
    pub enum Checked {}
    pub enum Seconds {}
    pub enum Count {}
    pub enum Mebibytes {}
    pub struct Choice<T>(PhantomData<T>);
}

/// An option with the kind of value its row declares: `key` holds one per
/// row, made from the row, so that no code can read an option as a kind it
/// does not take (`read::Typed::get`).
pub struct Key<K> {
    pub opt: Opt,
    kind: PhantomData<K>,
}

impl<K> Key<K> {
    const fn new(opt: Opt) -> Key<K> {
        Key {
            opt,
            kind: PhantomData,
        }
    }
}

/// A value of an option that takes one of a few words (`Takes::Choice`).
pub trait Choice: Copy + 'static {
    /// Every value, in the order help lists them.
    const ALL: &'static [Self];
    fn word(self) -> &'static str;
}

/// The word of `T`'s value `i`, for `Takes::Choice`.
pub fn word<T: Choice>(i: usize) -> Option<&'static str> {
    T::ALL.get(i).map(|value| value.word())
}

impl Choice for Format {
    const ALL: &'static [Format] = &[Format::Plain, Format::Json];
    fn word(self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Json => "json",
        }
    }
}

/// `--backup-id`: pg-backup-api would take an empty one for `last-failed`.
fn not_empty(text: &str) -> Result<(), &'static str> {
    match text.is_empty() {
        true => Err("must not be empty"),
        false => Ok(()),
    }
}

/// `--metrics-file`.
fn prom_file(path: &str) -> Result<(), &'static str> {
    match Path::new(path).extension().is_some_and(|e| e == "prom") {
        true => Ok(()),
        false => {
            Err("must name a .prom file (node_exporter's textfile collector reads only those)")
        }
    }
}

/// Where an option may be given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Before or after the subcommand.
    Global,
    /// After one of these subcommands.
    Of(&'static [Sub]),
}

#[derive(Debug)]
pub struct Spec {
    pub opt: Opt,
    /// The name, then its aliases (`--datadir`).
    pub names: &'static [&'static str],
    /// Its one-letter name (`-h`), if any.
    pub short: Option<char>,
    pub scope: Scope,
    pub takes: Takes,
    /// One for all, or per subcommand where they differ.
    pub default: DefaultValue,
    /// The subcommands that cannot do without it, for help to say so.
    pub required_in: &'static [Sub],
    /// The subcommands that accept it, so that the options of a Patroni
    /// section pass as they are, but do not use it: help leaves it out.
    pub unused_in: &'static [Sub],
    /// One line or more (`\n` between them), in help's own words.
    pub help: &'static str,
}

#[derive(Debug, PartialEq, Eq)]
pub enum DefaultValue {
    None,
    Is(&'static str),
    /// The subcommands that have one, with theirs.
    PerSub(&'static [(Sub, &'static str)]),
}

/// `check` takes the options of `recover` and `config-switch`, so that a
/// node can run it with the very options of its Patroni sections.
const ALL: &[Sub] = &Sub::ALL;
const RECOVER: &[Sub] = &[Sub::Recover, Sub::Check];
const SWITCH: &[Sub] = &[Sub::ConfigSwitch, Sub::Check];
/// The subcommands that poll an operation, and `check`, which takes their
/// options.
const POLLING: &[Sub] = &[Sub::Recover, Sub::ConfigSwitch, Sub::Check, Sub::Wait];

/// What a row leaves out: a global option without a short name or default,
/// required and unused nowhere. Every row gives its own `opt`,
/// `names`, `takes` and `help`.
const ROW: Spec = Spec {
    opt: Opt::Help,
    names: &[],
    short: None,
    scope: Scope::Global,
    takes: Takes::Nothing,
    default: DefaultValue::None,
    required_in: &[],
    unused_in: &[],
    help: "",
};

/// The type of a row's `Key`, from its `takes`: `kind::Seconds` for
/// `Takes::Seconds(..)`, `kind::Choice<Format>` for `Takes::Choice(..,
/// word::<Format>)`.
macro_rules! kind {
    (Choice($placeholder:literal, word::<$choice:ident>)) => { kind::Choice<$choice> };
    ($kind:ident $($args:tt)?) => { kind::$kind };
}

/// Makes `Opt`, one variant per row in the rows' order, `OPTIONS` from the
/// rows, and `key`: an option cannot exist without its row, and row i is
/// variant i, so that `Opt::spec` indexes. The order is help's.
macro_rules! option_table {
    ($(Spec {
        opt: Opt::$opt:ident,
        names: $names:expr,
        takes: Takes::$kind:ident $(($($args:tt)*))?,
        $($field:tt)*
    }),* $(,)?) => {
        /// An option, by what it means: one per row of `OPTIONS`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Opt {
            $($opt),*
        }

        pub const OPTIONS: &[Spec] = &[$(Spec {
            opt: Opt::$opt,
            names: $names,
            takes: Takes::$kind $(($($args)*))?,
            $($field)*
        }),*];

        /// Each option's `Key`, named as its `Opt`.
        #[allow(non_upper_case_globals)]
        pub mod key {
            use super::*;
            $(pub const $opt: Key<kind!($kind $(($($args)*))?)> = Key::new(Opt::$opt);)*
        }
    };
}

option_table! {
    Spec {
        opt: Opt::ApiUrl,
        names: &["api-url"],
        takes: Takes::Text("URL"),
        required_in: ALL,
        help: "pg-backup-api, e.g. http://127.0.0.1:7480 or\nhttps://barman:8443/pgbackup (the path is kept)",
        ..ROW
    },
    Spec {
        opt: Opt::CaFile,
        names: &["ca-file"],
        takes: Takes::Text("PEM"),
        help: "CAs to trust for https:// (default: SSL_CERT_FILE,\nthen the system bundle)",
        ..ROW
    },
    Spec {
        opt: Opt::CertFile,
        names: &["cert-file"],
        takes: Takes::Text("PEM"),
        help: "client certificate chain for https:// (may hold the key)",
        ..ROW
    },
    Spec {
        opt: Opt::KeyFile,
        names: &["key-file"],
        takes: Takes::Text("PEM"),
        help: "client key (PKCS#8, PKCS#1 or SEC1) for --cert-file",
        ..ROW
    },
    Spec {
        opt: Opt::RetryWait,
        names: &["retry-wait"],
        takes: Takes::Seconds(Least::Zero),
        default: DefaultValue::Is("2"),
        help: "pause after a failed request, fractions allowed",
        ..ROW
    },
    Spec {
        opt: Opt::MaxRetries,
        names: &["max-retries"],
        takes: Takes::Count,
        default: DefaultValue::Is("5"),
        help: "attempts per request before giving up (0 counts as 1)",
        ..ROW
    },
    Spec {
        opt: Opt::HttpTimeout,
        names: &["http-timeout"],
        takes: Takes::Seconds(Least::Millisecond),
        default: DefaultValue::Is("30"),
        help: "deadline of each request, e.g. 30 or 2.5",
        ..ROW
    },
    Spec {
        opt: Opt::MaxWait,
        names: &["max-wait"],
        takes: Takes::Seconds(Least::AboveZero),
        help: "stop waiting for the operation after this long, once\nit exists: exit 5 (it goes on on the Barman host); a\npoll in flight gets what is left, at least 1 s; also\nbounds how long POSTs that collide are sent again\n[default: no limit]",
        ..ROW
    },
    Spec {
        opt: Opt::LogFile,
        names: &["log-file"],
        takes: Takes::Text("PATH"),
        help: "append log lines here instead of stderr",
        ..ROW
    },
    Spec {
        opt: Opt::LogFormat,
        names: &["log-format"],
        takes: Takes::Choice("FORMAT", word::<Format>),
        default: DefaultValue::Is("plain"),
        help: "plain (the Python tool's lines) or json (one object per\nline, with the keys of Patroni's JSON log)",
        ..ROW
    },
    Spec {
        opt: Opt::MetricsFile,
        names: &["metrics-file"],
        takes: Takes::Checked("PATH", prom_file),
        help: "write how the run ended here at its end, for\nnode_exporter's textfile collector (a .prom file)",
        ..ROW
    },
    Spec {
        opt: Opt::ApiPasswordFile,
        names: &["api-password-file"],
        takes: Takes::Text("PATH"),
        help: "the password for --api-url's user, read from this file\n(its first line), so that no process list shows it",
        ..ROW
    },
    Spec {
        opt: Opt::Help,
        names: &["help"],
        takes: Takes::Nothing,
        short: Some('h'),
        help: "print help",
        ..ROW
    },
    Spec {
        opt: Opt::Version,
        names: &["version"],
        takes: Takes::Nothing,
        help: "print the version",
        ..ROW
    },
    Spec {
        opt: Opt::BarmanServer,
        names: &["barman-server"],
        takes: Takes::Text("NAME"),
        scope: Scope::Of(ALL),
        required_in: ALL,
        help: "the Barman server",
        ..ROW
    },
    Spec {
        opt: Opt::BackupId,
        names: &["backup-id"],
        takes: Takes::Checked("ID", not_empty),
        scope: Scope::Of(RECOVER),
        // check proves `latest` only for a node given the options of recover.
        default: DefaultValue::PerSub(&[(Sub::Recover, "latest")]),
        help: "backup id or alias (latest, oldest, ...)",
        ..ROW
    },
    Spec {
        opt: Opt::SshCommand,
        names: &["ssh-command"],
        takes: Takes::Text("CMD"),
        scope: Scope::Of(RECOVER),
        required_in: &[Sub::Recover],
        help: "how the Barman host reaches this one, e.g.\n\"ssh postgres@pg1\"",
        ..ROW
    },
    Spec {
        opt: Opt::DataDirectory,
        names: &["data-directory", "datadir"],
        takes: Takes::Text("DIR"),
        scope: Scope::Of(RECOVER),
        required_in: &[Sub::Recover],
        help: "where to restore (alias --datadir, as Patroni passes\nit)",
        ..ROW
    },
    Spec {
        opt: Opt::RecordDir,
        names: &["record-dir"],
        takes: Takes::Text("DIR"),
        scope: Scope::Of(RECOVER),
        help: "where the record of the data directory's restore is\nkept [default: beside it, .NAME.patroni_barman in its\nparent]",
        ..ROW
    },
    Spec {
        opt: Opt::ProgressInterval,
        names: &["progress-interval"],
        takes: Takes::Seconds(Least::Zero),
        scope: Scope::Of(RECOVER),
        default: DefaultValue::PerSub(&[(Sub::Recover, "60")]),
        unused_in: &[Sub::Check],
        help: "log the restore's progress on this host every SECS\n(the first line after half of it); 0: never",
        ..ROW
    },
    Spec {
        opt: Opt::LoopWait,
        names: &["loop-wait"],
        takes: Takes::Seconds(Least::Millisecond),
        scope: Scope::Of(POLLING),
        default: DefaultValue::PerSub(&[
            (Sub::Recover, "10"),
            (Sub::ConfigSwitch, "5"),
            (Sub::Check, "10"),
            (Sub::Wait, "10"),
        ]),
        unused_in: &[Sub::Check],
        help: "longest pause between polls, at least 0.001; the first\npoll comes at once, then one every max(0.25 s, age/12)",
        ..ROW
    },
    Spec {
        opt: Opt::BarmanModel,
        names: &["barman-model"],
        takes: Takes::Text("MODEL"),
        scope: Scope::Of(SWITCH),
        help: "the config model to apply",
        ..ROW
    },
    Spec {
        opt: Opt::Reset,
        names: &["reset"],
        takes: Takes::Nothing,
        scope: Scope::Of(SWITCH),
        help: "reset the server to its own configuration instead",
        ..ROW
    },
    Spec {
        opt: Opt::SwitchWhen,
        names: &["switch-when"],
        takes: Takes::Choice("WHEN", word::<SwitchWhen>),
        scope: Scope::Of(SWITCH),
        required_in: &[Sub::ConfigSwitch],
        help: "promoted: on primary/promoted (and master, Patroni < 4);\ndemoted: on replica/demoted; always: on any role",
        ..ROW
    },
    Spec {
        opt: Opt::OperationId,
        names: &["operation-id"],
        takes: Takes::Text("ID"),
        scope: Scope::Of(&[Sub::Wait]),
        required_in: &[Sub::Wait],
        help: "the operation to follow, as the log named it",
        ..ROW
    },
    Spec {
        opt: Opt::MaxDiagnose,
        names: &["max-diagnose"],
        takes: Takes::Mebibytes,
        scope: Scope::Of(&[Sub::Check]),
        default: DefaultValue::Is("64"),
        help: "the largest /diagnose answer read, in MiB: a few KB\nper backup",
        ..ROW
    },
}

/// The options of Patroni's Python tool. Its users abbreviate them as
/// argparse lets them (`--api`, `--log`): when a newer option shares such a
/// prefix, the prefix still means the Python tool's option.
pub const PYTHON_OPTIONS: &[Opt] = &[
    Opt::ApiUrl,
    Opt::CertFile,
    Opt::KeyFile,
    Opt::RetryWait,
    Opt::MaxRetries,
    Opt::LogFile,
    Opt::BarmanServer,
    Opt::BackupId,
    Opt::SshCommand,
    Opt::DataDirectory,
    Opt::LoopWait,
    Opt::BarmanModel,
    Opt::Reset,
    Opt::SwitchWhen,
];

impl Opt {
    pub fn spec(self) -> &'static Spec {
        &OPTIONS[self as usize]
    }

    /// `--name`, for messages.
    pub fn flag(self) -> String {
        format!("--{}", self.spec().names[0])
    }
}

/// The options listed under `sub` in help and the man page: the global
/// ones for `None`, else the subcommand's own.
pub fn listed_in(sub: Option<Sub>) -> impl Iterator<Item = &'static Spec> {
    OPTIONS.iter().filter(move |spec| match (sub, spec.scope) {
        (None, scope) => scope == Scope::Global,
        (Some(sub), Scope::Of(subs)) => subs.contains(&sub),
        (Some(_), Scope::Global) => false,
    })
}

impl Spec {
    /// Whether the option may be given with `sub` (or before any).
    pub fn applies_to(&self, sub: Option<Sub>) -> bool {
        match (self.scope, sub) {
            (Scope::Global, _) => true,
            (Scope::Of(subs), Some(sub)) => subs.contains(&sub),
            (Scope::Of(_), None) => false,
        }
    }

    /// Whether help says "required": under `sub`, or (`None`) under all.
    pub fn required(&self, sub: Option<Sub>) -> bool {
        match sub {
            Some(sub) => self.required_in.contains(&sub),
            None => self.required_in == ALL,
        }
    }

    /// The default with `sub`, as typed.
    pub fn default_for(&self, sub: Sub) -> Option<&'static str> {
        match self.default {
            DefaultValue::None => None,
            DefaultValue::Is(value) => Some(value),
            DefaultValue::PerSub(values) => values
                .iter()
                .find(|(of, _)| *of == sub)
                .map(|(_, value)| *value),
        }
    }
}

#[cfg(test)]
mod tests;
