//! Where a harness call's HTTP goes: the network (the production path), a recording of
//! the network into a cassette, a cassette replay, or a canned failure status.

use std::path::PathBuf;
use std::sync::Arc;

use wharf_runtime::{
    EgressPolicy, HttpRequest, HttpResponse, HttpTransport, NetworkTransport, TransportFuture,
};

use crate::cassette::{Cassette, Masker, Player, Recorder};
use crate::error::HarnessError;

/// How HTTP is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpMode {
    /// The production egress path, unchanged.
    Network,
    /// The production egress path, saved into this cassette file (appending to it when it
    /// exists).
    Record(PathBuf),
    /// Responses from this cassette file only.
    Replay(PathBuf),
}

/// An opened [`HttpMode`].
pub struct Traffic {
    transport: Option<Arc<dyn HttpTransport>>,
    recorder: Option<(Arc<Recorder>, PathBuf)>,
    player: Option<Arc<Player>>,
}

impl Traffic {
    /// Open `mode` for an installation with `secrets` (masked in cassettes) and `policy`
    /// (the network path's routing).
    pub fn open(
        mode: &HttpMode,
        masker: Masker,
        policy: EgressPolicy,
    ) -> Result<Traffic, HarnessError> {
        Ok(match mode {
            HttpMode::Network => Traffic {
                transport: None,
                recorder: None,
                player: None,
            },
            HttpMode::Record(path) => {
                let start = if path.exists() {
                    Cassette::load(path)?
                } else {
                    Cassette::new()
                };
                let rec = Arc::new(Recorder::new(
                    Arc::new(NetworkTransport::new(policy)),
                    masker,
                    start,
                ));
                Traffic {
                    transport: Some(rec.clone()),
                    recorder: Some((rec, path.clone())),
                    player: None,
                }
            }
            HttpMode::Replay(path) => {
                let player = Arc::new(Player::new(&Cassette::load(path)?, masker));
                Traffic {
                    transport: Some(player.clone()),
                    recorder: None,
                    player: Some(player),
                }
            }
        })
    }

    /// The transport to put in `CallOptions` (`None`: the network, as in production).
    pub fn transport(&self) -> Option<Arc<dyn HttpTransport>> {
        self.transport.clone()
    }

    /// Requests a replay could not answer.
    pub fn misses(&self) -> Vec<String> {
        self.player.as_ref().map(|p| p.misses()).unwrap_or_default()
    }

    /// Save a recording (no-op otherwise).
    pub fn finish(&self) -> Result<(), HarnessError> {
        match &self.recorder {
            Some((rec, path)) => rec.cassette().save(path),
            None => Ok(()),
        }
    }
}

/// Answers every request with one status (and headers), for error-mapping checks.
#[derive(Debug, Clone)]
pub struct StatusTransport {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl StatusTransport {
    pub fn new(status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        Self {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_string(),
        }
    }
}

impl HttpTransport for StatusTransport {
    fn send(&self, _request: HttpRequest) -> TransportFuture<'_> {
        let resp = HttpResponse {
            status: self.status,
            headers: self.headers.clone(),
            body: self.body.clone().into_bytes(),
        };
        Box::pin(async move { Ok(resp) })
    }
}
