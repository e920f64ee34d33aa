//! Record / replay cassettes of platform HTTP: a JSON file of interactions (method, URL,
//! request headers with secret values masked, sha256 of the request body, and the whole
//! response). [`Recorder`] wraps a real transport and saves what it sees; [`Player`] serves
//! saved responses and refuses (loudly) any request the cassette does not hold.
//!
//! Requests are matched on method + URL + body hash, with secret values masked the same
//! way on both sides. A request recorded several times is answered with its responses in
//! recorded order; asked more often than recorded, it gets the last one again.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wharf_runtime::{HttpRequest, HttpResponse, HttpTransport, TransportError, TransportFuture};

use crate::error::HarnessError;

/// The cassette file format version this crate writes and reads.
pub const CASSETTE_VERSION: u32 = 1;

/// A cassette: the platform traffic of one or more plugin calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cassette {
    pub version: u32,
    pub interactions: Vec<Interaction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interaction {
    pub request: RecordedRequest,
    pub response: RecordedResponse,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    /// The URL the plugin asked for, secret values masked as `***`.
    pub url: String,
    /// Request headers, secret values masked as `***`.
    pub headers: Vec<(String, String)>,
    /// Hex sha256 of the request body (secret values masked first).
    pub body_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as text, when it is UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body as base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

impl RecordedResponse {
    fn from_response(r: &HttpResponse) -> Self {
        let (body, body_base64) = match std::str::from_utf8(&r.body) {
            Ok(text) => (Some(text.to_string()), None),
            Err(_) => (None, Some(STANDARD.encode(&r.body))),
        };
        Self {
            status: r.status,
            headers: r.headers.clone(),
            body,
            body_base64,
        }
    }

    fn to_response(&self) -> Result<HttpResponse, String> {
        let body = match (&self.body, &self.body_base64) {
            (Some(text), _) => text.clone().into_bytes(),
            (None, Some(b64)) => STANDARD
                .decode(b64)
                .map_err(|e| format!("cassette body_base64: {e}"))?,
            (None, None) => Vec::new(),
        };
        Ok(HttpResponse {
            status: self.status,
            headers: self.headers.clone(),
            body,
        })
    }
}

impl Cassette {
    pub fn new() -> Self {
        Self {
            version: CASSETTE_VERSION,
            interactions: Vec::new(),
        }
    }

    /// Read a cassette file; a missing file, bad JSON or an unknown version is an error
    /// naming the file.
    pub fn load(path: &Path) -> Result<Cassette, HarnessError> {
        let text = std::fs::read_to_string(path).map_err(|e| HarnessError::io(path, e))?;
        let c: Cassette = serde_json::from_str(&text)
            .map_err(|e| HarnessError::Cassette(format!("{}: {e}", path.display())))?;
        if c.version != CASSETTE_VERSION {
            return Err(HarnessError::Cassette(format!(
                "{}: version {} (this harness reads version {CASSETTE_VERSION})",
                path.display(),
                c.version
            )));
        }
        Ok(c)
    }

    /// Write the cassette as pretty JSON (creating parent directories).
    pub fn save(&self, path: &Path) -> Result<(), HarnessError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| HarnessError::io(dir, e))?;
        }
        let mut text = serde_json::to_string_pretty(self).expect("a cassette serialises");
        text.push('\n');
        std::fs::write(path, text).map_err(|e| HarnessError::io(path, e))
    }
}

/// Masks secret values (4 characters or longer, longest first) in recorded text.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    values: Vec<String>,
}

impl Masker {
    pub fn new(secrets: &BTreeMap<String, String>) -> Self {
        let mut values: Vec<String> = secrets
            .values()
            .filter(|v| v.chars().count() >= 4)
            .cloned()
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        // A secret may also travel percent-encoded in a query string.
        let encoded: Vec<String> = values
            .iter()
            .map(|v| percent_encode(v))
            .filter(|e| !values.contains(e))
            .collect();
        values.extend(encoded);
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Self { values }
    }

    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "***");
            }
        }
        out
    }

    fn mask_bytes(&self, body: &[u8]) -> Vec<u8> {
        match std::str::from_utf8(body) {
            Ok(text) => self.mask(text).into_bytes(),
            Err(_) => body.to_vec(),
        }
    }

    /// The request as a cassette stores it.
    pub fn record(&self, r: &HttpRequest) -> RecordedRequest {
        RecordedRequest {
            method: r.method.to_ascii_uppercase(),
            url: self.mask(&r.url),
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), self.mask(v)))
                .collect(),
            body_sha256: hex::encode(Sha256::digest(self.mask_bytes(&r.body))),
        }
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What a replayed request is matched on: method, masked URL, body hash.
type Key = (String, String, String);

/// Recorded responses of one key, and how many were served.
type Queue = (Vec<RecordedResponse>, usize);

fn key(r: &RecordedRequest) -> Key {
    (r.method.clone(), r.url.clone(), r.body_sha256.clone())
}

/// Wraps a real transport and records every exchange (failed exchanges are not recorded:
/// the plugin sees the failure).
pub struct Recorder {
    inner: Arc<dyn HttpTransport>,
    masker: Masker,
    cassette: Mutex<Cassette>,
}

impl Recorder {
    /// Record into `start` (an empty [`Cassette::new`], or a loaded one to append to).
    pub fn new(inner: Arc<dyn HttpTransport>, masker: Masker, start: Cassette) -> Self {
        Self {
            inner,
            masker,
            cassette: Mutex::new(start),
        }
    }

    /// What was recorded so far.
    pub fn cassette(&self) -> Cassette {
        self.cassette.lock().expect("cassette lock").clone()
    }
}

impl HttpTransport for Recorder {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        Box::pin(async move {
            let recorded = self.masker.record(&request);
            let response = self.inner.send(request).await?;
            self.cassette
                .lock()
                .expect("cassette lock")
                .interactions
                .push(Interaction {
                    request: recorded,
                    response: RecordedResponse::from_response(&response),
                });
            Ok(response)
        })
    }
}

/// Serves a cassette's responses; an unrecorded request fails the plugin's HTTP call with
/// a message naming it, and is remembered ([`Player::misses`]).
pub struct Player {
    masker: Masker,
    queues: Mutex<HashMap<Key, Queue>>,
    misses: Mutex<Vec<String>>,
}

impl Player {
    pub fn new(cassette: &Cassette, masker: Masker) -> Self {
        let mut queues: HashMap<Key, Queue> = HashMap::new();
        for i in &cassette.interactions {
            queues
                .entry(key(&i.request))
                .or_default()
                .0
                .push(i.response.clone());
        }
        Self {
            masker,
            queues: Mutex::new(queues),
            misses: Mutex::new(Vec::new()),
        }
    }

    /// Requests the plugin made that the cassette does not hold (`METHOD url`).
    pub fn misses(&self) -> Vec<String> {
        self.misses.lock().expect("misses lock").clone()
    }

    fn answer(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let recorded = self.masker.record(request);
        let mut queues = self.queues.lock().expect("cassette lock");
        let Some((responses, next)) = queues.get_mut(&key(&recorded)) else {
            let miss = format!("{} {}", recorded.method, recorded.url);
            self.misses.lock().expect("misses lock").push(miss.clone());
            return Err(TransportError::Other(format!(
                "cassette: unrecorded request {miss} (body sha256 {}); re-record the cassette",
                recorded.body_sha256
            )));
        };
        let i = (*next).min(responses.len() - 1);
        *next += 1;
        responses[i].to_response().map_err(TransportError::Other)
    }
}

impl HttpTransport for Player {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        let answer = self.answer(&request);
        Box::pin(async move { answer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(url: &str, token: &str) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            url: url.into(),
            headers: vec![("X-Token".into(), token.into())],
            body: Vec::new(),
        }
    }

    struct Fixed(u16);
    impl HttpTransport for Fixed {
        fn send(&self, _r: HttpRequest) -> TransportFuture<'_> {
            let s = self.0;
            Box::pin(async move { Ok(HttpResponse::new(s, format!("status {s}"))) })
        }
    }

    fn masker() -> Masker {
        Masker::new(&BTreeMap::from([("token".into(), "s3cret/value".into())]))
    }

    // Recording masks secret values in headers and URLs (plain and percent-encoded).
    #[tokio::test]
    async fn recording_masks_secrets() {
        let rec = Recorder::new(Arc::new(Fixed(200)), masker(), Cassette::new());
        rec.send(req("http://h/x?t=s3cret%2Fvalue", "s3cret/value"))
            .await
            .unwrap();
        let c = rec.cassette();
        let text = serde_json::to_string(&c).unwrap();
        assert!(!text.contains("s3cret"), "{text}");
        assert_eq!(c.interactions[0].request.url, "http://h/x?t=***");
        assert_eq!(
            c.interactions[0].request.headers,
            vec![("x-token".to_string(), "***".to_string())]
        );
    }

    // Replay serves recorded responses in order, repeats the last, and refuses the rest.
    #[tokio::test]
    async fn replay_serves_in_order_and_refuses_unrecorded() {
        let mut c = Cassette::new();
        for status in [200, 503] {
            c.interactions.push(Interaction {
                request: masker().record(&req("http://h/a", "s3cret/value")),
                response: RecordedResponse::from_response(&HttpResponse::new(status, "x")),
            });
        }
        let p = Player::new(&c, masker());
        let statuses: Vec<u16> = [0, 1, 2]
            .iter()
            .map(|_| p.answer(&req("http://h/a", "s3cret/value")).unwrap().status)
            .collect();
        assert_eq!(statuses, vec![200, 503, 503]);
        let miss = p.answer(&req("http://h/b", "s3cret/value"));
        assert!(
            matches!(&miss, Err(TransportError::Other(m)) if m.contains("unrecorded request GET http://h/b")),
            "{miss:?}"
        );
        assert_eq!(p.misses(), vec!["GET http://h/b".to_string()]);
    }

    // Non-UTF-8 bodies survive a save / load round trip as base64.
    #[test]
    fn binary_bodies_round_trip() {
        let r = HttpResponse::new(200, vec![0xff, 0x00, 0x10]);
        let rec = RecordedResponse::from_response(&r);
        assert!(rec.body.is_none());
        assert_eq!(rec.to_response().unwrap(), r);
    }
}
