//! The `wait` command that follows an operation left running: every log
//! line that says an operation goes on on the Barman host prints it, ready
//! to paste into a shell. A leaf, so that the session names no job.

use crate::cli::Opt;
use crate::text::shell_word;
use crate::url::ApiUrl;
use std::path::PathBuf;

/// `patroni_barman --api-url URL [TLS options]`: the URL with
/// `USER:PASSWORD@` standing for its credentials, if it has any.
pub(super) fn command_base(url: &ApiUrl, tls: &[(Opt, &PathBuf)]) -> String {
    let mut words = vec![
        "patroni_barman".to_string(),
        Opt::ApiUrl.flag(),
        url.without_credentials(),
    ];
    for (opt, path) in tls {
        words.push(opt.flag());
        words.push(path.display().to_string());
    }
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The whole command for operation `id` of `server`.
pub(super) fn command(base: &str, server: &str, id: &str) -> String {
    format!(
        "{base} wait {} {} {} {}",
        Opt::BarmanServer.flag(),
        shell_word(server),
        Opt::OperationId.flag(),
        shell_word(id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_has_the_url_without_password_and_the_tls_files() {
        let url = ApiUrl::parse("https://barman:s3cret@h:8443/pg").unwrap();
        let (ca, key) = (
            PathBuf::from("/etc/ca.pem"),
            PathBuf::from("/etc/my key.pem"),
        );
        let base = command_base(&url, &[(Opt::CaFile, &ca), (Opt::KeyFile, &key)]);
        assert_eq!(
            command(&base, "main", "20261125T171025"),
            "patroni_barman --api-url https://USER:PASSWORD@h:8443/pg --ca-file /etc/ca.pem \
             --key-file '/etc/my key.pem' wait --barman-server main --operation-id 20261125T171025"
        );
        assert!(!base.contains("s3cret"));
    }
}
