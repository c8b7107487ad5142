//! `recover` sees the restore from this host: a fresh volume, progress
//! lines while it runs, and proof at DONE that the cluster arrived in the
//! data directory here (src/jobs/recover.rs, src/jobs/recover/disk.rs,
//! src/jobs/recover/progress.rs). The stub restores into the data
//! directory as Barman does, or elsewhere (Course::DoneElsewhere).

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const MIB: u64 = 1 << 20;

/// `recover_args` with a pace of 0.2 s: the first line after 0.1 s.
fn watched(stub: &Stub, extra: &[&str]) -> Vec<String> {
    let mut args = recover_args(&stub.url(), &["--progress-interval", "0.2"]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// The progress lines of a run, as logged.
fn progress_lines(ran: &Ran) -> Vec<String> {
    ran.log()
        .into_iter()
        .filter(|l| l.starts_with("INFO: Restore "))
        .collect()
}

/// The bytes a progress line gives, in MiB tenths ("4.1 MiB" -> 41).
fn tenths_of_mib(line: &str) -> u64 {
    let size = line.split(": ").nth(2).expect("Restore ID: SIZE ...");
    let mut words = size.split(' ');
    let number = words.next().unwrap();
    let unit = words.next().unwrap();
    let (whole, tenth) = number.split_once('.').unwrap_or((number, "0"));
    let value = whole.parse::<u64>().unwrap() * 10 + tenth.parse::<u64>().unwrap();
    match unit {
        "B" => value / 10 / MIB,
        "KiB" => value / 1024,
        "MiB" => value,
        other => panic!("{other} in {line}"),
    }
}

fn write_cluster(dir: &Path) {
    std::fs::create_dir_all(dir.join("global")).unwrap();
    std::fs::write(dir.join("PG_VERSION"), "15\n").unwrap();
    std::fs::write(dir.join("global/pg_control"), [0u8; 64]).unwrap();
}

#[test]
fn a_fresh_volume_gets_the_missing_directories_and_the_restore_goes_on() {
    let stub = Scenario::real().start();
    let volume = scratch_dir().join("fresh/volume");
    let data = volume.join("data");
    let mut args = recover_args(&stub.url(), &[]);
    // The record beside the data directory: in the parent the volume lacks.
    args.retain(|a| !a.starts_with("--record-dir") && !a.starts_with("--datadir"));
    args.push(format!("--datadir={}", data.display()));
    let ran = run_strings(&args);
    ran.expect_code(0).expect_logged(&[&format!(
        "INFO: Made the missing directories {}, {} (mode 0700), where the record of the \
         restore into {} goes.",
        volume.parent().unwrap().display(),
        volume.display(),
        data.display()
    )]);
    for dir in [volume.parent().unwrap(), &volume] {
        let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o700, 0, "{}: {mode:o}", dir.display());
    }
    assert!(data.join("global/pg_control").exists(), "the stub restored");
    assert_eq!(stub.posts(), 1);
}

#[test]
fn check_says_which_directories_recover_would_make() {
    let stub = Scenario::real().start();
    let root = scratch_dir();
    let data = root.join("fresh/volume/data");
    let ran = run(&[
        "--api-url",
        &stub.url(),
        "check",
        "--barman-server=main",
        &format!("--datadir={}", data.display()),
        "--ssh-command=ssh postgres@pg1",
    ]);
    ran.expect_code(0).expect_stdout(&[&format!(
        "ok      record of {}: kept at {}/fresh/volume/.data.patroni_barman; recover would \
         make {}/fresh, {}/fresh/volume (mode 0700)",
        data.display(),
        root.display(),
        root.display(),
        root.display()
    )]);
    assert!(!root.join("fresh").exists(), "check makes nothing");
}

#[test]
fn progress_lines_grow_toward_the_backups_size_and_never_reach_100_percent() {
    let stub = Scenario::real()
        .backup_of_size("main", "20261102T000000", "cluster_size", 10 * MIB)
        .course(Course::Restores {
            seconds: 1.5,
            bytes: 8 * MIB,
            tablespace: 0,
        })
        .start();
    let args = watched(&stub, &[]);
    let ran = run_strings(&args);
    ran.expect_code(0);
    let lines = progress_lines(&ran);
    assert!(lines.len() >= 2, "{:?}", ran.log());
    let data = data_dir_in(&args).display().to_string();
    for line in &lines {
        assert!(
            line.starts_with("INFO: Restore 20261102T000000: "),
            "the alias resolved: {line}"
        );
        assert!(line.contains(" of 10.0 MiB ("), "{line}");
        assert!(line.contains(&format!(" in {data}, ")), "{line}");
        assert!(!line.contains("(100 %)"), "{line}");
    }
    let bytes: Vec<u64> = lines.iter().map(|l| tenths_of_mib(l)).collect();
    assert!(bytes.windows(2).all(|w| w[0] <= w[1]), "{bytes:?}");
    assert!(bytes.first() < bytes.last(), "they grew: {bytes:?}");
    assert!(
        lines.iter().any(|l| l.contains(" left")),
        "a time left: {lines:?}"
    );
    // The last line of the run is pg-backup-api's word.
    ran.expect_last_line_starting("INFO: Recovery operation finished successfully.");
    // One /diagnose, after the POST, for the total.
    let routes: Vec<String> = stub.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(routes.iter().filter(|r| *r == "diagnose").count(), 1);
    let post = routes.iter().position(|r| r == "create").unwrap();
    assert!(routes.iter().position(|r| r == "diagnose").unwrap() > post);
}

#[test]
fn without_a_total_the_lines_give_bytes_and_rate_and_the_restore_is_untouched() {
    let restoring = Course::Restores {
        seconds: 1.0,
        bytes: 4 * MIB,
        tablespace: 0,
    };
    // /diagnose fails: one request, not retried.
    let failing = Scenario::real()
        .course(restoring)
        .always(Route::Diagnose, Action::empty(500))
        .start();
    // /diagnose lacks the backup (the POST takes it: "backups").
    let lacking = Scenario::real()
        .key("backups", r#"["20200101T000000"]"#)
        .course(restoring)
        .start();
    for (stub, why, backup) in [
        (
            &failing,
            "GET http://127.0.0.1:PORT/diagnose failed: HTTP 500: Internal Server Error",
            "latest",
        ),
        (
            &lacking,
            "Barman's diagnose gives no size for backup 20200101T000000 of server main",
            "20200101T000000",
        ),
    ] {
        let why = why.replace("PORT", &stub.port.to_string());
        let args = watched(stub, &[&format!("--backup-id={backup}")]);
        let ran = run_strings(&args);
        ran.expect_code_for(backup, 0)
            .expect_logged(&[&format!("INFO: The progress lines give no total: {why}.")]);
        let lines = progress_lines(&ran);
        assert!(!lines.is_empty(), "{:?}", ran.log());
        for line in &lines {
            let start = format!("INFO: Restore {backup}: ");
            assert!(line.starts_with(&start), "{line}");
            assert!(!line.contains(" of ") && !line.contains('%'), "{line}");
            assert!(line.ends_with("/s"), "{line}");
        }
        let diagnoses = stub
            .requests()
            .iter()
            .filter(|r| r.route == "diagnose")
            .count();
        assert_eq!(diagnoses, 1, "{:?}", stub.lines());
    }
}

#[test]
fn tablespaces_count_through_their_links() {
    let stub = Scenario::real()
        .backup_of_size("main", "20261102T000000", "size", 6 * MIB)
        .course(Course::Restores {
            seconds: 1.0,
            bytes: 64 * 1024,
            tablespace: 4 * MIB,
        })
        .start();
    let args = watched(&stub, &[]);
    let ran = run_strings(&args);
    ran.expect_code(0);
    let lines = progress_lines(&ran);
    assert!(!lines.is_empty(), "{:?}", ran.log());
    // The tablespace arrives first; every line counts it.
    for line in &lines {
        assert!(tenths_of_mib(line) >= 40, "{line}");
        assert!(
            line.contains(" of 6.0 MiB ("),
            "size, without cluster_size: {line}"
        );
    }
    let data = data_dir_in(&args);
    assert!(std::fs::read_link(data.join("pg_tblspc/16385")).is_ok());
}

#[test]
fn progress_interval_0_logs_no_progress_and_reads_no_diagnose() {
    let stub = Scenario::real()
        .course(Course::Restores {
            seconds: 0.5,
            bytes: MIB,
            tablespace: 0,
        })
        .start();
    let ran = run_strings(&recover_args(&stub.url(), &["--progress-interval=0"]));
    ran.expect_code(0);
    assert!(progress_lines(&ran).is_empty(), "{:?}", ran.log());
    assert!(stub.requests().iter().all(|r| r.route != "diagnose"));
}

#[test]
fn done_with_nothing_arrived_here_is_exit_9_naming_the_ssh_command() {
    let stub = Scenario::real().course(Course::DoneElsewhere(0.2)).start();
    let args = recover_args(&stub.url(), &[]);
    let data = data_dir_in(&args).display().to_string();
    let ran = run_strings(&args);
    ran.expect_code(9).expect_last_line_starting(&format!(
        "ERROR: The Barman host reports recovery operation {} DONE, but nothing arrived \
         in {data} on this host ({data} does not exist): --ssh-command \"ssh postgres@pg1\" \
         reaches another host, or another path there.",
        stub.requests()[2].created.clone().unwrap()
    ));
    ran.expect_not_logged(&["finished successfully"]);
    // An empty directory, or one with files but no PG_VERSION, is no
    // cluster either.
    let stub = Scenario::real().course(Course::DoneElsewhere(0.0)).start();
    for (files, found) in [
        (&[][..], "is empty"),
        (
            &["postgresql.conf", "pg_hba.conf"][..],
            "holds 2 entries but no PG_VERSION",
        ),
    ] {
        let args = recover_args(&stub.url(), &[]);
        let data = data_dir_in(&args);
        std::fs::create_dir_all(&data).unwrap();
        for file in files {
            std::fs::write(data.join(file), "").unwrap();
        }
        run_strings(&args)
            .expect_code_for(found, 9)
            .expect_logged(&[&format!("({} {found})", data.display())]);
    }
}

#[test]
fn done_with_the_cluster_here_is_exit_0() {
    let stub = Scenario::real()
        .course(Course::Restores {
            seconds: 0.3,
            bytes: MIB,
            tablespace: 0,
        })
        .start();
    let args = recover_args(&stub.url(), &[]);
    let ran = run_strings(&args);
    ran.expect_code(0)
        .expect_not_logged(&["WARNING", "ERROR"])
        .expect_last_line_starting("INFO: Recovery operation finished successfully.");
    assert!(data_dir_in(&args).join("global/pg_control").exists());
}

#[test]
fn a_cluster_left_from_before_that_nothing_changed_is_a_warning_and_exit_0() {
    // keep_data, or leftovers: the cluster was there before the POST.
    let elsewhere = Scenario::real().course(Course::DoneElsewhere(0.2)).start();
    let args = recover_args(&elsewhere.url(), &[]);
    let data = data_dir_in(&args);
    write_cluster(&data);
    let ran = run_strings(&args);
    ran.expect_code(0).expect_logged(&[&format!(
        "WARNING: The Barman host reports recovery operation {} DONE, but nothing under \
         {} changed on this host since the POST: the cluster there is the one that was \
         there before. If --ssh-command \"ssh postgres@pg1\" reaches another host or \
         another path, this is not the restored cluster.",
        elsewhere.requests()[2].created.clone().unwrap(),
        data.display()
    )]);
    ran.expect_last_line_starting("INFO: Recovery operation finished successfully.");
    // The same cluster, restored over by Barman: no warning.
    let here = Scenario::real()
        .course(Course::Restores {
            seconds: 0.2,
            bytes: 1024,
            tablespace: 0,
        })
        .start();
    let args = recover_args(&here.url(), &[]);
    write_cluster(&data_dir_in(&args));
    run_strings(&args)
        .expect_code(0)
        .expect_not_logged(&["WARNING"]);
}
