//! Turning a failed call into the typed sandbox error it deserves. The order matters: a
//! refused memory growth explains the trap that follows it; a deadline interrupt is a
//! timeout; a Rust panic leaves its message on the captured stderr; anything else is a
//! trap (or an instantiation failure).

use wharf_domain::connector::ConnectorError;

use crate::context::Redactor;

/// Longest panic / trap message kept.
const MAX_MESSAGE: usize = 1024;

/// What the runtime observed about a failed call besides the error itself.
pub(crate) struct Facts<'a> {
    /// Memory cap, when the limiter refused a growth during the call.
    pub memory_refused_cap: Option<usize>,
    /// The call's deadline in milliseconds.
    pub timeout_ms: u64,
    /// The call's fuel budget, when the runtime meters fuel.
    pub fuel_budget: Option<u64>,
    /// The plugin's captured stderr.
    pub stderr: &'a [u8],
    /// Whether the failure happened while instantiating (before the export ran).
    pub instantiating: bool,
    pub redactor: &'a Redactor,
}

pub(crate) fn classify(err: &wasmtime::Error, facts: &Facts<'_>) -> ConnectorError {
    if let Some(cap) = facts.memory_refused_cap {
        return ConnectorError::MemoryLimit(cap as u64);
    }
    if let Some(wasmtime::Trap::Interrupt) = err.downcast_ref::<wasmtime::Trap>() {
        return ConnectorError::Timeout(facts.timeout_ms);
    }
    if let Some(wasmtime::Trap::OutOfFuel) = err.downcast_ref::<wasmtime::Trap>() {
        return ConnectorError::Trap(out_of_fuel_message(facts.fuel_budget));
    }
    let stderr = String::from_utf8_lossy(facts.stderr);
    if let Some(msg) = panic_message(&stderr) {
        return ConnectorError::Panic(truncate(&facts.redactor.redact(&msg)));
    }
    if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return ConnectorError::Trap(format!("the plugin exited with status {}", exit.0));
    }
    let detail = truncate(&facts.redactor.redact(&format!("{err:#}")));
    if let Some(trap) = err.downcast_ref::<wasmtime::Trap>() {
        return ConnectorError::Trap(truncate(&format!("{trap}: {detail}")));
    }
    if facts.instantiating {
        ConnectorError::Instantiate(detail)
    } else {
        ConnectorError::Trap(detail)
    }
}

/// The message of an out-of-fuel trap; starts with "out of fuel" (the harness keys on it).
pub(crate) fn out_of_fuel_message(budget: Option<u64>) -> String {
    match budget {
        Some(b) => format!("out of fuel: the call used its whole budget of {b} instructions"),
        None => "out of fuel".to_string(),
    }
}

/// The message of a Rust panic as the standard library prints it to stderr:
/// `thread '<unnamed>' panicked at src/lib.rs:1:2:\n<message>\nnote: …`.
pub(crate) fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.find("panicked at ")? + "panicked at ".len();
    let rest = &stderr[start..];
    // Old format: panicked at 'message', src/lib.rs:1:2
    if let Some(quoted) = rest.strip_prefix('\'') {
        if let Some(end) = quoted.find("', ") {
            return Some(quoted[..end].to_string());
        }
    }
    let (location, body) = rest.split_once('\n').unwrap_or((rest, ""));
    let body = body.split("\nnote: ").next().unwrap_or("");
    let body = body.strip_prefix("note: ").map_or(body, |_| "");
    let msg = body.trim();
    Some(if msg.is_empty() {
        format!("panic at {}", location.trim_end_matches(':'))
    } else {
        msg.to_string()
    })
}

fn truncate(s: &str) -> String {
    if s.len() <= MAX_MESSAGE {
        return s.to_string();
    }
    let mut end = MAX_MESSAGE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    // The panic message is cut out of the standard library's stderr report.
    #[test]
    fn extracts_panic_messages() {
        let stderr = "thread '<unnamed>' panicked at src/lib.rs:10:5:\nboom: bad order\n\
                      second line\nnote: run with `RUST_BACKTRACE=1` environment variable\n";
        assert_eq!(
            panic_message(stderr).unwrap(),
            "boom: bad order\nsecond line"
        );
        let old = "thread 'main' panicked at 'old style', src/lib.rs:1:1\n";
        assert_eq!(panic_message(old).unwrap(), "old style");
        assert_eq!(panic_message("memory allocation of 5 bytes failed\n"), None);
        let bare = "thread '<unnamed>' panicked at src/lib.rs:3:4:\n";
        assert_eq!(panic_message(bare).unwrap(), "panic at src/lib.rs:3:4");
    }

    // Long messages are truncated on a character boundary.
    #[test]
    fn truncates_on_char_boundary() {
        let long = "é".repeat(MAX_MESSAGE);
        let t = truncate(&long);
        assert!(t.len() <= MAX_MESSAGE + '…'.len_utf8());
        assert!(t.ends_with('…'));
    }
}
