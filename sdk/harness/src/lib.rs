//! The Wharf plugin harness: run one export, record / replay platform traffic, freeze the
//! clock, and run the acceptance suite — all under the production sandbox of
//! `wharf-runtime` (same limits, same egress granter), with fuel metering on. The `wharf
//! plugin run | test | new` commands are thin wrappers over this crate.
//!
//! Layout:
//! - [`session`]: a plugin under test ([`Session`]): the component in a fuel-metered
//!   runtime, one [`Installation`], harness options; every call logged with its cost.
//! - [`cassette`]: the cassette file format, [`cassette::Recorder`] and
//!   [`cassette::Player`], secret masking.
//! - [`traffic`]: network / record / replay ([`HttpMode`]) and canned error statuses.
//! - [`run`]: `wharf plugin run` ([`run::run`], [`RunSpec`]).
//! - [`suite`]: `wharf plugin test`, the acceptance checks and their [`Report`].
//! - [`suite_kinds`]: the courier and accounting checks (sample request and journals).
//! - [`fixtures`]: the fixtures directory format (`fixtures.json`, `cassette.json`,
//!   `webhook.json`).
//! - [`scaffold`]: `wharf plugin new` and its templates (`templates/marketplace/`).
//! - [`render`]: results, errors and call reports as JSON.
//! - [`clock`]: RFC 3339 ↔ Unix ms for the frozen clock.
//! - [`error`]: [`HarnessError`], what stops a run before a check can report.

pub mod cassette;
pub mod clock;
pub mod error;
pub mod fixtures;
pub mod render;
pub mod run;
pub mod scaffold;
pub mod session;
pub mod suite;
pub mod suite_kinds;
pub mod traffic;

pub use error::HarnessError;
pub use fixtures::{Budget, Fixtures};
pub use run::{Export, RunOutput, RunSpec};
pub use session::{Installation, Session};
pub use suite::{run_suite, Check, Report, Status, SuiteHttp, SuiteSpec};
pub use traffic::HttpMode;
