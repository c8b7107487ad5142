//! `GET /diagnose`: what `check` needs of `barman diagnose`, and nothing
//! more. The answer grows with servers and backups (a few KB per backup),
//! so it is parsed straight into these structs: every field not named here
//! is skipped by the parser without being kept.

use miniserde::{json, Deserialize};
use std::collections::BTreeMap;

#[derive(Deserialize, Debug, Default)]
pub struct Diagnose {
    pub servers: Option<BTreeMap<String, Server>>,
    pub models: Option<BTreeMap<String, Model>>,
}

#[derive(Deserialize, Debug, Default)]
pub struct Server {
    pub config: Option<ServerConfig>,
    pub active_model: Option<String>,
    pub backups: Option<BTreeMap<String, Backup>>,
}

#[derive(Deserialize, Debug, Default)]
pub struct ServerConfig {
    pub cluster: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
pub struct Model {
    pub config: Option<ModelConfig>,
}

#[derive(Deserialize, Debug, Default)]
pub struct ModelConfig {
    pub cluster: Option<String>,
    pub model: Option<bool>,
}

#[derive(Deserialize, Debug, Default, Clone)]
pub struct Backup {
    pub status: Option<String>,
    pub end_time: Option<String>,
}

impl Diagnose {
    pub fn parse(text: &str) -> Option<Diagnose> {
        json::from_str(text).ok()
    }

    pub fn server(&self, name: &str) -> Option<&Server> {
        self.servers.as_ref()?.get(name)
    }

    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.as_ref()?.get(name)
    }
}

impl Server {
    /// Barman's cluster of a server is its name unless configured.
    pub fn cluster<'a>(&'a self, name: &'a str) -> &'a str {
        let configured = self.config.as_ref().and_then(|c| c.cluster.as_deref());
        configured.unwrap_or(name)
    }

    /// The backup `id` names: an id, or one of the aliases pg-backup-api
    /// takes. As in Barman (docs/pg-backup-api.md, "Backup id aliases"),
    /// `latest`/`last` are the greatest id, `oldest`/`first` the least, among
    /// the backups DONE or WAITING_FOR_WALS (ids are start times, and sort
    /// so); `last-failed` the greatest FAILED one.
    pub fn resolve_backup(&self, id: &str) -> Option<(&str, &Backup)> {
        let backups = self.backups.as_ref()?;
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
        self.config.as_ref().and_then(|c| c.model) == Some(true)
    }

    pub fn cluster(&self) -> Option<&str> {
        self.config.as_ref()?.cluster.as_deref()
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
                    "20261102T000000": {"status": "DONE", "end_time": "2026-11-02 00:10:00+00:00"},
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
    }

    #[test]
    fn what_is_not_diagnose_json_is_refused() {
        assert!(Diagnose::parse("<html>").is_none());
        assert!(Diagnose::parse(r#"{"servers": 5}"#).is_none());
        assert!(Diagnose::parse("{}").is_some());
    }
}
