//! The unit tests of src/api/mod.rs.

use super::*;

fn response(status: u16, body: &str) -> Response {
    Response {
        status,
        reason: "Reason".into(),
        body: body.as_bytes().to_vec(),
        ..Response::default()
    }
}

#[test]
fn bodies_are_the_exact_api_shapes() {
    let recovery = NewOperation::recovery("latest", "ssh postgres@pg1", "/var/lib/pg");
    let value: Value = json::from_str(&recovery.json).unwrap();
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
fn json_too_deep_or_too_wide_is_refused_before_a_tree_is_built() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(parse_json(&nested(MAX_DEPTH)).is_ok());
    assert!(parse_json(&nested(MAX_DEPTH + 1)).is_err());
    let wide = |n: usize| format!("[{}0]", "0,".repeat(n - 1));
    assert!(parse_json(&wide(MAX_VALUES)).is_ok());
    assert!(parse_json(&wide(MAX_VALUES + 1)).is_err());
    // Brackets and commas inside strings are text, not structure.
    let quoted = format!(
        r#"{{"error": "{}\"{}"}}"#,
        "[".repeat(100),
        ",".repeat(200_000)
    );
    assert!(parse_json(&quoted).is_ok());
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
    let page =
        "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n\
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
    let started = crate::clock::system_now();
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
