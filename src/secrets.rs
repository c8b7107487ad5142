//! Secrets kept out of sight: the API password read from a file
//! (`--api-password-file`) instead of the command line, which every user of
//! the host sees in the process list, and a WARNING for a key or password
//! file that others may read, as libpq warns about `sslkey`. A warning, not
//! a refusal: a drop-in must not break a deployment that works.

use crate::url::ApiUrl;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The longest password file read: a password is one short line.
const MAX_PASSWORD_FILE: u64 = 4096;

/// `url` with the password of `path`'s first line for its user.
pub fn with_password_from(url: &ApiUrl, path: &Path) -> Result<ApiUrl, String> {
    let shown = path.display();
    let user = match url.userinfo.as_deref() {
        None => {
            return Err(format!(
                "--api-password-file {shown} needs a user in --api-url \
                 (https://USER@barman:8443/pgbackup)"
            ))
        }
        Some(info) if info.contains(':') => {
            return Err(format!(
                "--api-url has a password already: give it there or in \
                 --api-password-file {shown}, not both"
            ))
        }
        Some(user) => user,
    };
    let mut text = String::new();
    use std::io::Read;
    std::fs::File::open(path)
        .and_then(|file| (&file).take(MAX_PASSWORD_FILE).read_to_string(&mut text))
        .map_err(|e| format!("cannot read --api-password-file {shown}: {e}"))?;
    let password = text.lines().next().unwrap_or_default();
    if password.is_empty() {
        return Err(format!(
            "--api-password-file {shown} holds no password on its first line"
        ));
    }
    let mut with = url.clone();
    with.userinfo = Some(format!("{user}:{password}"));
    Ok(with)
}

/// A WARNING's words when the file `option` names may be read by others:
/// group or others may read it, unless it is root's and only its group may
/// (0640), as libpq allows.
pub fn exposed(option: &str, path: &Path) -> Option<String> {
    let metadata = std::fs::metadata(path).ok()?;
    let mode = metadata.mode() & 0o777;
    let allowed = match metadata.uid() {
        0 => 0o640,
        _ => 0o600,
    };
    (mode & !allowed != 0).then(|| {
        format!(
            "{option} {} may be read by others (mode {mode:04o}): chmod {allowed:04o} it.",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_password_joins_the_user_of_the_url() {
        let dir = std::env::temp_dir().join(format!("pb-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pass");
        std::fs::write(&file, "s3:cr@t\nignored\n").unwrap();
        let url = ApiUrl::parse("https://patroni@barman:8443/pg").unwrap();
        let with = with_password_from(&url, &file).unwrap();
        assert_eq!(with.userinfo.as_deref(), Some("patroni:s3:cr@t"));
        let bare = ApiUrl::parse("https://barman:8443/pg").unwrap();
        assert!(with_password_from(&bare, &file)
            .unwrap_err()
            .contains("needs a user"));
        let both = ApiUrl::parse("https://u:p@barman:8443/pg").unwrap();
        assert!(with_password_from(&both, &file)
            .unwrap_err()
            .contains("not both"));
        std::fs::write(&file, "\n").unwrap();
        assert!(with_password_from(&url, &file)
            .unwrap_err()
            .contains("no password"));
        for (mode, warned) in [(0o600, false), (0o400, false), (0o644, true), (0o660, true)] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            let warning = exposed("--key-file", &file);
            assert_eq!(warning.is_some(), warned, "{mode:o}: {warning:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
