//! The static binary alone in an empty directory, under chroot: no loader, no
//! libc, no CA store, no /etc. Needs root and the musl build, whose path
//! `make test` passes in PATRONI_BARMAN_STATIC; otherwise each test says it
//! skipped.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A fresh directory that holds the static binary and nothing else.
struct EmptyRoot {
    dir: PathBuf,
}

impl EmptyRoot {
    /// The root, or None (saying why on stderr) where a chroot cannot run it.
    fn new() -> Option<EmptyRoot> {
        if skip_under_emulation(
            "chroot test: the empty root holds only the binary, and the emulator (Debian's \
             qemu-aarch64, dynamically linked) cannot run in it; `make size` checks that the \
             binary is statically linked",
        ) {
            return None;
        }
        let Some(binary) = std::env::var_os("PATRONI_BARMAN_STATIC") else {
            eprintln!("SKIPPED chroot test: PATRONI_BARMAN_STATIC is not set (make test sets it)");
            return None;
        };
        if !running_as_root() {
            eprintln!("SKIPPED chroot test: chroot needs root");
            return None;
        }
        let dir = scratch_dir();
        std::fs::copy(&binary, dir.join("patroni_barman")).unwrap();
        eprintln!(
            "chroot test runs {} alone in {}",
            Path::new(&binary).display(),
            dir.display()
        );
        Some(EmptyRoot { dir })
    }

    /// Runs the binary in the root with `args`, SSL_CERT_FILE and
    /// SSL_CERT_DIR unset.
    fn run(&self, args: &[&str]) -> Ran {
        let mut command = Command::new("chroot");
        command.arg(&self.dir).arg("/patroni_barman").args(args);
        command
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR");
        run_command(&mut command, Duration::from_secs(30))
    }

    /// A config-switch of a promoted primary against `url`.
    fn switch(&self, url: &str) -> Ran {
        self.run(&[
            "--api-url",
            url,
            "config-switch",
            "--barman-server",
            "main",
            "--barman-model",
            "m",
            "--switch-when",
            "promoted",
            "--loop-wait",
            "0.05",
            "on_role_change",
            "primary",
            "batman",
        ])
    }

    /// Asserts that the run left nothing in the root.
    fn assert_alone(&self) {
        let entries: Vec<_> = std::fs::read_dir(&self.dir).unwrap().collect();
        assert_eq!(
            entries.len(),
            1,
            "the root holds the binary and nothing else"
        );
    }
}

#[test]
fn help_runs_alone_in_an_empty_root() {
    let Some(root) = EmptyRoot::new() else { return };
    let ran = root.run(&["--help"]);
    ran.expect_code(0).expect(
        ran.stdout.starts_with("patroni_barman: drive Barman"),
        "stdout starts with the help",
    );
    root.assert_alone();
}

#[test]
fn a_config_switch_runs_alone_in_an_empty_root() {
    let Some(root) = EmptyRoot::new() else { return };
    let stub = Scenario::real().start();
    let ran = root.switch(&stub.url());
    ran.expect_code(0)
        .expect_logged(&["Config switch operation finished successfully."]);
    assert_eq!(stub.lines().len(), 4, "{:?}", stub.lines());
    root.assert_alone();
}

#[cfg(feature = "tls")]
#[test]
fn https_without_ca_file_is_refused_in_an_empty_root_before_any_request() {
    // No CA store here: https:// without --ca-file is refused before any request.
    let Some(root) = EmptyRoot::new() else { return };
    let stub = Scenario::real().start();
    let ran = root.switch(&format!("https://127.0.0.1:{}", stub.port));
    ran.expect_code(64).expect_logged(&[
        "no CA certificate to verify the server with",
        "pass --ca-file",
    ]);
    assert_eq!(stub.lines().len(), 0, "{:?}", stub.lines());
    root.assert_alone();
}

fn running_as_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}
