//! `wait`: follows an operation left running, until it ends. Every log
//! line that says an operation goes on on the Barman host prints the `wait`
//! command that does so, ready to paste into a shell (`command`).

use super::session::{unknown_to_the_api, Session};
use crate::api::Kind;
use crate::cli::{Opt, Wait};
use crate::failure::Problem;
use crate::outcome::Outcome;
use crate::rules::poll::End;
use crate::sub::Sub;
use crate::text::shell_word;
use crate::url::ApiUrl;
use std::path::PathBuf;

/// Follows an operation left running, whose kind the list tells.
pub(super) fn run(session: &Session, job: &Wait) -> Outcome {
    let (server, id) = (job.server.as_str(), job.id.as_str());
    session.note_following("operation", server, id);
    if let Err(outcome) = session.check_status() {
        return outcome;
    }
    // The list tells the kind, and whether the operation exists at all:
    // a 404 on a poll can be the real server's under load.
    let what = format!("GET {}", session.client.operations_url(server));
    let listed = session
        .retrier()
        .call(&what, || session.client.operations(server));
    let kind = match listed {
        Ok((listed, _)) => match listed.into_iter().find(|op| op.id == id) {
            Some(entry) => Kind::from_api_type(&entry.api_type),
            None => {
                let gone = Problem::Gone("it is not in the server's list of operations".into());
                return session.report(Sub::Wait, "operation", server, id, End::Error(gone));
            }
        },
        Err(Problem::NotFound(message)) => {
            session.log.error(&unknown_to_the_api(server, &message));
            return Outcome::ApiError(Sub::Wait);
        }
        // Unread: polls may still get through.
        Err(_) => None,
    };
    let noun = kind.map_or("operation".into(), |k| format!("{} operation", k.label()));
    session.follow(Sub::Wait, &noun, server, id)
}

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
