//! `wharf:connector/config`: the installation's own configuration and secrets, nothing
//! else (no other installation's, no host environment).

use crate::bindings::wharf::connector::config::Host;
use crate::state::State;

impl Host for State {
    fn get(&mut self, key: String) -> Option<String> {
        self.config.get(&key).cloned()
    }

    fn secret(&mut self, key: String) -> Option<String> {
        self.secrets.get(&key).cloned()
    }
}
