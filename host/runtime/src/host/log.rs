//! `wharf:connector/log`: plugin log lines to the [`LogSink`](crate::LogSink), attributed
//! to the installation, with secret values masked, each line truncated and the number of
//! lines per call bounded. One implementation; each supported contract version's `Host`
//! trait converts its level and forwards to it.

use wharf_domain::connector::LogLevel;

use crate::bindings::{v0_1, v0_2};
use crate::convert;
use crate::state::{LogBudget, State};

/// Longest log line kept, in bytes.
pub(crate) const MAX_LINE: usize = 4096;

impl v0_1::wharf::connector::log::Host for State {
    fn log(&mut self, level: v0_1::wharf::connector::log::Level, message: String) {
        self.plugin_log(convert::v0_1::log_level(level), message);
    }
}

impl v0_2::wharf::connector::log::Host for State {
    fn log(&mut self, level: v0_2::wharf::connector::log::Level, message: String) {
        self.plugin_log(convert::v0_2::log_level(level), message);
    }
}

impl State {
    fn plugin_log(&mut self, level: LogLevel, message: String) {
        if !self.logs.admit() {
            return;
        }
        let mut line = self.redactor().redact(&message);
        if line.len() > MAX_LINE {
            let mut end = MAX_LINE;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
            line.push_str("… [truncated]");
        }
        let budget = &self.logs;
        tracing::debug!(
            installation_id = budget.installation_id,
            level = level.as_str(),
            "plugin log: {line}"
        );
        budget.sink.log(budget.installation_id, level, &line);
    }
}

impl LogBudget {
    /// Counts one more line of this call: `false` once the limit is passed, after writing
    /// a single notice that further lines are dropped.
    fn admit(&mut self) -> bool {
        if self.written > self.max {
            return false;
        }
        self.written += 1;
        if self.written > self.max {
            let notice = format!(
                "log limit of {} lines per call reached; further lines of this call are dropped",
                self.max
            );
            self.sink.log(self.installation_id, LogLevel::Warn, &notice);
            return false;
        }
        true
    }
}
