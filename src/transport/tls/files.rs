//! The PEM files of `--ca-file`, `--cert-file` and `--key-file` (or the
//! CAs OpenSSL would trust), read once, before any request: a file that
//! cannot be used is a usage error that names it.

use crate::sys::O_NONBLOCK;
use rustls::RootCertStore;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The CA certificates to trust: --ca-file, else those OpenSSL would
/// trust (`openssl_default`).
pub fn trust_anchors(ca_file: Option<&Path>) -> Result<RootCertStore, String> {
    let (certificates, named) = match ca_file {
        Some(path) => {
            let named = format!("--ca-file {}", path.display());
            (certificates(&read(path, &named)?, &named)?, named)
        }
        None => openssl_default()?,
    };
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certificates);
    if added == 0 {
        return Err(format!("{named}: no usable CA certificate in it"));
    }
    Ok(roots)
}

/// What OpenSSL trusts: the file of `SSL_CERT_FILE` and every file of the
/// directories of `SSL_CERT_DIR` (hashed by `openssl rehash` or not) when
/// either is set, else the system's bundle and directory, found as
/// openssl-probe finds them (rustls-native-certs).
fn openssl_default() -> Result<(Vec<CertificateDer<'static>>, String), String> {
    let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    let (file, dirs) = (set("SSL_CERT_FILE"), set("SSL_CERT_DIR"));
    let mut named: Vec<String> = Vec::new();
    if let Some(file) = &file {
        let path = PathBuf::from(file);
        named.push(format!("SSL_CERT_FILE {}", path.display()));
        // Checked here: the crate would open a FIFO and wait for a writer.
        let kind = std::fs::metadata(&path).map(|m| m.is_file());
        match kind {
            Ok(true) => {}
            Ok(false) => return Err(format!("{}: not a regular file", named[0])),
            Err(e) => return Err(format!("{}: cannot read: {e}", named[0])),
        }
    }
    if let Some(dirs) = &dirs {
        named.push(format!("SSL_CERT_DIR {}", PathBuf::from(dirs).display()));
    }
    let named = match named.is_empty() {
        true => "the system's CA certificates".to_string(),
        false => named.join(" and "),
    };
    let found = rustls_native_certs::load_native_certs();
    if found.certs.is_empty() {
        return Err(match found.errors.first() {
            Some(error) => format!("{named}: {error}; pass --ca-file"),
            None => format!(
                "no CA certificate to verify the server with in {named}: pass --ca-file, or \
                 set SSL_CERT_FILE or SSL_CERT_DIR"
            ),
        });
    }
    Ok((found.certs, named))
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

/// The subjectPublicKeyInfo of a DER certificate, of any X.509 version:
/// Certificate = SEQUENCE { tbsCertificate = SEQUENCE { [0] version
/// (absent in version 1), serial, signature, issuer, validity, subject,
/// subjectPublicKeyInfo, ... }, ... }. `None` when it does not parse.
pub fn public_key_info(cert: &[u8]) -> Option<&[u8]> {
    let (certificate, _) = der_item(cert)?;
    let (tbs, _) = der_item(der_body(certificate)?)?;
    let mut fields = der_body(tbs)?;
    let mut index = 0;
    loop {
        let (field, rest) = der_item(fields)?;
        // The explicit [0] version comes first, or not at all.
        let skip = index == 0 && field.first() == Some(&0xa0);
        if !skip {
            index += 1;
            if index == 6 {
                return Some(field);
            }
        }
        fields = rest;
    }
}

/// The first DER item of `bytes` (tag, length, value) and what follows.
fn der_item(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let first_length = *bytes.get(1)?;
    let (header, length) = match first_length {
        0..=0x7f => (2, usize::from(first_length)),
        0x81..=0x84 => {
            let count = usize::from(first_length & 0x7f);
            let digits = bytes.get(2..2 + count)?;
            let length = digits
                .iter()
                .fold(0usize, |n, b| (n << 8) | usize::from(*b));
            (2 + count, length)
        }
        _ => return None,
    };
    let end = header.checked_add(length)?;
    Some((bytes.get(..end)?, &bytes[end..]))
}

/// The value of one DER item.
fn der_body(item: &[u8]) -> Option<&[u8]> {
    let header = match item.get(1)? {
        0..=0x7f => 2,
        n => 2 + usize::from(n & 0x7f),
    };
    item.get(header..)
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
