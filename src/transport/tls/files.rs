//! The PEM files of `--ca-file`, `--cert-file` and `--key-file` (or
//! `SSL_CERT_FILE`, or the system bundle), read once, before any request:
//! a file that cannot be used is a usage error that names it.

use crate::log::O_NONBLOCK;
use rustls::RootCertStore;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Where distributions keep their CA bundle (Debian/Alpine, RHEL, SUSE,
/// RHEL's extracted store, macOS/BSD).
const SYSTEM_BUNDLES: [&str; 5] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The CA certificates to trust: --ca-file, else $SSL_CERT_FILE, else the
/// system bundle.
pub fn trust_anchors(ca_file: Option<&Path>) -> Result<RootCertStore, String> {
    let (what, path) = match (ca_file, std::env::var_os("SSL_CERT_FILE")) {
        (Some(path), _) => ("--ca-file", path.to_path_buf()),
        (None, Some(path)) if !path.is_empty() => ("SSL_CERT_FILE", PathBuf::from(path)),
        _ => match SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file()) {
            Some(path) => ("the system CA bundle", path.to_path_buf()),
            None => {
                return Err(format!(
                    "no CA bundle to verify the server with (none of {}): pass --ca-file",
                    SYSTEM_BUNDLES.join(", ")
                ))
            }
        },
    };
    let named = || format!("{what} {}", path.display());
    let certificates = certificates(&read(&path, &named())?, &named())?;
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certificates);
    if added == 0 {
        return Err(format!("{}: no usable CA certificate in it", named()));
    }
    Ok(roots)
}

/// The client's certificate chain and its private key, from --cert-file and
/// --key-file, or both from --cert-file.
pub fn client_identity(
    cert_file: &Path,
    key_file: Option<&Path>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let cert_named = format!("--cert-file {}", cert_file.display());
    let cert_pem = read(cert_file, &cert_named)?;
    let chain = certificates(&cert_pem, &cert_named)?;
    if chain.is_empty() {
        return Err(format!("{cert_named}: no PEM certificate in it"));
    }
    let key_named = match key_file {
        Some(path) => format!("--key-file {}", path.display()),
        None => cert_named.clone(),
    };
    let key_pem = match key_file {
        Some(path) => read(path, &key_named)?,
        None => cert_pem,
    };
    match PrivateKeyDer::from_pem_slice(&key_pem) {
        Ok(key) => Ok((chain, key)),
        Err(pem::Error::NoItemsFound) if key_pem.windows(9).any(|w| w == b"ENCRYPTED") => {
            Err(format!(
                "{key_named}: the private key is encrypted: \
                 decrypt it (openssl pkey -in KEY -out KEY.plain)"
            ))
        }
        Err(pem::Error::NoItemsFound) if key_file.is_none() => Err(format!(
            "{key_named}: no private key in it: \
             pass --key-file, or append the key to the certificate"
        )),
        Err(pem::Error::NoItemsFound) => Err(format!(
            "{key_named}: no private key in it (PEM: PKCS#8, PKCS#1 or SEC1)"
        )),
        Err(e) => Err(format!("{key_named}: {}", pem_error(e))),
    }
}

/// The largest PEM file read: a system CA bundle is about 220 KiB.
const MAX_PEM: u64 = 4 << 20;

/// Reads a PEM file: a regular file (a FIFO or a device such as /dev/zero
/// would block or never end: the open does not wait for a FIFO's writer)
/// of at most MAX_PEM bytes.
fn read(path: &Path, named: &str) -> Result<Vec<u8>, String> {
    let cannot = |e: io::Error| format!("{named}: cannot read: {e}");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
        .map_err(cannot)?;
    let metadata = file.metadata().map_err(cannot)?;
    if !metadata.is_file() {
        return Err(format!("{named}: not a regular file"));
    }
    if metadata.len() > MAX_PEM {
        return Err(format!(
            "{named}: over {} MiB, too large for a PEM file",
            MAX_PEM >> 20
        ));
    }
    let mut pem = Vec::new();
    file.take(MAX_PEM).read_to_end(&mut pem).map_err(cannot)?;
    Ok(pem)
}

fn certificates(pem: &[u8], named: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{named}: {}", pem_error(e)))
}

/// A PEM error in words (rustls-pki-types shows some sections' names as
/// lists of bytes).
fn pem_error(error: pem::Error) -> String {
    match error {
        pem::Error::MissingSectionEnd { .. } => {
            "invalid PEM: a section has no END line (is the file cut short?)".into()
        }
        pem::Error::IllegalSectionStart { .. } => "invalid PEM: a BEGIN line is malformed".into(),
        pem::Error::Base64Decode(_) => "invalid PEM: bad base64 inside a section".into(),
        other => format!("invalid PEM: {other}"),
    }
}
