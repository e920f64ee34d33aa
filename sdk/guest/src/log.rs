//! Logs, attributed by the host to the installation.

use crate::bindings::wharf::connector::log as host;
pub use crate::bindings::wharf::connector::log::Level;

pub fn log(level: Level, message: &str) {
    host::log(level, message)
}
pub fn info(message: &str) {
    log(Level::Info, message)
}
pub fn warn(message: &str) {
    log(Level::Warn, message)
}
pub fn debug(message: &str) {
    log(Level::Debug, message)
}
