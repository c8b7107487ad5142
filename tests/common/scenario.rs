//! A typed builder for the stub's scenarios (documented in the docstring of
//! scripts/stub_api.py), so that tests never escape JSON by hand.

use super::Stub;
use miniserde::json::{self, Number, Object, Value};

/// A route of the stub: which requests a fault applies to.
#[derive(Clone, Copy)]
pub enum Route {
    Status,
    List,
    Create,
    Poll,
    Diagnose,
    Any,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::Status => "status",
            Route::List => "list",
            Route::Create => "create",
            Route::Poll => "poll",
            Route::Diagnose => "diagnose",
            Route::Any => "any",
        }
    }
}

/// What the stub does instead of answering normally.
pub enum Action<'a> {
    /// Exactly this answer (HTML unless `content_type` says otherwise).
    Respond {
        code: u16,
        content_type: Option<&'a str>,
        body: &'a str,
    },
    /// A redirect to `location`.
    Redirect(u16, &'a str),
    Hang,
    Drop,
    Outage(f64),
    Delay(f64),
    Trickle(f64),
    Truncate,
    Raw(&'a str),
    Huge {
        bytes: u64,
        framing: &'a str,
    },
    /// `"500"`, `"drop"`, `"hang"` or `"tls_garbage"` after creating.
    AfterCreate(&'a str),
    Collide,
    HalfWritten,
    NoConfig,
}

impl<'a> Action<'a> {
    /// An answer with this code and an empty HTML body.
    pub fn empty(code: u16) -> Action<'a> {
        Action::page(code, "")
    }

    /// An HTML page with this code.
    pub fn page(code: u16, body: &'a str) -> Action<'a> {
        Action::Respond {
            code,
            content_type: None,
            body,
        }
    }

    /// A 200 application/json answer with this body (valid JSON or not).
    pub fn json(body: &'a str) -> Action<'a> {
        Action::Respond {
            code: 200,
            content_type: Some("application/json"),
            body,
        }
    }

    fn to_value(&self) -> Value {
        let (key, value) = match self {
            Action::Respond {
                code,
                content_type,
                body,
            } => {
                let mut answer = object(&[("code", number(*code as u64)), ("body", text(body))]);
                if let Some(ct) = content_type {
                    answer.insert("content_type".into(), text(ct));
                }
                ("respond", Value::Object(answer))
            }
            Action::Redirect(code, location) => {
                let headers = object(&[("Location", text(location))]);
                let answer = object(&[
                    ("code", number(*code as u64)),
                    ("headers", Value::Object(headers)),
                ]);
                ("respond", Value::Object(answer))
            }
            Action::Hang => ("hang", Value::Bool(true)),
            Action::Drop => ("drop", Value::Bool(true)),
            Action::Outage(s) => ("outage", float(*s)),
            Action::Delay(s) => ("delay", float(*s)),
            Action::Trickle(s) => ("trickle", float(*s)),
            Action::Truncate => ("truncate", Value::Bool(true)),
            Action::Raw(t) => ("raw", text(t)),
            Action::Huge { bytes, framing } => {
                let spec = object(&[("bytes", number(*bytes)), ("framing", text(framing))]);
                ("huge", Value::Object(spec))
            }
            Action::AfterCreate(what) => ("after_create", text(what)),
            Action::Collide => ("collide", Value::Bool(true)),
            Action::HalfWritten => ("half_written", Value::Bool(true)),
            Action::NoConfig => ("no_config", Value::Bool(true)),
        };
        Value::Object(object(&[(key, value)]))
    }
}

/// One operation's course, in creation order (the last one repeats).
#[derive(Clone, Copy)]
pub enum Course {
    /// IN_PROGRESS for this many polls, then DONE.
    DoneAfterPolls(u64),
    /// IN_PROGRESS for this long after creation, then DONE.
    DoneAfter(f64),
    /// IN_PROGRESS for this many polls, then FAILED.
    FailedAfterPolls(u64),
    Stuck,
    /// A recovery DONE after `seconds`, whose bytes arrive in the data
    /// directory over that time: `bytes` of base files, and first a
    /// tablespace of `tablespace` bytes when not zero.
    Restores {
        seconds: f64,
        bytes: u64,
        tablespace: u64,
    },
    /// DONE after `seconds`, with nothing written on this host: Barman
    /// restored where --ssh-command reached, somewhere else.
    DoneElsewhere(f64),
}

#[derive(Default)]
pub struct Scenario {
    top: Object,
    faults: Vec<Value>,
    courses: Vec<Value>,
    existing: Vec<Value>,
    /// The "servers" of "diagnose": name to SERVER spec.
    diagnose: Object,
}

impl Scenario {
    /// The real server's behaviour, nothing else.
    pub fn real() -> Scenario {
        Scenario::default()
    }

    /// `action` on the `skip`+1-th request of `route`, `times` times (-1:
    /// forever).
    pub fn fault_at(mut self, route: Route, skip: u64, times: i64, action: Action) -> Scenario {
        let times = match times {
            -1 => Value::Number(Number::I64(-1)),
            n => number(n as u64),
        };
        self.faults.push(Value::Object(object(&[
            ("route", text(route.name())),
            ("skip", number(skip)),
            ("times", times),
            ("action", action.to_value()),
        ])));
        self
    }

    /// `action` on the first request of `route`.
    pub fn fault(self, route: Route, action: Action) -> Scenario {
        self.fault_at(route, 0, 1, action)
    }

    /// `action` on every request of `route`.
    pub fn always(self, route: Route, action: Action) -> Scenario {
        self.fault_at(route, 0, -1, action)
    }

    /// The course of the next operation created (the last one repeats).
    pub fn course(mut self, course: Course) -> Scenario {
        let spec = match course {
            Course::DoneAfterPolls(n) => object(&[("in_progress_polls", number(n))]),
            Course::DoneAfter(s) => object(&[("done_after", float(s))]),
            Course::FailedAfterPolls(n) => {
                object(&[("in_progress_polls", number(n)), ("result", text("FAILED"))])
            }
            Course::Stuck => object(&[("stuck", Value::Bool(true))]),
            Course::Restores {
                seconds,
                bytes,
                tablespace,
            } => object(&[
                ("done_after", float(seconds)),
                ("restore_bytes", number(bytes)),
                ("tablespace_bytes", number(tablespace)),
            ]),
            Course::DoneElsewhere(seconds) => object(&[
                ("done_after", float(seconds)),
                ("restore_to", text("nowhere")),
            ]),
        };
        self.courses.push(Value::Object(spec));
        self
    }

    /// Routes only under `prefix`, e.g. "/pgbackup".
    pub fn prefix(mut self, prefix: &str) -> Scenario {
        self.top.insert("prefix".into(), text(prefix));
        self
    }

    /// The Barman servers the operation routes know (default: "main").
    pub fn servers(mut self, names: &[&str]) -> Scenario {
        let names = names.iter().map(|name| text(name)).collect();
        self.top.insert("servers".into(), Value::Array(names));
        self
    }

    /// The raw body of GET /status (default `"OK"`, quotes included).
    pub fn status_body(mut self, body: &str) -> Scenario {
        self.top.insert("status_body".into(), text(body));
        self
    }

    /// A recovery operation of "main" that exists before the run.
    pub fn existing_recovery(mut self, id: &str, status: &str) -> Scenario {
        self.existing.push(Value::Object(object(&[
            ("id", text(id)),
            ("type", text("recovery")),
            ("status", text(status)),
        ])));
        self
    }

    /// In /diagnose, `server`'s active model.
    pub fn active_model(mut self, server: &str, model: &str) -> Scenario {
        self.diagnose_server(server)
            .insert("active_model".into(), text(model));
        self
    }

    /// In /diagnose, a backup of `server` with this status; the first one
    /// replaces the two DONE backups every server has by default.
    pub fn backup(mut self, server: &str, id: &str, status: &str) -> Scenario {
        let backup = Value::Object(object(&[("id", text(id)), ("status", text(status))]));
        let spec = self.diagnose_server(server);
        match spec.get_mut("backups") {
            Some(Value::Array(backups)) => backups.push(backup),
            _ => {
                let backups = Value::Array([backup].into_iter().collect());
                spec.insert("backups".into(), backups);
            }
        }
        self
    }

    /// In /diagnose, a DONE backup of `server` whose `key` ("size" or
    /// "cluster_size") is `bytes`; replaces the default backups as `backup`.
    /// With "size", its `cluster_size` is null, as Barman shows a backup
    /// it did not measure so.
    pub fn backup_of_size(mut self, server: &str, id: &str, key: &str, bytes: u64) -> Scenario {
        self = self.backup(server, id, "DONE");
        if let Some(Value::Array(backups)) = self.diagnose_server(server).get_mut("backups") {
            if let Some(Value::Object(backup)) = backups.last_mut() {
                backup.insert(key.into(), number(bytes));
                if key == "size" {
                    backup.insert("cluster_size".into(), Value::Null);
                }
            }
        }
        self
    }

    /// A large /diagnose: `servers` servers of `backups` DONE backups each.
    pub fn diagnose_grow(mut self, servers: u64, backups: u64) -> Scenario {
        let spec = object(&[("servers", number(servers)), ("backups", number(backups))]);
        self.top.insert("diagnose_grow".into(), Value::Object(spec));
        self
    }

    fn diagnose_server(&mut self, name: &str) -> &mut Object {
        let spec = self
            .diagnose
            .entry(name.to_string())
            .or_insert_with(|| Value::Object(Object::new()));
        match spec {
            Value::Object(spec) => spec,
            _ => unreachable!("a server spec is an object"),
        }
    }

    /// Any other key of the stub's scenario, as JSON text.
    pub fn key(mut self, key: &str, json_text: &str) -> Scenario {
        let value = json::from_str::<Value>(json_text).expect("valid JSON");
        self.top.insert(key.into(), value);
        self
    }

    /// The scenario as the stub's --scenario takes it.
    pub fn json(&self) -> String {
        let mut top = self.top.clone();
        if !self.faults.is_empty() {
            top.insert(
                "faults".into(),
                Value::Array(self.faults.iter().cloned().collect()),
            );
        }
        if !self.courses.is_empty() {
            let courses = Value::Array(self.courses.iter().cloned().collect());
            top.insert("operations".into(), courses);
        }
        if !self.existing.is_empty() {
            let existing = Value::Array(self.existing.iter().cloned().collect());
            top.insert("existing_operations".into(), existing);
        }
        if !self.diagnose.is_empty() {
            let servers = object(&[("servers", Value::Object(self.diagnose.clone()))]);
            top.insert("diagnose".into(), Value::Object(servers));
        }
        json::to_string(&Value::Object(top))
    }

    /// A stub playing this scenario.
    pub fn start(&self) -> Stub {
        Stub::start(&self.json())
    }

    /// As `start`, with `extra` options of the stub (e.g. --tls-cert).
    pub fn start_with(&self, extra: &[&str]) -> Stub {
        Stub::start_with(&self.json(), extra)
    }
}

fn object(pairs: &[(&str, Value)]) -> Object {
    let mut object = Object::new();
    for (key, value) in pairs {
        object.insert(key.to_string(), value.clone());
    }
    object
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

fn number(n: u64) -> Value {
    Value::Number(Number::U64(n))
}

fn float(f: f64) -> Value {
    Value::Number(Number::F64(f))
}
