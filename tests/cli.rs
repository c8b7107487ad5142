//! The command line itself: help, version, usage errors and their codes.

mod common;
use common::*;
use patroni_barman::sub::NAMES_LISTED;

#[test]
fn help_and_version_print_to_stdout_and_exit_0() {
    use patroni_barman::cli::{synopsis, Scope, OPTIONS};
    use patroni_barman::sub::Sub;
    let lists = |help: &str, spec| help.contains(&format!("\n  {}", synopsis(spec)));
    let program = run(&["--help"]);
    program
        .expect_code(0)
        .expect_stdout(&["Usage: patroni_barman --api-url URL"]);
    assert_eq!(run(&["-h"]).stdout, program.stdout);
    for spec in OPTIONS.iter().filter(|spec| spec.scope == Scope::Global) {
        assert!(lists(&program.stdout, spec), "{}", synopsis(spec));
    }
    // Each subcommand's help, by either name, lists every option of its own
    // that it uses.
    for sub in Sub::ALL {
        let help = run(&[sub.name(), "--help"]);
        help.expect_code(0);
        assert_eq!(run(&[sub.name(), "-h"]).stdout, help.stdout);
        let own = OPTIONS.iter().filter(|spec| {
            matches!(spec.scope, Scope::Of(subs) if subs.contains(&sub))
                && !spec.unused_in.contains(&sub)
        });
        for spec in own {
            assert!(
                lists(&help.stdout, spec),
                "{}: {}",
                sub.name(),
                synopsis(spec)
            );
        }
    }
    let ran = run(&["--version"]);
    assert_eq!(
        ran.stdout,
        format!("patroni_barman {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn each_subcommands_help_shows_only_its_own_options_and_exit_codes() {
    let check = run(&["check", "--help"]).stdout;
    assert!(check.contains("ok, FAIL or WARNING"), "{check}");
    assert!(!check.contains("--loop-wait SECS"), "{check}");
    // Every subcommand's codes, and none of another's (named "other:").
    for sub in patroni_barman::sub::Sub::ALL {
        let text = run(&[sub.name(), "--help"]).stdout;
        let codes = text.split("Exit codes:").nth(1).unwrap();
        for other in patroni_barman::sub::Sub::ALL.iter().filter(|o| **o != sub) {
            let named = format!("{}:", other.name());
            assert!(
                !codes.contains(&named),
                "{} --help names {named:?}:{codes}",
                sub.name()
            );
        }
        assert!(
            !codes.contains("every check") || sub.name() == "check",
            "{codes}"
        );
    }
    let recover = run(&["recover", "--help"]).stdout;
    assert!(recover.contains("\n  7 "), "{recover}");
    assert!(!run(&["wait", "--help"]).stdout.contains("\n  7 "));
}

#[test]
fn no_subcommand_exits_255() {
    run(&["--api-url", "http://127.0.0.1:9"])
        .expect_code(255)
        .expect_logged(&["no subcommand given"]);
}

#[test]
fn a_typo_never_prints_the_password_and_names_the_option_meant() {
    let url = "http://u:S3cr3t@127.0.0.1:9/";
    let unknown = format!(
        "unknown subcommand \"http://u:***@127.0.0.1:9/\": use {NAMES_LISTED} (after --api_url, \
         which is no option: did you mean --api-url?)"
    );
    for (args, advice) in [
        (vec!["--api_url", url, "recover"], unknown.as_str()),
        (
            vec!["recover", "--API-URL", url],
            "--api-url is required (--API-URL was given: did you mean --api-url?)",
        ),
        (
            vec!["--api-url", url, "recover", "--retry-wait", url],
            "--retry-wait must be a number of seconds, not \"http://u:***@127.0.0.1:9/\"",
        ),
    ] {
        let ran = run(&args);
        ran.expect_code_for(&args, 64).expect_logged(&[advice]);
        assert!(!ran.stderr.contains("S3cr3t"), "{}", ran.stderr);
        assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    }
}

#[test]
fn usage_errors_exit_64_with_one_line_naming_the_option_and_send_nothing() {
    let stub = Scenario::real().start();
    let url = stub.url();
    let recover = "recover --barman-server s --ssh-command c --datadir d";
    let switch = "config-switch --barman-server s --reset --switch-when always on_role_change";
    let cases = [
        (recover.to_string(), "--api-url is required"),
        (
            format!("--api-url {url} restore"),
            "unknown subcommand \"restore\"",
        ),
        (
            format!("--api-url {url} recover --barman-server s --datadir d"),
            "--ssh-command is required",
        ),
        (
            format!("--api-url {url} --retry-wait soon {recover}"),
            "--retry-wait must be a number of seconds",
        ),
        (
            format!("--api-url h:7480 {recover}"),
            "--api-url must start with http:// or https://",
        ),
        (
            format!("--api-url {url} {switch} leader c"),
            "unknown role \"leader\"",
        ),
        (
            format!(
                "--api-url http://admin:top/secret@127.0.0.1:{} {recover}",
                stub.port
            ),
            "--api-url has '@' in its path",
        ),
    ];
    for (words, expected) in &cases {
        let args: Vec<&str> = words.split(' ').collect();
        let ran = run(&args);
        ran.expect_code_for(words, 64)
            .expect(ran.stderr.lines().count() == 1, "one line on stderr")
            .expect(
                ran.stderr.starts_with("patroni_barman: error: "),
                "stderr starts with the error",
            )
            .expect_logged(&[expected])
            .expect_not_logged(&["secret"]);
    }
    assert!(stub.requests().is_empty(), "{:?}", stub.lines());
}

/// The text of README's `## title` section, up to the next one.
fn readme_section(title: &str) -> &'static str {
    let readme = include_str!("../README.md");
    readme
        .split(&format!("\n## {title}\n"))
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or_else(|| panic!("README has no {title} section"))
}

/// The option names in each table of README's "Options" section, in order:
/// the global table, then one per subcommand.
fn readme_option_tables() -> Vec<Vec<String>> {
    let section = readme_section("Options");
    let mut tables: Vec<Vec<String>> = Vec::new();
    for line in section.lines() {
        if line.starts_with("| option |") {
            tables.push(Vec::new());
        }
        if !line.starts_with("| `-") {
            continue;
        }
        let first_cell = line.split(" | ").next().unwrap_or_default();
        let names = first_cell
            .split('`')
            .filter_map(|code| code.strip_prefix("--"))
            .map(|option| option.split(' ').next().unwrap_or_default().to_string());
        tables.last_mut().unwrap().extend(names);
    }
    tables
}

#[test]
fn readme_lists_the_same_options_as_the_option_table() {
    use patroni_barman::cli::{Scope, OPTIONS};
    use patroni_barman::sub::Sub;
    let names = |wanted: Option<Sub>| -> Vec<String> {
        let mut names: Vec<String> = OPTIONS
            .iter()
            .filter(|spec| match (spec.scope, wanted) {
                (Scope::Global, None) => true,
                (Scope::Of(subs), Some(sub)) => subs.contains(&sub),
                _ => false,
            })
            .flat_map(|spec| spec.names.iter().map(|n| n.to_string()))
            .collect();
        names.sort();
        names
    };
    let mut tables = readme_option_tables();
    assert_eq!(tables.len(), 1 + Sub::ALL.len(), "{tables:?}");
    for table in &mut tables {
        table.sort();
    }
    assert_eq!(tables[0], names(None), "global options");
    for (table, sub) in tables[1..].iter().zip(Sub::ALL) {
        assert_eq!(*table, names(Some(sub)), "{} options", sub.name());
    }
}

#[test]
fn readme_lists_the_same_exit_codes_as_the_exit_code_table() {
    use patroni_barman::outcome::{ExitRow, EXIT_CODES};
    let section = readme_section("Exit codes");
    let mut in_readme: Vec<u8> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| "))
        .filter_map(|row| row.split(" | ").next())
        .flat_map(|codes| codes.split(", ").filter_map(|code| code.parse().ok()))
        .collect();
    let mut in_code: Vec<u8> = EXIT_CODES.iter().flat_map(ExitRow::codes).collect();
    in_readme.sort();
    in_code.sort();
    in_code.dedup();
    assert_eq!(in_readme, in_code);
}

/// The command line's fuzz dictionary knows every subcommand and every
/// option name (a new row is fuzzed, or this fails).
#[test]
fn the_fuzz_dictionary_knows_every_subcommand_and_option() {
    use patroni_barman::cli::OPTIONS;
    use patroni_barman::sub::Sub;
    let dict = include_str!("../fuzz/dict/command_line.dict");
    let words: Vec<&str> = dict
        .lines()
        .filter(|line| line.starts_with('"'))
        .map(|line| line.trim_matches('"'))
        .collect();
    let known = |word: &str| {
        words.iter().any(|w| {
            *w == word
                || w.strip_prefix(word)
                    .is_some_and(|rest| rest == "=" || rest == "\\x00")
        })
    };
    for sub in Sub::ALL {
        assert!(
            known(sub.name()),
            "fuzz/dict/command_line.dict lacks {}",
            sub.name()
        );
    }
    for spec in OPTIONS {
        for name in spec.names {
            let flag = format!("--{name}");
            assert!(known(&flag), "fuzz/dict/command_line.dict lacks {flag}");
        }
    }
}
