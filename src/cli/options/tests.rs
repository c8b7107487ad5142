//! The option table's own rules.

use super::*;

#[test]
fn every_option_has_one_row_and_names_are_unique() {
    let mut names: Vec<&str> = OPTIONS
        .iter()
        .flat_map(|s| s.names.iter().copied())
        .collect();
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), count, "a name twice");
    for spec in OPTIONS {
        assert_eq!(spec.opt.spec().names, spec.names);
        assert!(!spec.names.is_empty() && !spec.help.is_empty());
    }
    let mut letters: Vec<char> = OPTIONS.iter().filter_map(|s| s.short).collect();
    let count = letters.len();
    letters.sort();
    letters.dedup();
    assert_eq!(letters.len(), count, "a letter twice");
}

#[test]
fn per_subcommand_defaults_are_where_the_option_applies() {
    for spec in OPTIONS {
        if let DefaultValue::PerSub(values) = spec.default {
            for (sub, _) in values {
                assert!(spec.applies_to(Some(*sub)), "{:?} {sub:?}", spec.opt);
            }
        }
    }
    assert_eq!(Opt::BackupId.spec().default_for(Sub::Check), None);
    assert_eq!(Opt::LoopWait.spec().default_for(Sub::Recover), Some("10"));
    assert_eq!(
        Opt::LoopWait.spec().default_for(Sub::ConfigSwitch),
        Some("5")
    );
}
