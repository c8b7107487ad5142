//! `https://` through rustls (ring provider, TLS 1.2 and 1.3) under the
//! HTTP/1.1 exchange of `http1`. Certificates and keys are loaded once, in
//! `Tls::new`, so that a bad file is a usage error before any request; every
//! request then gets a fresh connection under one deadline.

mod files;

use super::net::Deadlined;
use super::{Cause, Phase, TransportConfig, TransportError};
use files::{client_identity, trust_anchors};
use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;
use rustls::{AlertDescription, CertificateError, ClientConfig, ClientConnection, SignatureScheme};
use rustls_pki_types::{DnsName, ServerName};
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::sync::Arc;

pub struct Tls {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    /// The host to name in messages: no IPv6 brackets.
    host: String,
    client_cert: bool,
}

impl Tls {
    pub fn new(transport: &TransportConfig) -> Result<Tls, String> {
        let host = transport.url.bare_host().to_string();
        let server_name = match host.parse::<IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => ServerName::DnsName(
                DnsName::try_from(host.clone())
                    .map_err(|_| format!("--api-url: {host:?} is not a valid host name for TLS"))?,
            ),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(trust_anchors(transport.ca_file)?);
        let config = match (transport.cert_file, transport.key_file) {
            (None, None) => builder.with_no_client_auth(),
            (None, Some(_)) => {
                return Err(
                    "--key-file needs --cert-file, the certificate that goes with the key".into(),
                )
            }
            (Some(cert_file), key_file) => {
                let (chain, key) = client_identity(cert_file, key_file)?;
                let files = match key_file {
                    Some(key_file) => format!(
                        "--key-file {} with --cert-file {}",
                        key_file.display(),
                        cert_file.display()
                    ),
                    None => format!("--cert-file {}", cert_file.display()),
                };
                let key = provider
                    .key_provider
                    .load_private_key(key)
                    .map_err(|e| format!("{files}: unusable private key: {e}"))?;
                // Not rustls's own check, which parses the certificate with
                // webpki, and webpki refuses X.509 version 1 (`openssl x509
                // -req` with no extensions makes one; OpenSSL servers take
                // it): the public keys are compared as DER.
                let ours = key.public_key();
                let theirs = chain.first().and_then(|cert| files::public_key_info(cert));
                if let (Some(ours), Some(theirs)) = (&ours, theirs) {
                    if ours.as_ref() != theirs {
                        return Err(format!(
                            "{files}: the private key does not belong to the certificate"
                        ));
                    }
                }
                let identity = CertifiedKey::new(chain, key);
                builder.with_client_cert_resolver(Arc::new(OneIdentity(Arc::new(identity))))
            }
        };
        Ok(Tls {
            config: Arc::new(config),
            server_name,
            host,
            client_cert: transport.cert_file.is_some(),
        })
    }

    /// A fresh TLS session on `socket`, its handshake done: the request is
    /// then written and read by `transport::exchange`. Failures are left for
    /// `sorted`.
    pub fn connect(&self, socket: Deadlined) -> Result<TlsStream, TransportError> {
        let handshake = |cause| Phase::Handshake.failed(cause);
        let connection = ClientConnection::new(self.config.clone(), self.server_name.clone())
            .map_err(|error| {
                handshake(Cause::Tls {
                    described: error.to_string(),
                    error,
                })
            })?;
        let mut stream = rustls::StreamOwned::new(connection, socket);
        while stream.conn.is_handshaking() {
            if let Err(e) = stream.conn.complete_io(&mut stream.sock) {
                return Err(handshake(Cause::Io(e)));
            }
        }
        Ok(TlsStream(stream))
    }

    /// `error`, with a rustls error inside its I/O error made a
    /// `Cause::Tls` and described for an operator.
    pub fn sorted(&self, error: TransportError) -> TransportError {
        match &error.cause {
            Cause::Io(e) => match tls_error(e) {
                Some(tls_error) => error.phase.failed(Cause::Tls {
                    described: self.describe(tls_error),
                    error: tls_error.clone(),
                }),
                None => error,
            },
            _ => error,
        }
    }

    /// What went wrong, in words an operator can act on.
    fn describe(&self, error: &rustls::Error) -> String {
        match error {
            rustls::Error::InvalidCertificate(why) => self.describe_certificate(why),
            rustls::Error::AlertReceived(alert) => self.describe_alert(*alert),
            rustls::Error::PeerIncompatible(why) => {
                format!("the server has no TLS version or cipher in common with us ({why:?})")
            }
            rustls::Error::InvalidMessage(_) | rustls::Error::PeerSentOversizedRecord => {
                format!(
                    "the server does not speak TLS here ({error}): \
                     if it serves plain HTTP, use http:// in --api-url"
                )
            }
            other => other.to_string(),
        }
    }

    /// Why the server's certificate was refused.
    fn describe_certificate(&self, why: &CertificateError) -> String {
        use CertificateError as C;
        let host = &self.host;
        match why {
            C::UnknownIssuer => "the server's certificate is not trusted (issuer unknown): \
                                     pass --ca-file with the CA that signed it"
                .into(),
            C::NotValidForName => format!("the server's certificate is not valid for {host}"),
            C::NotValidForNameContext { presented, .. } => format!(
                "the server's certificate is not valid for {host} (it names {}): \
                     use one of its names in --api-url",
                plain_names(presented)
            ),
            C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet: check this host's clock".into()
            }
            // webpki's reason comes only as a Debug name.
            C::Other(why) if format!("{why:?}").contains("CaUsedAsEndEntity") => {
                "the server presents a CA certificate as its own: give it a certificate \
                     signed by that CA, and pass the CA with --ca-file"
                    .into()
            }
            C::Other(why) if format!("{why:?}").contains("UnsupportedCertVersion") => format!(
                "the server's certificate is X.509 version 1, which names no host (no \
                 subjectAltName): reissue it as version 3 with subjectAltName DNS:{host} \
                 (openssl x509 -req ... -extfile, or -copy_extensions copy with -addext)"
            ),
            C::Other(why) if format!("{why:?}").contains("RequiredEkuNotFound") => {
                "the server's certificate is not for TLS servers (its extendedKeyUsage lacks \
                 serverAuth): reissue it with extendedKeyUsage=serverAuth"
                    .into()
            }
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                "the server's certificate is not for TLS servers (its extendedKeyUsage lacks \
                 serverAuth): reissue it with extendedKeyUsage=serverAuth"
                    .into()
            }
            C::BadEncoding => "the server's certificate cannot be parsed".into(),
            C::BadSignature => {
                "the server's certificate has a signature that does not verify".into()
            }
            C::Revoked => "the server's certificate is revoked".into(),
            C::UnhandledCriticalExtension => {
                "the server's certificate has a critical extension that TLS clients do not \
                 know: reissue it without"
                    .into()
            }
            // A name, never a dump of the value.
            other => format!(
                "the server's certificate was refused ({})",
                variant_name(&format!("{other:?}"))
            ),
        }
    }

    /// What the server's alert says about the handshake.
    fn describe_alert(&self, alert: AlertDescription) -> String {
        use AlertDescription as A;
        let host = &self.host;
        let name = alert_name(alert);
        match alert {
            A::CertificateRequired => {
                "the server requires a client certificate: pass --cert-file".into()
            }
            A::HandshakeFailure | A::BadCertificate | A::CertificateUnknown
                if !self.client_cert =>
            {
                format!(
                    "the server refused the handshake (alert {name}): \
                             it may require a client certificate (pass --cert-file), \
                             or accept neither TLS 1.2 nor TLS 1.3"
                )
            }
            alert if OUR_CERTIFICATE_REJECTED.contains(&alert) => format!(
                "the server rejected our client certificate (alert {name}): \
                         check that --cert-file is valid and signed by a CA the server trusts"
            ),
            A::ProtocolVersion | A::InsufficientSecurity => format!(
                "the server accepts neither TLS 1.2 nor TLS 1.3 \
                         with our ciphers (alert {name})"
            ),
            A::UnrecognisedName => {
                format!("the server does not know the name {host} (alert {name})")
            }
            _ => format!("the server ended the TLS session (alert {name})"),
        }
    }
}

/// Our one client certificate, offered to any server that asks.
#[derive(Debug)]
struct OneIdentity(Arc<CertifiedKey>);

impl ResolvesClientCert for OneIdentity {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// The rustls error inside `error`, if any.
fn tls_error(error: &io::Error) -> Option<&rustls::Error> {
    error.get_ref()?.downcast_ref::<rustls::Error>()
}

/// One TLS session, for one request: what `http1` reads and writes.
pub struct TlsStream(rustls::StreamOwned<ClientConnection, Deadlined>);

impl TlsStream {
    /// `error`, or the TLS failure waiting to be read: a server that refused
    /// our certificate after a TLS 1.3 handshake may have closed already,
    /// and its alert says more than the failed write.
    fn alert_or(&mut self, error: io::Error) -> io::Error {
        if error.kind() == io::ErrorKind::Interrupted {
            return error;
        }
        match self.0.read(&mut [0; 1]) {
            Err(alert) if tls_error(&alert).is_some() => alert,
            _ => error,
        }
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buf) {
            // Closed without close_notify: the HTTP framing tells whether
            // the answer is complete (a truncated one is Broken there).
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            other => other,
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(|e| self.alert_or(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(|e| self.alert_or(e))
    }
}

/// `Other(OtherError(X))` -> `X`: the innermost name of a Debug text.
fn variant_name(debug: &str) -> &str {
    let inner = debug.rsplit('(').next().unwrap_or(debug);
    let end = inner
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(inner.len());
    &inner[..end]
}

/// The names in a certificate as webpki reports them (`DnsName("h")`,
/// `IpAddress(1.2.3.4)`), as written in a URL.
fn plain_names(presented: &[String]) -> String {
    fn plain(name: &str) -> &str {
        ["DnsName(\"", "IpAddress("]
            .iter()
            .find_map(|prefix| name.strip_prefix(prefix))
            .map_or(name, |inner| {
                inner.trim_end_matches(')').trim_end_matches('"')
            })
    }
    match presented.is_empty() {
        true => "no subject alternative name".into(),
        false => presented
            .iter()
            .map(String::as_str)
            .map(plain)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `UnknownCA` as `unknown_ca`, as TLS specifications spell alerts.
fn alert_name(alert: AlertDescription) -> String {
    if let AlertDescription::Unknown(number) = alert {
        return number.to_string();
    }
    let mut name = String::new();
    let mut after_lower = false;
    for c in format!("{alert:?}").chars() {
        if c.is_ascii_uppercase() && after_lower {
            name.push('_');
        }
        after_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        name.push(c.to_ascii_lowercase());
    }
    name
}

/// The alerts a server sends when it rejects the client certificate given.
const OUR_CERTIFICATE_REJECTED: [AlertDescription; 8] = [
    AlertDescription::BadCertificate,
    AlertDescription::UnsupportedCertificate,
    AlertDescription::CertificateRevoked,
    AlertDescription::CertificateExpired,
    AlertDescription::CertificateUnknown,
    AlertDescription::UnknownCA,
    AlertDescription::AccessDenied,
    AlertDescription::DecryptError,
];

/// Whether `error` is the server's alert that it will not take our
/// certificate (or our lack of one).
pub fn refuses_our_certificate(error: &rustls::Error) -> bool {
    match error {
        rustls::Error::AlertReceived(alert) => {
            matches!(
                alert,
                AlertDescription::CertificateRequired | AlertDescription::HandshakeFailure
            ) || OUR_CERTIFICATE_REJECTED.contains(alert)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_named_never_dumped() {
        assert_eq!(
            variant_name("Other(OtherError(UnsupportedCertVersion))"),
            "UnsupportedCertVersion"
        );
        assert_eq!(variant_name("Revoked"), "Revoked");
        assert_eq!(variant_name("X { a: 1 }"), "X");
    }

    #[test]
    fn alert_names_read_like_the_specifications() {
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
        assert_eq!(
            alert_name(AlertDescription::CertificateRequired),
            "certificate_required"
        );
        assert_eq!(alert_name(AlertDescription::Unknown(200)), "200");
    }

    #[test]
    fn presented_names_read_as_in_a_url() {
        let names = [
            "DnsName(\"pg.example\")",
            "IpAddress(10.0.0.1)",
            "DirectoryName",
        ];
        let names = names.map(String::from);
        assert_eq!(plain_names(&names), "pg.example, 10.0.0.1, DirectoryName");
        assert_eq!(plain_names(&[]), "no subject alternative name");
    }
}
