//! Pluggable HTTP transport for plugin egress (harness use): a call given a
//! [`HttpTransport`] in its [`CallOptions`](crate::CallOptions) sends every request the
//! plugin makes through it instead of the network. The egress granter still runs first, so
//! a request the production sandbox would refuse is refused here too.
//!
//! [`NetworkTransport`] is the production path (resolver overrides, DNS with internal
//! addresses refused, bounded timeouts) behind the same trait, so a recording transport can
//! wrap the real network.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};

use crate::context::EgressPolicy;
use crate::egress::{self, RouteError};

/// Largest response body a [`NetworkTransport`] reads into memory.
pub const MAX_RESPONSE_BODY: usize = 32 * 1024 * 1024;

/// One outgoing request, as the plugin made it (URL with scheme and host as named by the
/// plugin, headers including the `host` header the sandbox adds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A whole response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with `status`, no headers and `body`.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// Why a transport could not produce a response. The plugin sees the matching
/// `wasi:http` error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Refused by policy (egress not granted, or a replay cassette without this request).
    #[error("request refused: {0}")]
    Refused(String),
    #[error("DNS failure: {0}")]
    Dns(String),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("{0}")]
    Other(String),
}

impl TransportError {
    pub(crate) fn into_wasi(self) -> wasmtime_wasi_http::Error {
        use wasmtime_wasi_http::Error as E;
        match self {
            Self::Refused(_) => E::HttpRequestDenied,
            Self::Dns(reason) => E::DnsError {
                rcode: Some(reason),
                info_code: None,
            },
            Self::Connect(_) => E::ConnectionRefused,
            Self::Timeout(_) => E::ConnectionTimeout,
            Self::Other(m) => E::InternalError(Some(m)),
        }
    }

    fn from_wasi(e: wasmtime_wasi_http::Error) -> Self {
        use wasmtime_wasi_http::Error as E;
        match e {
            E::HttpRequestDenied => Self::Refused("egress not granted".into()),
            E::DnsError { rcode, .. } => Self::Dns(rcode.unwrap_or_default()),
            E::ConnectionTimeout | E::ConnectionReadTimeout | E::HttpResponseTimeout => {
                Self::Timeout(e.to_string())
            }
            E::ConnectionRefused | E::ConnectionTerminated => Self::Connect(e.to_string()),
            other => Self::Other(other.to_string()),
        }
    }
}

/// The future a transport returns.
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'a>>;

/// Sends a plugin's (already granted) request somewhere and returns the whole response.
pub trait HttpTransport: Send + Sync {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_>;
}

/// The production network path as a transport: routing by the [`EgressPolicy`]
/// (resolver overrides; DNS answers with internal addresses refused) and the sandbox's
/// bounded timeouts. The response body is read whole (at most [`MAX_RESPONSE_BODY`]).
#[derive(Debug, Clone)]
pub struct NetworkTransport {
    policy: Arc<EgressPolicy>,
}

impl NetworkTransport {
    pub fn new(policy: EgressPolicy) -> Self {
        Self {
            policy: Arc::new(policy),
        }
    }
}

impl HttpTransport for NetworkTransport {
    fn send(&self, req: HttpRequest) -> TransportFuture<'_> {
        Box::pin(async move {
            let uri: http::Uri = req
                .url
                .parse()
                .map_err(|e| TransportError::Other(format!("invalid URL {:?}: {e}", req.url)))?;
            let route = egress::route(&self.policy, &uri)
                .await
                .map_err(|e| match e {
                    RouteError::Refused(host, why) => {
                        TransportError::Refused(format!("egress to {host} refused: {why}"))
                    }
                    RouteError::Dns(m) => TransportError::Dns(m),
                    RouteError::InvalidUri => TransportError::Other("invalid URI".into()),
                })?;
            let mut builder = http::Request::builder().method(req.method.as_str());
            for (k, v) in &req.headers {
                builder = builder.header(k, v);
            }
            let body = Full::new(Bytes::from(req.body))
                .map_err(|never| match never {})
                .boxed_unsync();
            let mut request = builder
                .uri(uri)
                .body(body)
                .map_err(|e| TransportError::Other(format!("building the request: {e}")))?;
            egress::apply_route(&mut request, route)
                .map_err(|_| TransportError::Other("invalid URI".into()))?;
            let (response, io) =
                wasmtime_wasi_http::default_send_request(request, Some(egress::bounded(None)))
                    .await
                    .map_err(TransportError::from_wasi)?;
            let (parts, body) = response.into_parts();
            let read = async {
                Limited::new(body, MAX_RESPONSE_BODY)
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .map_err(|e| TransportError::Other(format!("reading the response: {e}")))
            };
            let (body, io) = tokio::join!(read, io);
            let body = body?;
            io.map_err(TransportError::from_wasi)?;
            Ok(HttpResponse {
                status: parts.status.as_u16(),
                headers: headers_of(&parts.headers),
                body: body.to_vec(),
            })
        })
    }
}

pub(crate) fn headers_of(map: &http::HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}
