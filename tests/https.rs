//! HTTPS with a private CA and client certificates, against the stub serving
//! TLS. Certificates are made at test time with the `openssl` CLI.

// The PKI helpers serve only the `tls` build's tests.
#![cfg_attr(not(feature = "tls"), allow(dead_code))]

mod common;
use common::*;
use std::path::PathBuf;
use std::process::Command;

/// `openssl req` arguments for a new P-256 key, unencrypted.
const NEW_EC_KEY: [&str; 7] = [
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
];

/// `openssl req` arguments for a new RSA key, unencrypted.
const NEW_RSA_KEY: [&str; 5] = ["req", "-new", "-newkey", "rsa:2048", "-nodes"];

/// A throwaway PKI: a CA, a server certificate for localhost/127.0.0.1, one
/// for another name, a client certificate, and an unrelated CA.
struct Pki {
    dir: PathBuf,
}

impl Pki {
    /// The one PKI of this test binary, made on first use: each test adds
    /// files under names of its own only.
    fn shared() -> &'static Pki {
        static PKI: std::sync::OnceLock<Pki> = std::sync::OnceLock::new();
        PKI.get_or_init(Pki::new)
    }

    fn new() -> Pki {
        let dir = scratch_dir();
        let pki = Pki { dir };
        pki.ca("ca");
        pki.ca("other-ca");
        pki.leaf(
            "server",
            "ca",
            "localhost",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        );
        pki.leaf(
            "wrong-name",
            "ca",
            "elsewhere",
            "subjectAltName=DNS:elsewhere.example",
        );
        pki.leaf(
            "client",
            "ca",
            "patroni-node-1",
            "extendedKeyUsage=clientAuth",
        );
        pki.leaf(
            "stranger",
            "other-ca",
            "stranger",
            "extendedKeyUsage=clientAuth",
        );
        // An RSA client whose key is PKCS#1 ("RSA PRIVATE KEY").
        pki.leaf_with(
            &NEW_RSA_KEY,
            "rsa-client",
            "ca",
            "patroni-node-1",
            "extendedKeyUsage=clientAuth",
        );
        pki.openssl(&[
            "rsa",
            "-in",
            "rsa-client.key",
            "-traditional",
            "-out",
            "rsa-client.pkcs1.key",
        ]);
        // X.509 version 1, as `openssl x509 -req` makes with no extensions.
        pki.leaf_v1("v1-client", "ca", "patroni-node-1");
        pki.leaf_v1("v1-server", "ca", "localhost");
        // The same client key as SEC1 ("EC PRIVATE KEY"), and certificate and key in one file.
        pki.openssl(&["ec", "-in", "client.key", "-out", "client.sec1.key"]);
        let both = [pki.read("client.pem"), pki.read("client.key")].concat();
        std::fs::write(pki.path("client-both.pem"), both).unwrap();
        pki
    }

    /// The options of a client with certificate NAME.pem and key NAME.key,
    /// trusting our CA.
    fn client_options(&self, name: &str) -> [String; 6] {
        [
            "--ca-file".into(),
            self.path("ca.pem"),
            "--cert-file".into(),
            self.path(&format!("{name}.pem")),
            "--key-file".into(),
            self.path(&format!("{name}.key")),
        ]
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap()
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("openssl CLI");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Certificate files no TLS option can use, by path: a missing key,
    /// a key that is not PEM, a FIFO and a CA certificate cut in half.
    fn unusable_files(&self) -> [String; 4] {
        let missing = self.path("missing.key");
        let unreadable = self.path("unreadable.key");
        std::fs::write(&unreadable, "not a key\n").unwrap();
        let fifo = self.path("ca.fifo");
        let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let cut = self.path("cut.pem");
        let ca_text = self.read("ca.pem");
        std::fs::write(&cut, &ca_text[..ca_text.len() / 2]).unwrap();
        [missing, unreadable, fifo, cut]
    }

    fn ca(&self, name: &str) {
        let key = format!("{name}.key");
        let pem = format!("{name}.pem");
        let subject = format!("/CN=Test {name}");
        let rest = [
            "-x509", "-keyout", &key, "-out", &pem, "-days", "2", "-subj", &subject,
        ];
        self.openssl(&[&NEW_EC_KEY[..], &rest].concat());
    }

    fn leaf_v1(&self, name: &str, ca: &str, cn: &str) {
        let (key, csr, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        let subject = format!("/CN={cn}");
        let rest = ["-keyout", &key, "-out", &csr, "-subj", &subject];
        self.openssl(&[&NEW_EC_KEY[..], &rest].concat());
        let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
        self.openssl(&[
            "x509", "-req", "-in", &csr, "-CA", &ca_pem, "-CAkey", &ca_key, "-days", "2", "-out",
            &pem,
        ]);
    }

    fn leaf(&self, name: &str, ca: &str, cn: &str, extension: &str) {
        self.leaf_with(&NEW_EC_KEY, name, ca, cn, extension);
    }

    fn leaf_with(&self, new_key: &[&str], name: &str, ca: &str, cn: &str, extension: &str) {
        let (key, csr, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        let subject = format!("/CN={cn}");
        let rest = [
            "-keyout", &key, "-out", &csr, "-subj", &subject, "-addext", extension,
        ];
        self.openssl(&[new_key, &rest].concat());
        let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-copy_extensions",
            "copy",
            "-out",
            &pem,
        ]);
    }

    /// A stub serving HTTPS with `cert`, requiring a client certificate
    /// signed by our CA when `require_client` is set.
    fn stub(&self, cert: &str, require_client: bool) -> Stub {
        let (pem, key, ca) = (
            self.path(&format!("{cert}.pem")),
            self.path(&format!("{cert}.key")),
            self.path("ca.pem"),
        );
        let mut extra = vec!["--tls-cert", &pem, "--tls-key", &key];
        if require_client {
            extra.extend(["--client-ca", &ca]);
        }
        Scenario::real().start_with(&extra)
    }
}

/// For `switch` with the TLS options left out.
const NO_TLS_OPTIONS: [&str; 0] = [];

fn https(stub: &Stub, host: &str) -> String {
    format!("https://{host}:{}", stub.port)
}

/// A config-switch over HTTPS with `tls` options, the environment cleared of
/// SSL_CERT_FILE unless `cert_env` is given.
fn switch(url: &str, tls: &[impl AsRef<str>], cert_env: Option<&str>) -> Ran {
    let mut args: Vec<String> = tls.iter().map(|s| s.as_ref().to_string()).collect();
    args.extend(switch_args(
        url,
        "primary",
        &["--reset", "--switch-when", "always"],
    ));
    let mut command = command();
    command
        .args(&args)
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    if let Some(file) = cert_env {
        command.env("SSL_CERT_FILE", file);
    }
    run_command(&mut command, std::time::Duration::from_secs(30))
}

#[cfg(feature = "tls")]
mod with_tls {
    use super::*;
    use std::path::Path;

    #[test]
    fn mutual_tls_with_separate_and_combined_pem_files() {
        let pki = Pki::shared();
        let stub = pki.stub("server", true);
        let (ca, cert, key) = (
            pki.path("ca.pem"),
            pki.path("client.pem"),
            pki.path("client.key"),
        );
        let sec1 = pki.path("client.sec1.key");
        let both = pki.path("client-both.pem");
        let (rsa, pkcs1) = (pki.path("rsa-client.pem"), pki.path("rsa-client.pkcs1.key"));
        assert!(pki
            .read("client.key")
            .starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(pki
            .read("client.sec1.key")
            .starts_with("-----BEGIN EC PRIVATE KEY-----"));
        assert!(pki
            .read("rsa-client.pkcs1.key")
            .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        for tls in [
            vec!["--ca-file", &ca, "--cert-file", &cert, "--key-file", &key],
            vec!["--ca-file", &ca, "--cert-file", &cert, "--key-file", &sec1],
            vec!["--ca-file", &ca, "--cert-file", &rsa, "--key-file", &pkcs1],
            vec!["--ca-file", &ca, "--cert-file", &both],
        ] {
            let ran = switch(&https(&stub, "localhost"), &tls, None);
            ran.expect_code_for(&tls, 0)
                .expect_logged(&["Config switch operation finished successfully."]);
        }
        let requests = stub.requests();
        // Four runs of four requests at least (more when two POSTs fall in the same second).
        assert!(requests.len() >= 16, "{:?}", stub.lines());
        assert!(requests
            .iter()
            .all(|r| r.client_cert_cn.as_deref() == Some("patroni-node-1")));
    }

    #[test]
    fn an_ip_address_in_the_url_is_checked_against_the_certificates_ip_names() {
        let pki = Pki::shared();
        let stub = pki.stub("server", true);
        let (ca, both) = (pki.path("ca.pem"), pki.path("client-both.pem"));
        let ran = switch(
            &https(&stub, "127.0.0.1"),
            &["--ca-file", &ca, "--cert-file", &both],
            None,
        );
        ran.expect_code(0);
    }

    /// A config-switch that TLS stops before any request reaches the API:
    /// exit 254 (pg-backup-api cannot be used) with `message`, and no retry.
    fn assert_refused_by_tls(stub: &Stub, tls: &[impl AsRef<str>], message: &str) {
        let ran = switch(&https(stub, "localhost"), tls, None);
        ran.expect_code(254)
            .expect_logged(&[message, "(not retried)"])
            .expect_not_logged(&["Attempt"]);
        assert!(stub.requests().is_empty(), "{:?}", stub.lines());
    }

    #[test]
    fn the_server_requires_a_client_certificate_and_none_is_given() {
        let pki = Pki::shared();
        let stub = pki.stub("server", true);
        let tls = ["--ca-file", &pki.path("ca.pem")];
        assert_refused_by_tls(&stub, &tls, "the server requires a client certificate");
    }

    #[test]
    fn the_server_rejects_a_certificate_from_another_ca() {
        let pki = Pki::shared();
        let stub = pki.stub("server", true);
        let tls = pki.client_options("stranger");
        assert_refused_by_tls(&stub, &tls, "the server rejected our client certificate");
    }

    /// Server certificates refused, each in its own words: signed by a CA
    /// not trusted, a CA certificate as the server's own, another name.
    #[test]
    fn server_certificates_are_refused_in_words() {
        let pki = Pki::shared();
        for (served, trusted, message) in [
            (
                "server",
                "other-ca.pem",
                "the server's certificate is not trusted",
            ),
            ("server", "other-ca.pem", "pass --ca-file"),
            (
                "ca",
                "ca.pem",
                "the server presents a CA certificate as its own",
            ),
            (
                "wrong-name",
                "ca.pem",
                "the server's certificate is not valid for localhost",
            ),
        ] {
            let stub = pki.stub(served, false);
            let tls = ["--ca-file", &pki.path(trusted)];
            assert_refused_by_tls(&stub, &tls, message);
        }
    }

    /// `check` at `url` with `tls` options, SSL_CERT_FILE unset.
    fn check(url: &str, tls: &[impl AsRef<str>]) -> Ran {
        let mut command = command();
        command
            .args(["--api-url", url])
            .args(tls.iter().map(AsRef::as_ref))
            .args(["check", "--barman-server", "main"])
            .env_remove("SSL_CERT_FILE");
        run_command(&mut command, std::time::Duration::from_secs(30))
    }

    #[test]
    fn check_proves_the_tls_files() {
        let pki = Pki::shared();
        let stub = pki.stub("server", true);
        let url = https(&stub, "localhost");
        let ran = check(&url, &pki.client_options("client"));
        ran.expect_code(0).expect(
            ran.stdout
                .starts_with(&format!("ok      {url}/status answers")),
            "stdout starts with the status check",
        );
    }

    #[test]
    fn check_fails_254_when_tls_refuses() {
        let pki = Pki::shared();
        let stub = pki.stub("server", true);
        let url = https(&stub, "localhost");
        let ran = check(&url, &["--ca-file", &pki.path("ca.pem")]);
        ran.expect_code(254)
            .expect_logged(&["the server requires a client certificate"])
            .expect(
                ran.stdout.starts_with("FAIL    "),
                "stdout starts with FAIL",
            );
    }

    #[test]
    fn a_tls_failure_after_the_post_was_sent_leads_to_the_list_not_a_second_post() {
        let pki = Pki::shared();
        let (pem, key) = (pki.path("server.pem"), pki.path("server.key"));
        let stub = Scenario::real()
            .fault(Route::Create, Action::AfterCreate("tls_garbage"))
            .start_with(&["--tls-cert", &pem, "--tls-key", &key]);
        let ran = switch(
            &https(&stub, "localhost"),
            &["--ca-file", &pki.path("ca.pem")],
            None,
        );
        ran.expect_code(0).expect_logged(&[
            "TLS failed after the request was sent",
            "appeared although the POST failed",
        ]);
        assert_eq!(stub.posts(), 1);
    }

    #[test]
    fn a_version_1_client_certificate_is_sent_as_openssl_servers_take_it() {
        let pki = Pki::shared();
        let stub = pki.stub("server", true);
        let url = https(&stub, "localhost");
        let mut tls = pki.client_options("v1-client");
        switch(&url, &tls, None).expect_code(0);
        assert!(stub
            .requests()
            .iter()
            .all(|r| r.client_cert_cn.as_deref() == Some("patroni-node-1")));
        // Its key is still checked where it can be: another key is refused.
        tls[5] = pki.path("stranger.key");
        let ran = switch(&url, &tls, None);
        ran.expect_code(64)
            .expect_logged(&["the private key does not belong to the certificate"]);
    }

    #[test]
    fn a_version_1_server_certificate_is_refused_in_words() {
        let pki = Pki::shared();
        let stub = pki.stub("v1-server", false);
        let url = https(&stub, "localhost");
        let ran = switch(&url, &["--ca-file", &pki.path("ca.pem")], None);
        ran.expect_code(254).expect_logged(&[
            "the server's certificate is X.509 version 1, which names no host (no \
             subjectAltName): reissue it as version 3 with subjectAltName DNS:localhost",
        ]);
        ran.expect_not_logged(&["UnsupportedCertVersion", "Other("]);
    }

    #[test]
    fn ssl_cert_dir_is_trusted_hashed_or_not() {
        let pki = Pki::shared();
        let stub = pki.stub("server", false);
        let url = https(&stub, "localhost");
        let plain = pki.dir.join("plain-dir");
        let hashed = pki.dir.join("hashed-dir");
        for dir in [&plain, &hashed] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::copy(pki.path("other-ca.pem"), dir.join("other.pem")).unwrap();
            std::fs::copy(pki.path("ca.pem"), dir.join("our-ca.pem")).unwrap();
        }
        let rehash = Command::new("openssl")
            .args(["rehash"])
            .arg(&hashed)
            .status()
            .unwrap();
        assert!(rehash.success());
        for dir in [&plain, &hashed] {
            let mut command = command();
            command
                .args(switch_args(
                    &url,
                    "primary",
                    &["--reset", "--switch-when", "always"],
                ))
                .env_remove("SSL_CERT_FILE")
                .env("SSL_CERT_DIR", dir);
            run_command(&mut command, std::time::Duration::from_secs(30)).expect_code(0);
        }
        // A directory without our CA: not trusted, and said so.
        let empty = pki.dir.join("empty-dir");
        std::fs::create_dir_all(&empty).unwrap();
        std::fs::copy(pki.path("other-ca.pem"), empty.join("other.pem")).unwrap();
        let mut command = command();
        command
            .args(switch_args(
                &url,
                "primary",
                &["--reset", "--switch-when", "always"],
            ))
            .env_remove("SSL_CERT_FILE")
            .env("SSL_CERT_DIR", &empty);
        run_command(&mut command, std::time::Duration::from_secs(30))
            .expect_code(254)
            .expect_logged(&["not trusted"]);
    }

    #[test]
    fn ca_file_wins_over_ssl_cert_file_which_is_used_otherwise() {
        let pki = Pki::shared();
        let stub = pki.stub("server", false);
        let url = https(&stub, "localhost");
        let (ca, other) = (pki.path("ca.pem"), pki.path("other-ca.pem"));
        let ran = switch(&url, &["--ca-file", &ca], Some(&other));
        ran.expect_code(0);
        let after_first = stub.requests().len();
        assert!(after_first >= 4, "{:?}", stub.lines());
        let ran = switch(&url, &NO_TLS_OPTIONS, Some(&ca));
        ran.expect_code(0);
        let after_second = stub.requests().len();
        assert!(after_second >= after_first + 4, "{:?}", stub.lines());
        let ran = switch(&url, &NO_TLS_OPTIONS, Some(&other));
        ran.expect_code(254).expect_logged(&["not trusted"]);
        assert_eq!(stub.requests().len(), after_second, "{:?}", stub.lines());
    }

    #[test]
    fn unusable_certificate_files_are_usage_errors_naming_the_file() {
        let pki = Pki::shared();
        let stub = pki.stub("server", true);
        let url = https(&stub, "localhost");
        let [ca, cert, key, other_key] =
            ["ca.pem", "client.pem", "client.key", "stranger.key"].map(|name| pki.path(name));
        let [missing, unreadable, fifo, cut] = pki.unusable_files();
        let with_key = |key| vec!["--ca-file", &ca, "--cert-file", &cert, "--key-file", key];
        let cases: Vec<(Vec<&str>, &str)> = vec![
            (with_key(&missing), &missing),
            (with_key(&unreadable), &unreadable),
            (with_key(&other_key), &other_key),
            (vec!["--ca-file", &ca, "--cert-file", &cert], &cert),
            (vec!["--ca-file", &ca, "--key-file", &key], "--key-file"),
            (vec!["--ca-file", &missing], &missing),
            (vec!["--ca-file", &key], &key),
            (
                vec!["--ca-file", "/dev/zero"],
                "/dev/zero: not a regular file",
            ),
            (vec!["--ca-file", &fifo], "ca.fifo: not a regular file"),
            (vec!["--ca-file", &cut], "a section has no END line"),
        ];
        for (tls, named) in cases {
            let ran = switch(&url, &tls, None);
            ran.expect_code_for(&tls, 64)
                .expect(ran.stderr.lines().count() == 1, "one line on stderr")
                .expect_logged(&[named]);
            assert!(ran.elapsed < std::time::Duration::from_secs(5), "{tls:?}");
        }
        assert!(stub.requests().is_empty());
    }

    #[test]
    fn no_ca_anywhere_says_to_pass_ca_file() {
        if [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/ssl/ca-bundle.pem",
            "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
            "/etc/ssl/cert.pem",
        ]
        .iter()
        .any(|p| Path::new(p).exists())
        {
            // The system bundle is found here; the chroot test covers a host without one.
            let ran = switch(
                "https://localhost:9",
                &NO_TLS_OPTIONS,
                Some("/nonexistent/ca.pem"),
            );
            ran.expect_code(64).expect_logged(&["/nonexistent/ca.pem"]);
        }
    }
}

#[cfg(not(feature = "tls"))]
#[test]
fn the_http_only_build_refuses_https_urls() {
    let stub = Scenario::real().start();
    let ran = switch(
        &format!("https://127.0.0.1:{}", stub.port),
        &NO_TLS_OPTIONS,
        None,
    );
    ran.expect_code(64)
        .expect_logged(&["https:// is not supported by this build"]);
    assert!(stub.requests().is_empty(), "{:?}", stub.lines());
}

#[test]
fn certificate_options_with_an_http_url_are_not_used_and_said_so() {
    let stub = Scenario::real().start();
    let missing = "/nonexistent/client.pem";
    let ran = switch(
        &stub.url(),
        &["--cert-file", missing, "--ca-file", missing],
        None,
    );
    ran.expect_code(0).expect_logged(&[
        "WARNING: Not using --ca-file, --cert-file: --api-url is http://, which has no TLS.",
    ]);
    assert_eq!(stub.requests().len(), 4, "{:?}", stub.lines());
}
