//! `GET /diagnose`: what `check` and `recover`'s progress lines need of
//! `barman diagnose`, and nothing more. The answer grows with servers and
//! backups (a few KB per backup, tens of MiB in all), so no tree of it is
//! ever built: `Json` (src/api/json.rs) walks its text, and only the few
//! fields used are copied out.

use crate::api::json::{member, Json};
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
            // A bare value ends where the lexer says (src/api/json.rs): at
            // a quote, bracket or colon too, then nothing fits.
            r#"{"a": 1"b"}"#,
            r#"{"a": x{}"#,
            r#"{"a": :}"#,
        ] {
            assert!(Diagnose::parse(bad).is_none(), "{bad}");
        }
        // White space is the lexer's: a form feed too, as in the list.
        assert!(Diagnose::parse("{\x0c\"servers\":\x0c{}}").is_some());
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
