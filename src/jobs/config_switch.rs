//! `config-switch`: on a role change that `--switch-when` names, apply a
//! Barman config model (or reset it) through one operation, followed to its
//! end.

use super::session::Session;
use crate::api::NewOperation;
use crate::cli::options::key;
use crate::cli::{Opt, SwitchWhen, Typed};
use crate::outcome::Outcome;
use crate::sub::Sub;

/// `config-switch`'s options and arguments.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigSwitch {
    pub server: String,
    /// The change to apply, or why `--barman-model`/`--reset` are invalid
    /// (its own exit code, 4, as in the Python tool).
    pub change: Result<Change, String>,
    pub role: String,
    pub switch_when: SwitchWhen,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    Model(String),
    Reset,
}

/// The roles Patroni passes; `master` before Patroni 4.0.
pub(super) const ROLES: &[&str] = &[
    "primary",
    "promoted",
    "standby_leader",
    "replica",
    "demoted",
    "master",
];

impl ConfigSwitch {
    pub(super) fn read(typed: &Typed) -> Result<ConfigSwitch, String> {
        let [action, role, _cluster] = typed.positionals.as_slice() else {
            return Err(format!(
                "config-switch takes 3 arguments, ACTION ROLE CLUSTER (as Patroni's on_role_change passes them), \
                 but {} were given",
                typed.positionals.len()
            ));
        };
        if action != "on_role_change" {
            return Err(format!(
                "config-switch runs as the on_role_change callback, not {action:?}"
            ));
        }
        if !ROLES.contains(&role.as_str()) {
            return Err(format!(
                "unknown role {role:?}: expected one of {}",
                ROLES.join(", ")
            ));
        }
        let switch_when = typed.required(key::SwitchWhen)?;
        let change = change(typed).and_then(|change| {
            change.ok_or_else(|| {
                format!(
                    "one of {} or {} is required",
                    Opt::BarmanModel.flag(),
                    Opt::Reset.flag()
                )
            })
        });
        Ok(ConfigSwitch {
            server: typed.required(key::BarmanServer)?,
            change,
            role: role.clone(),
            switch_when,
        })
    }
}

/// The change `--barman-model` or `--reset` asks for, if any (`check`
/// proves it too).
pub(super) fn change(typed: &Typed) -> Result<Option<Change>, String> {
    match (typed.text(key::BarmanModel), typed.flag(key::Reset)) {
        (None, false) => Ok(None),
        (Some(_), true) => Err(format!(
            "{} and {} exclude each other",
            Opt::BarmanModel.flag(),
            Opt::Reset.flag()
        )),
        (Some(""), false) => Err(format!("{} must not be empty", Opt::BarmanModel.flag())),
        (Some(model), false) => Ok(Some(Change::Model(model.to_string()))),
        (None, true) => Ok(Some(Change::Reset)),
    }
}

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
