//! `GET /diagnose`: what `check` and `recover`'s progress lines need of
//! `barman diagnose`, and nothing more. The answer grows with servers and
//! backups (a few KB per backup, tens of MiB in all), so no tree of it is
//! ever built: `Json` walks its text, and only the few fields used are
//! copied out.

use miniserde::json;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Diagnose {
    pub servers: BTreeMap<String, Server>,
    pub models: BTreeMap<String, Model>,
}

#[derive(Debug, Default)]
pub struct Server {
    /// Barman's `cluster`, when configured.
    pub configured_cluster: Option<String>,
    pub active_model: Option<String>,
    pub backups: BTreeMap<String, Backup>,
}

#[derive(Debug, Default)]
pub struct Model {
    cluster: Option<String>,
    is_model: bool,
}

#[derive(Debug, Default, Clone)]
pub struct Backup {
    pub status: Option<String>,
    pub end_time: Option<String>,
    /// The bytes a restore writes: Barman's `cluster_size` where it has
    /// one, else `size`.
    pub size: Option<u64>,
}

impl Diagnose {
    /// `None` for anything but an object whose `servers` and `models`, when
    /// present, are objects of objects.
    pub fn parse(text: &str) -> Option<Diagnose> {
        let top = Json(text.trim()).members()?;
        let mut diagnose = Diagnose::default();
        if let Some(servers) = member(&top, "servers") {
            for (name, server) in servers.members()? {
                diagnose.servers.insert(name, Server::parse(server)?);
            }
        }
        // Barman before 3.10 has no models.
        if let Some(models) = member(&top, "models") {
            for (name, model) in models.members()? {
                let config = member(&model.members()?, "config").and_then(Json::members);
                let field = |key| config.as_ref().and_then(|c| member(c, key));
                let model = Model {
                    cluster: field("cluster").and_then(Json::string),
                    is_model: field("model").and_then(Json::boolean) == Some(true),
                };
                diagnose.models.insert(name, model);
            }
        }
        Some(diagnose)
    }

    pub fn server(&self, name: &str) -> Option<&Server> {
        self.servers.get(name)
    }

    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.get(name)
    }
}

impl Server {
    fn parse(server: Json) -> Option<Server> {
        let fields = server.members()?;
        let config = member(&fields, "config").and_then(Json::members);
        let mut backups = BTreeMap::new();
        if let Some(listed) = member(&fields, "backups") {
            for (id, backup) in listed.members()? {
                let backup = backup.members()?;
                let field = |key| member(&backup, key).and_then(Json::string);
                let number = |key| member(&backup, key).and_then(Json::number);
                backups.insert(
                    id,
                    Backup {
                        status: field("status"),
                        end_time: field("end_time"),
                        size: number("cluster_size").or_else(|| number("size")),
                    },
                );
            }
        }
        Some(Server {
            configured_cluster: config
                .and_then(|c| member(&c, "cluster"))
                .and_then(Json::string),
            active_model: member(&fields, "active_model").and_then(Json::string),
            backups,
        })
    }

    /// Barman's cluster of a server is its name unless configured.
    pub fn cluster<'a>(&'a self, name: &'a str) -> &'a str {
        self.configured_cluster.as_deref().unwrap_or(name)
    }

    /// The backup `id` names: an id, or one of the aliases pg-backup-api
    /// takes. As in Barman (docs/pg-backup-api.md, "Backup id aliases"),
    /// `latest`/`last` are the greatest id, `oldest`/`first` the least, among
    /// the backups DONE or WAITING_FOR_WALS (ids are start times, and sort
    /// so); `last-failed` the greatest FAILED one.
    pub fn resolve_backup(&self, id: &str) -> Option<(&str, &Backup)> {
        let backups = &self.backups;
        let status = |b: &Backup| b.status.clone().unwrap_or_default();
        let failed = |b: &Backup| status(b) == "FAILED";
        let copied = |b: &Backup| matches!(status(b).as_str(), "DONE" | "WAITING_FOR_WALS");
        let mut kept = backups.iter().filter(|(_, b)| copied(b));
        let found = match id {
            "latest" | "last" => kept.next_back(),
            "oldest" | "first" => kept.next(),
            "last-failed" => backups.iter().rfind(|(_, b)| failed(b)),
            _ => backups.get_key_value(id),
        };
        found.map(|(id, backup)| (id.as_str(), backup))
    }
}

impl Model {
    pub fn is_model(&self) -> bool {
        self.is_model
    }

    pub fn cluster(&self) -> Option<&str> {
        self.cluster.as_deref()
    }
}

/// The text of one JSON value. Walked without recursion, so that neither
/// depth nor size can exhaust the stack; malformed text is `None`.
#[derive(Clone, Copy, Debug)]
struct Json<'a>(&'a str);

impl<'a> Json<'a> {
    /// An object's members, in order: key and value.
    fn members(self) -> Option<Vec<(String, Json<'a>)>> {
        let bytes = self.0.as_bytes();
        if bytes.first() != Some(&b'{') {
            return None;
        }
        let mut members = Vec::new();
        let mut at = skip_space(bytes, 1);
        if bytes.get(at) == Some(&b'}') {
            return Some(members);
        }
        loop {
            let key_end = skip_string(bytes, at)?;
            let key = json::from_str::<String>(&self.0[at..key_end]).ok()?;
            at = skip_space(bytes, key_end);
            if bytes.get(at) != Some(&b':') {
                return None;
            }
            let start = skip_space(bytes, at + 1);
            let end = skip_value(bytes, start)?;
            members.push((key, Json(&self.0[start..end])));
            at = skip_space(bytes, end);
            match bytes.get(at) {
                Some(b',') => at = skip_space(bytes, at + 1),
                Some(b'}') if at + 1 == bytes.len() => return Some(members),
                _ => return None,
            }
        }
    }

    /// A string's text; `None` for any other value (`null` included).
    fn string(self) -> Option<String> {
        match self.0.starts_with('"') {
            true => json::from_str(self.0).ok(),
            false => None,
        }
    }

    /// A whole number that fits in 64 bits; `None` for anything else.
    fn number(self) -> Option<u64> {
        self.0.parse().ok()
    }

    fn boolean(self) -> Option<bool> {
        match self.0 {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

/// The value of `key` among `members`: the last one, as JSON parsers do.
fn member<'a>(members: &[(String, Json<'a>)], key: &str) -> Option<Json<'a>> {
    members
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| *v)
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| b" \t\r\n".contains(b)) {
        at += 1;
    }
    at
}

/// The end of the string that starts at `at`.
fn skip_string(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let mut i = at + 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The end of the value that starts at `at`: a string, an object or an
/// array (brackets counted, strings skipped), or a bare literal.
fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => skip_string(bytes, at),
        b'{' | b'[' => {
            let (mut depth, mut i) = (0usize, at);
            loop {
                match bytes.get(i)? {
                    b'"' => {
                        i = skip_string(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let end = bytes[at..]
                .iter()
                .position(|b| b",}] \t\r\n".contains(b))
                .map_or(bytes.len(), |n| at + n);
            (end > at).then_some(end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
        "global": {"config": {"barman_home": "/var/lib/barman"}, "system_info": {"kernel_ver": "x"}},
        "servers": {
            "main": {
                "config": {"cluster": "pg", "conninfo": "host=pg1", "active": true},
                "active_model": "main-pg1",
                "backups": {
                    "20261101T000000": {"status": "DONE", "end_time": "2026-11-01 00:10:00+00:00", "size": 1},
                    "20261102T000000": {"status": "DONE", "end_time": "2026-11-02 00:10:00+00:00", "size": 5, "cluster_size": 7},
                    "20261103T000000": {"status": "FAILED", "end_time": null},
                    "20261104T000000": {"status": "WAITING_FOR_WALS", "end_time": "2026-11-04T00:10:00+00:00"},
                    "20261105T000000": {"status": "STARTED", "end_time": null}
                },
                "status": {"pg_version": 150000}
            },
            "bare": {"config": {}, "active_model": null}
        },
        "models": {
            "main-pg1": {"config": {"cluster": "pg", "model": true}},
            "other": {"config": {"cluster": "elsewhere", "model": true}}
        }
    }"#;

    #[test]
    fn only_the_fields_used_are_kept() {
        let diagnose = Diagnose::parse(SAMPLE).unwrap();
        let main = diagnose.server("main").unwrap();
        assert_eq!(main.cluster("main"), "pg");
        assert_eq!(main.active_model.as_deref(), Some("main-pg1"));
        let bare = diagnose.server("bare").unwrap();
        assert_eq!(
            (bare.cluster("bare"), bare.active_model.as_deref()),
            ("bare", None)
        );
        let model = diagnose.model("other").unwrap();
        assert!(model.is_model());
        assert_eq!(model.cluster(), Some("elsewhere"));
        assert!(diagnose.server("nosuch").is_none());
    }

    #[test]
    fn aliases_resolve_like_barman() {
        let diagnose = Diagnose::parse(SAMPLE).unwrap();
        let main = diagnose.server("main").unwrap();
        let id = |alias| main.resolve_backup(alias).map(|(id, _)| id);
        assert_eq!(id("latest"), Some("20261104T000000"));
        assert_eq!(id("last"), Some("20261104T000000"));
        assert_eq!(id("oldest"), Some("20261101T000000"));
        assert_eq!(id("first"), Some("20261101T000000"));
        assert_eq!(id("last-failed"), Some("20261103T000000"));
        assert_eq!(id("20261102T000000"), Some("20261102T000000"));
        assert_eq!(id("20991231T000000"), None);
        let bare = diagnose.server("bare").unwrap();
        assert!(bare.resolve_backup("latest").is_none());
        let size = |id| main.resolve_backup(id).and_then(|(_, b)| b.size);
        assert_eq!(size("oldest"), Some(1));
        assert_eq!(size("20261102T000000"), Some(7), "cluster_size first");
        assert_eq!(size("latest"), None);
    }

    #[test]
    fn what_is_not_diagnose_json_is_refused() {
        for bad in [
            "<html>",
            r#"{"servers": 5}"#,
            r#"{"servers": {"a": {"backups": {"b": 1}}}}"#,
            r#"{"servers": {}"#,
            r#"{"servers": {}} x"#,
            r#"{"a" 1}"#,
            r#"{"a": "open}"#,
            r#"{"a": [}"#,
            "",
        ] {
            assert!(Diagnose::parse(bad).is_none(), "{bad}");
        }
        assert!(Diagnose::parse("{}").is_some());
        assert!(Diagnose::parse(r#" {"global": {"x": [1, {"y": "}"}]}} "#).is_some());
    }

    #[test]
    fn deep_nesting_costs_no_stack() {
        let deep = format!(
            r#"{{"global": {}{}}}"#,
            "[".repeat(1 << 20),
            "]".repeat(1 << 20)
        );
        assert!(Diagnose::parse(&deep).is_some());
    }

    #[test]
    fn escaped_keys_and_values_are_decoded() {
        let text =
            r#"{"servers": {"m\u0061in": {"active_model": "a\"b", "config": {"cluster": null}}}}"#;
        let diagnose = Diagnose::parse(text).unwrap();
        let main = diagnose.server("main").unwrap();
        assert_eq!(main.active_model.as_deref(), Some("a\"b"));
        assert_eq!(main.cluster("main"), "main");
    }
}
