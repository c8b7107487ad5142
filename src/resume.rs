//! The `wait` command that follows an operation left running: every log
//! line that says an operation goes on on the Barman host prints it, ready
//! to paste into a shell.

use crate::cli::Opt;
use crate::url::ApiUrl;
use std::path::PathBuf;

/// `patroni_barman --api-url URL [TLS options]`: the URL with
/// `USER:PASSWORD@` standing for its credentials, if it has any.
pub fn base(url: &ApiUrl, tls: &[(Opt, &PathBuf)]) -> String {
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
        .map(|w| quoted(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The whole command for operation `id` of `server`.
pub fn wait_command(base: &str, server: &str, id: &str) -> String {
    format!(
        "{base} wait {} {} {} {}",
        Opt::BarmanServer.flag(),
        quoted(server),
        Opt::OperationId.flag(),
        quoted(id)
    )
}

/// `word` as a POSIX shell reads it back: as is when it is plain, else in
/// single quotes.
fn quoted(word: &str) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b);
    if !word.is_empty() && word.bytes().all(plain) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
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
        let base = base(&url, &[(Opt::CaFile, &ca), (Opt::KeyFile, &key)]);
        assert_eq!(
            wait_command(&base, "main", "20261125T171025"),
            "patroni_barman --api-url https://USER:PASSWORD@h:8443/pg --ca-file /etc/ca.pem \
             --key-file '/etc/my key.pem' wait --barman-server main --operation-id 20261125T171025"
        );
        assert!(!base.contains("s3cret"));
    }

    #[test]
    fn odd_words_are_quoted_for_a_shell() {
        assert_eq!(quoted("pg main"), "'pg main'");
        assert_eq!(quoted("it's"), r"'it'\''s'");
        assert_eq!(quoted(""), "''");
        assert_eq!(quoted("$(rm)"), "'$(rm)'");
    }
}
