//! The pg-backup-api client: which endpoint, which body. What the answers
//! must look like is in src/api/answer.rs (an error page's words in
//! src/api/html.rs), the one scanner of their JSON in src/api/json.rs; the
//! list of a server's operations is read as it arrives (src/api/list.rs).

mod answer;
mod html;
pub mod json;
mod list;

use answer::answer_text;
pub use answer::{created_id, decode, error_message, operation_state, status_text, Listed, Status};
use list::ListScan;
pub use list::{scan_bytes, Scanned, MAX_LIST};

use crate::failure::Problem;
use crate::transport::{Method, Request, Transport, MAX_BODY};
use crate::url::{ApiUrl, Endpoint};
use miniserde::json::{Object, Value};
use std::time::Duration;

/// The two kinds of operation this tool starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Recovery,
    ConfigSwitch,
}

impl Kind {
    /// The `type` pg-backup-api uses for it.
    pub fn api_type(self) -> &'static str {
        match self {
            Kind::Recovery => "recovery",
            Kind::ConfigSwitch => "config_switch",
        }
    }

    /// The kind of a listed operation's `type`.
    pub fn from_api_type(api_type: &str) -> Option<Kind> {
        [Kind::Recovery, Kind::ConfigSwitch]
            .into_iter()
            .find(|kind| kind.api_type() == api_type)
    }

    /// How log lines name it: "Recovery operation 2026... is still in progress".
    pub fn label(self) -> &'static str {
        match self {
            Kind::Recovery => "recovery",
            Kind::ConfigSwitch => "config switch",
        }
    }
}

/// The body of a POST that creates an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOperation {
    pub kind: Kind,
    pub json: String,
}

impl NewOperation {
    pub fn recovery(backup_id: &str, ssh_command: &str, destination: &str) -> NewOperation {
        let mut body = Object::new();
        body.insert("type".into(), Value::String("recovery".into()));
        body.insert("backup_id".into(), Value::String(backup_id.into()));
        body.insert(
            "remote_ssh_command".into(),
            Value::String(ssh_command.into()),
        );
        body.insert(
            "destination_directory".into(),
            Value::String(destination.into()),
        );
        NewOperation {
            kind: Kind::Recovery,
            json: miniserde::json::to_string(&Value::Object(body)),
        }
    }

    /// A config switch that applies `model`, or resets the config when `None`.
    pub fn config_switch(model: Option<&str>) -> NewOperation {
        let mut body = Object::new();
        body.insert("type".into(), Value::String("config_switch".into()));
        match model {
            Some(name) => body.insert("model_name".into(), Value::String(name.into())),
            None => body.insert("reset".into(), Value::Bool(true)),
        };
        NewOperation {
            kind: Kind::ConfigSwitch,
            json: miniserde::json::to_string(&Value::Object(body)),
        }
    }
}

pub struct Client {
    transport: Transport,
}

impl Client {
    pub fn new(transport: Transport) -> Client {
        Client { transport }
    }

    fn url(&self) -> &ApiUrl {
        self.transport.url()
    }

    /// The path of `--api-url`, without its trailing slash: `""` or
    /// `/pgbackup`.
    pub fn prefix(&self) -> &str {
        self.url().prefix()
    }

    fn status_endpoint(&self) -> Endpoint {
        self.url().endpoint(&["status"])
    }

    fn operations_endpoint(&self, server: &str) -> Endpoint {
        self.url().endpoint(&["servers", server, "operations"])
    }

    fn operation_endpoint(&self, server: &str, id: &str) -> Endpoint {
        self.url().endpoint(&["servers", server, "operations", id])
    }

    /// The URLs of the endpoints, for log lines.
    pub fn status_url(&self) -> String {
        self.url().shown(&self.status_endpoint())
    }

    pub fn operations_url(&self, server: &str) -> String {
        self.url().shown(&self.operations_endpoint(server))
    }

    pub fn operation_url(&self, server: &str, id: &str) -> String {
        self.url().shown(&self.operation_endpoint(server, id))
    }

    /// GET /status: the JSON string it answers ("OK" when all is well).
    pub fn status(&self) -> Result<String, Problem> {
        status_text(&self.get(&self.status_endpoint())?)
    }

    /// POST /servers/S/operations: the id of the new operation.
    pub fn create(&self, server: &str, operation: &NewOperation) -> Result<String, Problem> {
        let endpoint = self.operations_endpoint(server);
        let request = Request {
            method: Method::Post,
            endpoint: &endpoint,
            json: Some(&operation.json),
            max_body: MAX_BODY,
            sink: None,
        };
        let response = self.transport.send(&request)?;
        // Past the transport, an answer that is not what was expected was
        // read whole: a 2xx without a usable id, which the list settles.
        decode(response)
            .and_then(|answer| created_id(&answer))
            .map_err(|problem| match problem {
                Problem::Malformed(why) => Problem::NoId(why),
                other => other,
            })
    }

    /// GET /servers/S/operations/ID: where the operation stands, known
    /// within `limit` (or `--http-timeout`, when shorter).
    pub fn operation_status(
        &self,
        server: &str,
        id: &str,
        limit: Duration,
    ) -> Result<Status, Problem> {
        let endpoint = self.operation_endpoint(server, id);
        let request = Request {
            method: Method::Get,
            endpoint: &endpoint,
            json: None,
            max_body: MAX_BODY,
            sink: None,
        };
        operation_state(&decode(self.transport.send_within(&request, limit)?)?)
    }

    /// GET /diagnose: Barman's view of its servers, models and backups,
    /// as text for `check` to read (src/jobs/diagnose.rs). The body
    /// is taken up to `max_body` bytes (`--max-diagnose`): a few KB per
    /// backup.
    pub fn diagnose(&self, max_body: usize) -> Result<String, Problem> {
        let endpoint = self.url().endpoint(&["diagnose"]);
        let mut response = self.transport.send(&Request {
            method: Method::Get,
            endpoint: &endpoint,
            json: None,
            max_body,
            sink: None,
        })?;
        // An error page gets the usual limit: its message is searched whole.
        if !(200..300).contains(&response.status) {
            response.body.truncate(MAX_BODY);
        }
        answer_text(&response)?;
        // answer_text checked it is UTF-8.
        Ok(String::from_utf8(response.body).unwrap_or_default())
    }

    pub fn diagnose_url(&self) -> String {
        self.url().shown(&self.url().endpoint(&["diagnose"]))
    }

    /// GET /servers/S/operations, read as it arrives (src/api/list.rs):
    /// each usable entry goes to `keep`, which keeps what its caller needs.
    pub fn scan_operations(
        &self,
        server: &str,
        keep: &mut dyn FnMut(Listed),
    ) -> Result<Scanned, Problem> {
        let scan = ListScan::new(keep);
        let response = self.transport.send(&Request {
            method: Method::Get,
            endpoint: &self.operations_endpoint(server),
            json: None,
            max_body: MAX_LIST,
            sink: Some(&scan),
        })?;
        if !(200..300).contains(&response.status) {
            answer_text(&response)?;
        }
        scan.finish(response.status)
    }

    fn get(&self, endpoint: &Endpoint) -> Result<Value, Problem> {
        decode(self.transport.send(&Request {
            method: Method::Get,
            endpoint,
            json: None,
            max_body: MAX_BODY,
            sink: None,
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::answer::string_field;
    use super::*;

    #[test]
    fn bodies_are_the_exact_api_shapes() {
        let recovery = NewOperation::recovery("latest", "ssh postgres@pg1", "/var/lib/pg");
        let value: Value = miniserde::json::from_str(&recovery.json).unwrap();
        assert_eq!(string_field(&value, "type").as_deref(), Some("recovery"));
        assert_eq!(string_field(&value, "backup_id").as_deref(), Some("latest"));
        assert_eq!(
            string_field(&value, "remote_ssh_command").as_deref(),
            Some("ssh postgres@pg1")
        );
        assert_eq!(
            string_field(&value, "destination_directory").as_deref(),
            Some("/var/lib/pg")
        );
        assert_eq!(
            NewOperation::config_switch(Some("m\"1")).json,
            r#"{"model_name":"m\"1","type":"config_switch"}"#
        );
        assert_eq!(
            NewOperation::config_switch(None).json,
            r#"{"reset":true,"type":"config_switch"}"#
        );
    }
}
