//! What this host's disk says about a restore: the directories a fresh
//! volume lacks, how many bytes have arrived, whether a cluster is there,
//! and whether anything changed. Metadata only: no file is opened, and no
//! link is followed but those in the data directory's `pg_tblspc/`.

use std::fs::{self, DirBuilder, Metadata};
use std::io::{self, ErrorKind};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// The directories of `dir` that do not exist, outermost first.
pub fn missing_directories(dir: &Path) -> Vec<PathBuf> {
    let mut missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && fs::symlink_metadata(d).is_err())
        .map(Path::to_path_buf)
        .collect();
    missing.reverse();
    missing
}

/// Makes `dir` and its missing parents as `mkdir -p` would, mode 0700
/// (owned by this user): a first bootstrap on a fresh volume.
pub fn make_directories(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// What a data directory holds, as far as a cluster goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// `PG_VERSION` and `global/pg_control`.
    Cluster,
    /// `PG_VERSION` but no `global/pg_control`: a restore cut short, or
    /// one still copying.
    NoControl,
    /// No `PG_VERSION`; how many entries the directory holds.
    NoCluster(usize),
    /// No such directory.
    Missing,
}

impl Found {
    /// Whether a cluster was there, finished or not.
    pub fn has_version(&self) -> bool {
        matches!(self, Found::Cluster | Found::NoControl)
    }

    /// For a message: "DIR does not exist", "DIR is empty", ...
    pub fn describe(&self, dir: &str) -> String {
        match self {
            Found::Cluster => format!("{dir} holds PG_VERSION and global/pg_control"),
            Found::NoControl => format!("{dir} holds PG_VERSION but no global/pg_control"),
            Found::NoCluster(0) => format!("{dir} is empty"),
            Found::NoCluster(1) => format!("{dir} holds 1 entry but no PG_VERSION"),
            Found::NoCluster(n) => format!("{dir} holds {n} entries but no PG_VERSION"),
            Found::Missing => format!("{dir} does not exist"),
        }
    }
}

/// Looks at `dir`; `Err` when it cannot be looked at (no permission).
pub fn look(dir: &Path) -> io::Result<Found> {
    let exists = |path: &Path| match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    };
    if !exists(dir)? {
        return Ok(Found::Missing);
    }
    if exists(&dir.join("PG_VERSION"))? {
        return Ok(match exists(&dir.join("global/pg_control"))? {
            true => Found::Cluster,
            false => Found::NoControl,
        });
    }
    Ok(Found::NoCluster(fs::read_dir(dir)?.count()))
}

/// A change time (ctime): the kernel sets it on every write, rename or
/// chmod, and nobody can set it back (rsync keeps modification times).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Changed(i64, i64);

impl Changed {
    pub fn of(metadata: &Metadata) -> Changed {
        Changed(metadata.ctime(), metadata.ctime_nsec())
    }
}

/// Whether anything under `dir` (itself included) changed at or after
/// `since`. It stops at the first change.
pub fn changed_since(dir: &Path, since: Changed) -> io::Result<bool> {
    walk(dir, &mut |metadata| Changed::of(metadata) >= since)
}

/// The bytes of the files under `dir` and its tablespaces; what cannot be
/// read counts as nothing.
pub fn bytes_under(dir: &Path) -> u64 {
    let mut bytes = 0u64;
    let _ = walk(dir, &mut |metadata| {
        if metadata.is_file() {
            bytes = bytes.saturating_add(metadata.len());
        }
        false
    });
    bytes
}

/// Shows `visit` the metadata of `dir` and of everything under it, and of
/// the directories that the links in its `pg_tblspc/` point to (and their
/// trees), until `visit` says stop: `Ok(true)` then. No other link is
/// followed, so a cycle cannot form. Entries that vanish meanwhile (rsync
/// renames its temporary files) are skipped; a directory that cannot be
/// read is an error. Without recursion: depth costs no stack.
fn walk(dir: &Path, visit: &mut dyn FnMut(&Metadata) -> bool) -> io::Result<bool> {
    let tablespaces = dir.join("pg_tblspc");
    if visit(&fs::symlink_metadata(dir)?) {
        return Ok(true);
    }
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let entries = match fs::read_dir(&next) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let links_followed = next == tablespaces;
        for entry in entries {
            let Some((path, metadata)) = vanished_or(entry.and_then(|e| {
                let metadata = e.metadata()?;
                Ok((e.path(), metadata))
            }))?
            else {
                continue;
            };
            if visit(&metadata) {
                return Ok(true);
            }
            if metadata.is_dir() {
                pending.push(path);
            } else if links_followed && metadata.file_type().is_symlink() {
                let Some(target) = vanished_or(fs::metadata(&path))? else {
                    continue;
                };
                if target.is_dir() {
                    if visit(&target) {
                        return Ok(true);
                    }
                    pending.push(path);
                }
            }
        }
    }
    Ok(false)
}

/// `None` for what vanished while it was looked at.
fn vanished_or<T>(result: io::Result<T>) -> io::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pb-disk-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn bytes_count_files_and_tablespaces_but_no_other_link() {
        let root = scratch("bytes");
        let data = root.join("data");
        fs::create_dir_all(data.join("base/1")).unwrap();
        fs::write(data.join("base/1/1259"), vec![0; 1000]).unwrap();
        fs::write(data.join("PG_VERSION"), "15\n").unwrap();
        let tablespace = root.join("ts");
        fs::create_dir_all(tablespace.join("PG_15/1")).unwrap();
        fs::write(tablespace.join("PG_15/1/16384"), vec![0; 500]).unwrap();
        fs::create_dir_all(data.join("pg_tblspc")).unwrap();
        symlink(&tablespace, data.join("pg_tblspc/16385")).unwrap();
        // Links anywhere else, and links inside a tablespace, are not followed.
        let elsewhere = root.join("elsewhere");
        fs::create_dir_all(&elsewhere).unwrap();
        fs::write(elsewhere.join("big"), vec![0; 100_000]).unwrap();
        symlink(&elsewhere, data.join("base/link")).unwrap();
        symlink(&elsewhere, tablespace.join("PG_15/link")).unwrap();
        symlink(&data, data.join("pg_tblspc/loop")).unwrap();
        let bytes = bytes_under(&data);
        // The loop counts the data directory twice, and stops there.
        assert_eq!(bytes, 2 * (1000 + 3) + 500);
        assert_eq!(bytes_under(&root.join("nosuch")), 0);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_cluster_needs_pg_version_and_pg_control() {
        let root = scratch("look");
        let data = root.join("data");
        assert_eq!(look(&data).unwrap(), Found::Missing);
        fs::create_dir(&data).unwrap();
        assert_eq!(look(&data).unwrap(), Found::NoCluster(0));
        fs::write(data.join("postgresql.conf"), "").unwrap();
        assert_eq!(look(&data).unwrap(), Found::NoCluster(1));
        fs::write(data.join("PG_VERSION"), "15\n").unwrap();
        assert_eq!(look(&data).unwrap(), Found::NoControl);
        fs::create_dir(data.join("global")).unwrap();
        fs::write(data.join("global/pg_control"), "").unwrap();
        assert_eq!(look(&data).unwrap(), Found::Cluster);
        assert!(Found::NoControl.has_version() && !Found::NoCluster(3).has_version());
        assert_eq!(Found::NoCluster(0).describe("/d"), "/d is empty");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_change_after_the_mark_is_seen_and_none_before_it() {
        let root = scratch("changed");
        let data = root.join("data");
        fs::create_dir_all(data.join("global")).unwrap();
        fs::write(data.join("global/pg_control"), "x").unwrap();
        let mark_file = root.join("mark");
        fs::write(&mark_file, "").unwrap();
        let mark = Changed::of(&fs::metadata(&mark_file).unwrap());
        // Nothing was written since the mark, unless the clock's tick is
        // coarse enough for both to share one: then the mark is not after.
        let before = Changed::of(&fs::metadata(data.join("global/pg_control")).unwrap());
        assert_eq!(changed_since(&data, mark).unwrap(), before >= mark);
        fs::write(data.join("global/pg_control"), "y").unwrap();
        assert!(changed_since(&data, mark).unwrap());
        assert!(changed_since(&root.join("nosuch"), mark).is_err());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn missing_directories_are_named_outermost_first_and_made_0700() {
        let root = scratch("fresh");
        let data = root.join("pg/16/main");
        assert_eq!(
            missing_directories(&data),
            vec![root.join("pg"), root.join("pg/16"), data.clone()]
        );
        let parent = data.parent().unwrap();
        make_directories(parent).unwrap();
        assert_eq!(missing_directories(&data), vec![data.clone()]);
        let mode = fs::metadata(root.join("pg")).unwrap().mode() & 0o777;
        // The umask may take bits away, never add them.
        assert_eq!(mode & !0o700, 0, "{mode:o}");
        fs::remove_dir_all(&root).unwrap();
    }
}
