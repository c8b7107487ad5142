//! `wait`: follows an operation left running, until it ends (the log lines
//! that say an operation goes on print this command: src/jobs/resume.rs).

use super::session::{unknown_to_the_api, Session};
use crate::api::{Kind, Listed};
use crate::cli::options::key;
use crate::cli::Typed;
use crate::failure::{Hint, Problem, Request};
use crate::outcome::Outcome;
use crate::rules::poll::End;
use crate::sub::Sub;

/// `wait`: follow an operation that already exists.
#[derive(Debug, PartialEq, Eq)]
pub struct Wait {
    pub server: String,
    pub id: String,
}

impl Wait {
    pub(super) fn read(typed: &Typed) -> Result<Wait, String> {
        Ok(Wait {
            server: typed
                .without_arguments(Sub::Wait)?
                .required(key::BarmanServer)?,
            id: typed.required(key::OperationId)?,
        })
    }
}

/// Follows an operation left running, whose kind the list tells.
pub(super) fn run(session: &Session, job: &Wait) -> Outcome {
    let (server, id) = (job.server.as_str(), job.id.as_str());
    session.note_following("operation", server, id);
    if let Err(outcome) = session.check_status() {
        return outcome;
    }
    // The list tells the kind, and whether the operation exists at all:
    // a 404 on a poll can be the real server's under load.
    let listed = session.read_list(session.retrier(), server, |found, op: Listed| {
        if op.id == id {
            *found = Some(op);
        }
    });
    let kind = match listed {
        Ok((found, _)) => match found {
            Some(entry) => Kind::from_api_type(&entry.api_type),
            None => {
                let gone = Problem::Gone("it is not in the server's list of operations".into());
                return session.report(Sub::Wait, "operation", server, id, End::Error(gone));
            }
        },
        Err(problem) if problem.rule(Request::List).hint == Hint::UnknownName => {
            session
                .log
                .error(&unknown_to_the_api(server, problem.detail()));
            return Outcome::ApiError(Sub::Wait);
        }
        // Unread: polls may still get through.
        Err(_) => None,
    };
    let noun = kind.map_or("operation".into(), |k| format!("{} operation", k.label()));
    session.follow(Sub::Wait, &noun, server, id)
}
