//! The pg-backup-api client: which endpoint, which body, and what the answer
//! must look like. Anything unexpected becomes a `Problem`. The list of a
//! server's operations is read as it arrives (src/api/list.rs).

mod list;

use list::ListScan;
pub use list::{scan_bytes, Scanned, MAX_LIST};

use crate::failure::Problem;
use crate::text::{one_line, quoted, sentence};
use crate::transport::{Method, Request, Response, Transport, MAX_BODY};
use crate::url::{ApiUrl, Endpoint};
use miniserde::json::{self, Object, Value};
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
            json: json::to_string(&Value::Object(body)),
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
            json: json::to_string(&Value::Object(body)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    InProgress,
    Done,
    Failed,
}

/// One entry of a server's list of operations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub id: String,
    pub api_type: String,
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

// The shapes of the answers, apart from the requests so that they can be
// fuzzed (src/lib.rs, `fuzzing`) without a server.

/// GET /status answers a JSON string.
pub fn status_text(answer: &Value) -> Result<String, Problem> {
    match answer {
        Value::String(text) => Ok(text.clone()),
        _ => Err(Problem::Malformed(
            "/status did not answer a JSON string".into(),
        )),
    }
}

/// A created operation: `{"operation_id": "20261125T171025"}`.
pub fn created_id(answer: &Value) -> Result<String, Problem> {
    let id = string_field(answer, "operation_id").ok_or_else(|| missing("operation_id"))?;
    loggable(id, "operation_id")
}

/// An operation's state: `{"operation_id": ..., "status": "IN_PROGRESS"}`.
pub fn operation_state(answer: &Value) -> Result<Status, Problem> {
    match string_field(answer, "status").as_deref() {
        Some("IN_PROGRESS") => Ok(Status::InProgress),
        Some("DONE") => Ok(Status::Done),
        Some("FAILED") => Ok(Status::Failed),
        Some(other) => Err(Problem::Malformed(format!(
            "unknown operation status {}",
            quoted(other, 60)
        ))),
        None => Err(missing("status")),
    }
}

/// Turns an answer into JSON, or into a `Problem` carrying the API's message.
pub fn decode(response: Response) -> Result<Value, Problem> {
    parse_json(answer_text(&response)?)
}

/// The deepest nesting taken: pg-backup-api's answers nest 3 levels.
pub const MAX_DEPTH: usize = 64;
/// The most values taken in one answer (the list of operations is read
/// entry by entry instead: src/api/list.rs).
pub const MAX_VALUES: usize = 100_000;

/// JSON text as a tree, once its shape is known to be bounded: a tree
/// costs tens of bytes per value and per level, so a hostile body of a
/// megabyte (a million `[`) must be refused before one is built.
pub fn parse_json(text: &str) -> Result<Value, Problem> {
    json_shape(text).map_err(Problem::Malformed)?;
    json::from_str::<Value>(text)
        .map_err(|_| Problem::Malformed(format!("body is not JSON: {}", one_line(text, 120))))
}

/// Checks, without allocating, that `text` nests at most MAX_DEPTH
/// levels and holds at most MAX_VALUES values (counted by their
/// separators, outside strings).
fn json_shape(text: &str) -> Result<(), String> {
    let (mut depth, mut values, mut in_string, mut escaped) = (0usize, 1usize, false, false);
    for byte in text.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!("JSON nested deeper than {MAX_DEPTH} levels"));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' | b':' => {
                values += 1;
                if values > MAX_VALUES {
                    return Err(format!("JSON of more than {MAX_VALUES} values"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The text of a 2xx answer, or a `Problem` carrying the API's message.
fn answer_text(response: &Response) -> Result<&str, Problem> {
    if !(200..300).contains(&response.status) {
        let message = error_message(response);
        if response.status == 404 && names_a_resource(response, &message) {
            return Err(Problem::NotFound(message));
        }
        // The location goes into a log line: made one line, whatever the
        // transport let through (the HTTP parser refuses controls already).
        let location = match (response.status, &response.location) {
            (300..=399, Some(to)) => Some(one_line(to, 300)),
            _ => None,
        };
        return Err(Problem::Status {
            code: response.status,
            message,
            location,
        });
    }
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::Malformed(format!(
            "HTTP {} with an empty body",
            response.status
        )));
    }
    std::str::from_utf8(&response.body)
        .map_err(|_| Problem::Malformed("body is not UTF-8 text".into()))
}

/// Whether a 404 is pg-backup-api's own word on a server, backup or
/// operation (a JSON `error`), not Werkzeug's "no such path" (a wrong
/// --api-url) nor a proxy's page.
fn names_a_resource(response: &Response, message: &str) -> bool {
    let json_error = std::str::from_utf8(&response.body)
        .ok()
        .and_then(|text| parse_json(text).ok())
        .is_some_and(|value| string_field(&value, "error").is_some());
    json_error && !message.starts_with("The requested URL was not found")
}

fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    match value {
        Value::Object(object) => object.get(key),
        _ => None,
    }
}

fn string_field(value: &Value, key: &str) -> Option<String> {
    match field(value, key) {
        Some(Value::String(text)) => Some(text.clone()),
        _ => None,
    }
}

/// An operation id goes into URLs and log lines. pg-backup-api makes them
/// from the time (`20261125T171025`); anything but a short run of visible
/// ASCII is not an id it gives, and could bloat, disguise or forge log lines.
fn loggable(id: String, what: &str) -> Result<String, Problem> {
    if id.is_empty() || id.len() > MAX_ID || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Problem::Malformed(format!(
            "{what} is not an operation id (1 to {MAX_ID} visible ASCII characters): {:?}",
            one_line(&id, 40)
        )));
    }
    Ok(id)
}

/// The longest operation id accepted: four times what pg-backup-api gives.
const MAX_ID: usize = 60;

fn missing(key: &str) -> Problem {
    Problem::Malformed(format!("JSON answer lacks the string {key:?}"))
}

/// The API's own words for an error: the `error` of a JSON body (pg-backup-api's
/// 404s), else the `<p>` of an HTML page (Werkzeug's 400/405/415/500), else
/// its `<title>` (a proxy's 502), else the start of the text, else the reason.
pub fn error_message(response: &Response) -> String {
    let text = String::from_utf8_lossy(&response.body);
    let code_prefix = format!("{} ", response.status);
    if let Ok(value) = parse_json(&text) {
        if let Some(error) = string_field(&value, "error") {
            // "404 Not Found: Server 'x' does not exist" -> "Server 'x' does not exist"
            let bare = match error.split_once(": ") {
                Some((head, rest)) if head.starts_with(&code_prefix) => rest,
                _ => &error,
            };
            return sentence(bare);
        }
    }
    let html = element(&text, "p")
        .or_else(|| element(&text, "title"))
        .or_else(|| element(&text, "h1"));
    let message = match html {
        Some(inner) => decode_entities(&strip_tags(inner)),
        None if !text.trim_start().starts_with('<') => text.to_string(),
        None => String::new(),
    };
    let message = sentence(&message);
    if message.is_empty() {
        one_line(&response.reason, 80)
    } else {
        message
    }
}

/// The text between the first `<tag ...>` and the next `</tag>`, any case.
fn element<'a>(html: &'a str, tag: &str) -> Option<&'a str> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{tag}");
    let mut from = 0;
    while let Some(at) = lower[from..].find(&open).map(|i| i + from) {
        let after = lower.as_bytes().get(at + open.len()).copied();
        if matches!(after, Some(b'>' | b' ' | b'\t' | b'\n' | b'\r')) {
            let start = at + lower[at..].find('>')? + 1;
            let end = start + lower[start..].find(&format!("</{tag}>"))?;
            return Some(&html[start..end]);
        }
        from = at + open.len();
    }
    None
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Decodes the entities HTML error pages use: named basics and numeric ones.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // Within 10 bytes: a search to the end of the text for each `&`
        // would take minutes over a page of 1 MiB of them.
        let end = rest.bytes().take(11).position(|b| b == b';');
        let decoded = end.and_then(|end| {
            let c = match &rest[1..end] {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                num => num
                    .strip_prefix("#x")
                    .or_else(|| num.strip_prefix("#X"))
                    .map(|hex| u32::from_str_radix(hex, 16))
                    .or_else(|| num.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
