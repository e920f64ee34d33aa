//! `wharf:connector/config`: the installation's own configuration and secrets, nothing
//! else (no other installation's, no host environment). One implementation; each
//! supported contract version's `Host` trait forwards to it.

use crate::bindings::{v0_1, v0_2};
use crate::state::State;

impl State {
    fn config_value(&self, key: &str) -> Option<String> {
        self.config.get(key).cloned()
    }

    fn secret_value(&self, key: &str) -> Option<String> {
        self.secrets.get(key).cloned()
    }
}

impl v0_1::wharf::connector::config::Host for State {
    fn get(&mut self, key: String) -> Option<String> {
        self.config_value(&key)
    }

    fn secret(&mut self, key: String) -> Option<String> {
        self.secret_value(&key)
    }
}

impl v0_2::wharf::connector::config::Host for State {
    fn get(&mut self, key: String) -> Option<String> {
        self.config_value(&key)
    }

    fn secret(&mut self, key: String) -> Option<String> {
        self.secret_value(&key)
    }
}
