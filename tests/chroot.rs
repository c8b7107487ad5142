//! The static binary alone in an empty directory, under chroot: no loader, no
//! libc, no CA store, no /etc. Needs root and the musl build, whose path
//! `make test` passes in PATRONI_BARMAN_STATIC; otherwise it says it skipped.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[test]
fn runs_alone_in_an_empty_root() {
    if skip_under_emulation(
        "chroot test: the empty root holds only the binary, and the emulator (Debian's \
         qemu-aarch64, dynamically linked) cannot run in it; `make size` checks that the \
         binary is statically linked",
    ) {
        return;
    }
    let Some(binary) = std::env::var_os("PATRONI_BARMAN_STATIC") else {
        eprintln!("SKIPPED chroot test: PATRONI_BARMAN_STATIC is not set (make test sets it)");
        return;
    };
    if !running_as_root() {
        eprintln!("SKIPPED chroot test: chroot needs root");
        return;
    }
    let root = scratch_dir();
    std::fs::copy(&binary, root.join("patroni_barman")).unwrap();
    let in_root = |args: &[&str]| {
        let mut command = Command::new("chroot");
        command.arg(&root).arg("/patroni_barman").args(args);
        command.env_remove("SSL_CERT_FILE");
        run_command(&mut command, Duration::from_secs(30))
    };

    let ran = in_root(&["--help"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stdout.starts_with("patroni_barman: drive Barman"));

    let stub = Stub::start("{}");
    let switch = |url: &str| {
        in_root(&[
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
    };
    let ran = switch(&stub.url());
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.logged("Config switch operation finished successfully."));
    assert_eq!(stub.lines().len(), 4, "{:?}", stub.lines());

    // No CA store here: https:// without --ca-file is refused before any request.
    if cfg!(feature = "tls") {
        let ran = switch(&format!("https://127.0.0.1:{}", stub.port));
        assert_eq!(ran.code, 64, "{}", ran.stderr);
        assert!(ran.stderr.contains("no CA bundle"), "{}", ran.stderr);
        assert!(ran.stderr.contains("pass --ca-file"), "{}", ran.stderr);
        assert_eq!(stub.lines().len(), 4, "{:?}", stub.lines());
    }
    let entries: Vec<_> = std::fs::read_dir(&root).unwrap().collect();
    assert_eq!(
        entries.len(),
        1,
        "the root holds the binary and nothing else"
    );
    eprintln!(
        "chroot test ran {} alone in {}",
        Path::new(&binary).display(),
        root.display()
    );
}

fn running_as_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}
