//! `config-switch`: on a role change that `--switch-when` names, apply a
//! Barman config model (or reset it) through one operation, followed to its
//! end.

use super::session::Session;
use crate::api::NewOperation;
use crate::cli::{Change, ConfigSwitch};
use crate::outcome::Outcome;
use crate::sub::Sub;

pub(super) fn run(session: &Session, job: &ConfigSwitch) -> Outcome {
    let change = match &job.change {
        Ok(change) => change,
        Err(why) => {
            session.log.error(&format!("Invalid config switch: {why}."));
            return Outcome::InvalidModel;
        }
    };
    if !job.switch_when.applies_to(&job.role) {
        session.log.info(&format!(
            "Config switch operation was skipped (role={}, switch_when={}).",
            job.role,
            job.switch_when.name()
        ));
        return Outcome::Skipped;
    }
    let model = match change {
        Change::Model(name) => Some(name.as_str()),
        Change::Reset => None,
    };
    session.execute(
        Sub::ConfigSwitch,
        &job.server,
        &NewOperation::config_switch(model),
    )
}
