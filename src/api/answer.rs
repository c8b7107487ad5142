//! What pg-backup-api's answers must look like, apart from the requests
//! (src/api/mod.rs) so that they can be fuzzed (src/lib.rs, `fuzzing`)
//! without a server: the JSON of each endpoint, an error's own words, and
//! what a log line may take of them. Anything unexpected becomes a
//! `Problem`.

use super::html;
use super::json::parse_json;
use crate::failure::Problem;
use crate::text::{one_line, quoted, sentence};
use crate::transport::Response;
use miniserde::json::Value;

/// Where an operation stands.
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

/// The text of a 2xx answer, or a `Problem` carrying the API's message.
pub(super) fn answer_text(response: &Response) -> Result<&str, Problem> {
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

pub(super) fn string_field(value: &Value, key: &str) -> Option<String> {
    match field(value, key) {
        Some(Value::String(text)) => Some(text.clone()),
        _ => None,
    }
}

/// An operation id goes into URLs and log lines. pg-backup-api makes them
/// from the time (`20261125T171025`); anything but a short run of visible
/// ASCII is not an id it gives, and could bloat, disguise or forge log lines.
pub(super) fn loggable(id: String, what: &str) -> Result<String, Problem> {
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

pub(super) fn missing(key: &str) -> Problem {
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
    let message = match html::page_text(&text) {
        Some(words) => words,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::scan_bytes;
    use miniserde::json;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            reason: "Reason".into(),
            body: body.as_bytes().to_vec(),
            ..Response::default()
        }
    }

    #[test]
    fn json_errors_lose_their_status_prefix() {
        let r = response(
            404,
            r#"{"error": "404 Not Found: Server 'nosuch' does not exist"}"#,
        );
        assert_eq!(error_message(&r), "Server 'nosuch' does not exist");
        let r = response(404, r#"{"error": "Resource not found"}"#);
        assert_eq!(error_message(&r), "Resource not found");
    }

    #[test]
    fn only_pg_backup_apis_own_404s_name_a_resource() {
        let own = |body: &str| decode(response(404, body));
        let config = r#"{"error": "404 Not Found: No barman config found for 'pg1'."}"#;
        assert_eq!(
            own(config).err(),
            Some(Problem::NotFound("No barman config found for 'pg1'".into()))
        );
        let routing = r#"{"error": "404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."}"#;
        let proxy = "<html><title>404 Not Found</title></html>";
        for body in [routing, proxy] {
            assert!(
                matches!(own(body), Err(Problem::Status { code: 404, .. })),
                "{body}"
            );
        }
    }

    #[test]
    fn html_pages_give_their_paragraph_with_entities_decoded() {
        let page = "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n\
                    <p>Request body is missing ``backup_id`` &#39;x&#x27; &amp;\n more</p>\n";
        assert_eq!(
            error_message(&response(400, page)),
            "Request body is missing ``backup_id`` 'x' & more"
        );
        let nginx = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
        assert_eq!(error_message(&response(502, nginx)), "502 Bad Gateway");
        assert_eq!(error_message(&response(503, "")), "Reason");
        assert_eq!(
            error_message(&response(503, "busy\r\n\x1b[31m now")),
            "busy [31m now"
        );
        assert_eq!(
            error_message(&response(500, "<p>&bogus; &#xZZ; &</p>")),
            "&bogus; &#xZZ; &"
        );
    }

    #[test]
    fn a_redirect_location_is_made_one_line() {
        // Found when minreq, which kept control characters in header
        // values, was the http:// client.
        let r = Response {
            status: 302,
            location: Some("http://x/\x1b[31m\rINFO: fake".into()),
            ..Response::default()
        };
        let Err(Problem::Status { location, .. }) = decode(r) else {
            panic!()
        };
        assert_eq!(location.as_deref(), Some("http://x/[31m INFO: fake"));
    }

    #[test]
    fn entities_are_decoded_in_linear_time() {
        // 44 s for this page before (release build).
        let page = format!("<p>{}</p>", "&".repeat(crate::transport::MAX_BODY - 7));
        let started = std::time::Instant::now();
        let message = error_message(&response(500, &page));
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
        assert_eq!(message, format!("{}...", "&".repeat(300)));
    }

    #[test]
    fn only_short_visible_ascii_operation_ids_are_taken() {
        // Found by fuzzing (fuzz/fuzz_targets/response.rs): an id goes into
        // log lines as it is. Then by hand: huge ids, blank ones, and
        // invisible or bidi characters that disguise a line.
        let value = |text: &str| json::from_str::<Value>(text).unwrap();
        let long = format!("{:?}", "9".repeat(61));
        for bad in [
            r#""20261125T171025\nINFO: done""#,
            r#""""#,
            r#""   ""#,
            r#""2026\u202e1125""#,
            r#""2026\u200b1125""#,
            &long,
        ] {
            let created = value(&format!(r#"{{"operation_id": {bad}}}"#));
            let problem = created_id(&created).unwrap_err();
            assert!(matches!(problem, Problem::Malformed(_)), "{bad}");
            assert!(problem.to_string().len() < 160, "{problem}");
        }
        let good = br#"{"operations": [{"id": "20261125T171025", "type": "recovery"}]}"#;
        assert_eq!(scan_bytes(good, 7).unwrap().0[0].id, "20261125T171025");
        let good = value(r#"{"operation_id": "20261125T171025"}"#);
        assert_eq!(created_id(&good).unwrap(), "20261125T171025");
    }

    #[test]
    fn an_unknown_status_is_quoted_short() {
        let answer = Value::Object(
            [("status".to_string(), Value::String("X".repeat(10_000)))]
                .into_iter()
                .collect(),
        );
        let message = operation_state(&answer).unwrap_err().to_string();
        assert!(message.len() < 120, "{message}");
    }

    #[test]
    fn messages_have_no_stray_spaces_and_keep_their_cut_mark() {
        // Found by fuzzing (fuzz/fuzz_targets/response.rs): a control
        // character between spaces left two spaces, or one at an end, and
        // the final period was trimmed after the cut, taking its "..." along.
        assert_eq!(one_line("a \x01 b \x1b", 10), "a b");
        assert_eq!(one_line("\x7f a", 10), "a");
        let long = format!("{}.", "word ".repeat(100));
        let message = error_message(&response(400, &format!("<p>{long}</p>")));
        assert_eq!(message, format!("{}...", "word ".repeat(60).trim_end()));
        let message = error_message(&response(404, r#"{"error": "Gone . \u0001"}"#));
        assert_eq!(message, "Gone");
    }
}
