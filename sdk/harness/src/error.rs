//! The harness's one error type: what stops a run or a suite before any check can say
//! PASS or FAIL (unreadable files, bad fixtures, a component that does not load).

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("manifest: {0}")]
    Manifest(String),
    #[error("fixtures: {0}")]
    Fixtures(String),
    #[error("cassette: {0}")]
    Cassette(String),
    #[error("input: {0}")]
    Input(String),
    #[error("the plugin could not be loaded: {0}")]
    Load(#[from] wharf_runtime::RuntimeError),
    #[error("scaffold: {0}")]
    Scaffold(String),
}

impl HarnessError {
    pub fn io(path: &Path, e: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}
