//! Bytes -> the walk of a `/diagnose` answer (src/jobs/diagnose.rs, with
//! `Json` of src/api/json.rs), then every question `check` asks of it.
//!
//! Besides "never panics" (no recursion, so no depth can overflow the
//! stack), it checks that what was read is consistent: a backup an alias
//! resolves to is one of the server's, with the status the alias allows.

#![no_main]

use libfuzzer_sys::fuzz_target;
use patroni_barman::fuzzing::Diagnose;

const ALIASES: [&str; 5] = ["latest", "last", "oldest", "first", "last-failed"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(diagnose) = Diagnose::parse(text) else {
        return;
    };
    for (name, server) in &diagnose.servers {
        let _ = server.cluster(name);
        for alias in ALIASES {
            if let Some((id, backup)) = server.resolve_backup(alias) {
                assert!(server.backups.contains_key(id), "{alias} -> {id}");
                let status = backup.status.as_deref().unwrap_or_default();
                match alias {
                    "last-failed" => assert_eq!(status, "FAILED"),
                    _ => assert!(matches!(status, "DONE" | "WAITING_FOR_WALS"), "{status}"),
                }
            }
        }
        // An id that is an alias is read as the alias, as pg-backup-api does.
        for id in server.backups.keys().filter(|id| !ALIASES.contains(&id.as_str())) {
            assert!(server.resolve_backup(id).is_some(), "{id}");
        }
    }
    for name in diagnose.models.keys() {
        let model = diagnose.model(name).expect("a listed model");
        let _ = (model.cluster(), model.is_model());
    }
});
