//! The `wasi:http` send hook: every outgoing request of a plugin passes the
//! [`granter`](crate::granter), is routed (resolver override, literal IP or DNS with the
//! resolved addresses re-checked), and is sent by `wasmtime_wasi_http::default_send_request`
//! with bounded timeouts. A call with a harness transport ([`crate::HttpTransport`]) sends
//! granted requests through it instead (the granter still decides first).
//!
//! Routing: for `http`, the request connects to exactly the address that was checked (the
//! URI authority is rewritten to it; the `Host` header keeps the plugin's host). For
//! `https` to a DNS name, the name is kept so TLS verifies the certificate against it: a
//! DNS answer that changes between the check and the connect cannot reach an internal
//! service without a valid certificate for the plugin's host name. A resolver override
//! always connects to the override address (TLS then verifies that IP; overrides are
//! meant for plain-HTTP simulators).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};
use wharf_domain::connector::LogLevel;

use crate::context::{EgressPolicy, LogSink};
use crate::granter::{self, Refusal};
use crate::transport::{self, HttpRequest, HttpResponse, HttpTransport};

/// Longest wait for a TCP (and TLS) connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for the response head.
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest silence between two chunks of a response body.
const BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest wait for a DNS answer.
const DNS_TIMEOUT: Duration = Duration::from_secs(5);

type SendResult = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)>;

/// Per-call egress hooks of one installation.
pub(crate) struct EgressHooks {
    policy: Arc<EgressPolicy>,
    logs: Arc<dyn LogSink>,
    installation_id: i64,
    /// Harness transport replacing the network, when the call has one.
    transport: Option<Arc<dyn HttpTransport>>,
}

impl EgressHooks {
    pub(crate) fn new(
        policy: Arc<EgressPolicy>,
        logs: Arc<dyn LogSink>,
        installation_id: i64,
    ) -> Self {
        Self {
            policy,
            logs,
            installation_id,
            transport: None,
        }
    }

    /// Send granted requests through `transport` instead of the network.
    pub(crate) fn with_transport(mut self, transport: Option<Arc<dyn HttpTransport>>) -> Self {
        self.transport = transport;
        self
    }
}

/// Where a granted request goes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// Connect to this address (rewrite the URI authority to it).
    Address(SocketAddr),
    /// Keep the URI as it is (TLS to a checked DNS name).
    AsIs,
}

#[derive(Debug)]
pub(crate) enum RouteError {
    Refused(String, Refusal),
    Dns(String),
    InvalidUri,
}

impl WasiHttpHooks for EgressHooks {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let policy = self.policy.clone();
        let logs = self.logs.clone();
        let installation_id = self.installation_id;
        let harness = self.transport.clone();
        Box::new(async move {
            let refused = |host: String, refusal: Refusal| {
                let message = format!("egress to {host} refused: {refusal}");
                tracing::warn!(installation_id, %host, "{message}");
                logs.log(installation_id, LogLevel::Warn, &message);
                wasmtime_wasi_http::Error::HttpRequestDenied
            };
            if let Some(transport) = harness {
                // Same grant decision as production; routing is the transport's business.
                let raw_host = request
                    .uri()
                    .host()
                    .ok_or(wasmtime_wasi_http::Error::HttpRequestUriInvalid)?;
                let host = granter::normalize_host(raw_host);
                granter::check_host(&policy, &host).map_err(|r| refused(host.clone(), r))?;
                let req = collect_request(request).await?;
                let resp = transport.send(req).await.map_err(|e| e.into_wasi())?;
                return into_wasi_response(resp);
            }
            let route = match route(&policy, request.uri()).await {
                Ok(route) => route,
                Err(RouteError::Refused(host, refusal)) => return Err(refused(host, refusal)),
                Err(RouteError::Dns(reason)) => {
                    return Err(wasmtime_wasi_http::Error::DnsError {
                        rcode: Some(reason),
                        info_code: None,
                    })
                }
                Err(RouteError::InvalidUri) => {
                    return Err(wasmtime_wasi_http::Error::HttpRequestUriInvalid)
                }
            };
            apply_route(&mut request, route)?;
            let (response, io) =
                wasmtime_wasi_http::default_send_request(request, Some(bounded(options))).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// Point a request at its route's address (the `Host` header keeps the plugin's host).
pub(crate) fn apply_route<B>(
    request: &mut http::Request<B>,
    route: Route,
) -> Result<(), wasmtime_wasi_http::Error> {
    if let Route::Address(addr) = route {
        *request.uri_mut() = with_authority(request.uri(), addr)
            .ok_or(wasmtime_wasi_http::Error::HttpRequestUriInvalid)?;
    }
    Ok(())
}

/// Read a plugin's request whole, for a harness transport.
async fn collect_request(
    request: http::Request<WasiBody>,
) -> Result<HttpRequest, wasmtime_wasi_http::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(HttpRequest {
        method: parts.method.to_string(),
        url: parts.uri.to_string(),
        headers: transport::headers_of(&parts.headers),
        body: body.to_vec(),
    })
}

/// A harness transport's response as `wasi:http` hands it to the plugin.
fn into_wasi_response(resp: HttpResponse) -> SendResult {
    let internal = |e: String| wasmtime_wasi_http::Error::InternalError(Some(e));
    let mut builder = http::Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        builder = builder.header(k, v);
    }
    let body = http_body_util::Full::new(bytes::Bytes::from(resp.body))
        .map_err(|never| match never {})
        .boxed_unsync();
    let response = builder
        .body(body)
        .map_err(|e| internal(format!("harness response: {e}")))?;
    Ok((
        response,
        Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
    ))
}

/// The plugin's timeouts, capped by the sandbox's.
pub(crate) fn bounded(options: Option<RequestOptions>) -> RequestOptions {
    let cap = |asked: Option<Duration>, max: Duration| Some(asked.map_or(max, |a| a.min(max)));
    let o = options.unwrap_or_default();
    RequestOptions {
        connect_timeout: cap(o.connect_timeout, CONNECT_TIMEOUT),
        first_byte_timeout: cap(o.first_byte_timeout, FIRST_BYTE_TIMEOUT),
        between_bytes_timeout: cap(o.between_bytes_timeout, BETWEEN_BYTES_TIMEOUT),
    }
}

fn with_authority(uri: &http::Uri, addr: SocketAddr) -> Option<http::Uri> {
    let mut parts = uri.clone().into_parts();
    parts.authority = Some(addr.to_string().parse().ok()?);
    http::Uri::from_parts(parts).ok()
}

pub(crate) async fn route(policy: &EgressPolicy, uri: &http::Uri) -> Result<Route, RouteError> {
    let raw_host = uri.host().ok_or(RouteError::InvalidUri)?;
    let host = granter::normalize_host(raw_host);
    granter::check_host(policy, &host).map_err(|r| RouteError::Refused(host.clone(), r))?;
    if let Some(addr) = policy
        .resolve
        .iter()
        .find(|(name, _)| granter::normalize_host(name) == host)
        .map(|(_, addr)| *addr)
    {
        return Ok(Route::Address(addr));
    }
    let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    if let Ok(ip) = host.parse::<IpAddr>() {
        granter::check_address(&host, ip).map_err(|r| RouteError::Refused(host.clone(), r))?;
        return Ok(Route::Address(SocketAddr::new(ip, port)));
    }
    let lookup = tokio::time::timeout(DNS_TIMEOUT, tokio::net::lookup_host((host.as_str(), port)))
        .await
        .map_err(|_| RouteError::Dns(format!("DNS lookup of {host} timed out")))?
        .map_err(|e| RouteError::Dns(format!("DNS lookup of {host} failed: {e}")))?;
    let addrs: Vec<SocketAddr> = lookup.collect();
    // A name with any internal address is refused as a whole: mixing public and internal
    // answers is how DNS rebinding gets in.
    for addr in &addrs {
        granter::check_address(&host, addr.ip())
            .map_err(|r| RouteError::Refused(host.clone(), r))?;
    }
    let first = *addrs
        .first()
        .ok_or_else(|| RouteError::Dns(format!("DNS lookup of {host} returned no address")))?;
    Ok(if https {
        Route::AsIs
    } else {
        Route::Address(first)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> EgressPolicy {
        EgressPolicy {
            manifest_hosts: vec!["*.shop.test".into(), "localhost".into(), "127.0.0.1".into()],
            granted_hosts: vec![
                "demo.shop.test".into(),
                "localhost".into(),
                "127.0.0.1".into(),
            ],
            resolve: [("demo.shop.test".to_string(), "127.0.0.1:9".parse().unwrap())].into(),
        }
    }

    // A resolver override routes a granted host to the pinned address, port included.
    #[tokio::test]
    async fn override_routes_to_pinned_address() {
        let uri: http::Uri = "http://DEMO.shop.test:8080/x".parse().unwrap();
        assert_eq!(
            route(&policy(), &uri).await.unwrap(),
            Route::Address("127.0.0.1:9".parse().unwrap())
        );
    }

    // An override does not bypass the grant: an ungranted host stays refused.
    #[tokio::test]
    async fn override_does_not_grant_the_name() {
        let mut p = policy();
        p.resolve
            .insert("other.shop.test".into(), "127.0.0.1:9".parse().unwrap());
        let uri: http::Uri = "http://other.shop.test/".parse().unwrap();
        assert!(matches!(
            route(&p, &uri).await,
            Err(RouteError::Refused(_, Refusal::NotGranted))
        ));
    }

    // A granted name that resolves to loopback is refused; the literal IP is allowed.
    #[tokio::test]
    async fn loopback_needs_a_literal_grant() {
        let uri: http::Uri = "http://localhost:1234/".parse().unwrap();
        assert!(matches!(
            route(&policy(), &uri).await,
            Err(RouteError::Refused(_, Refusal::InternalAddress(_)))
        ));
        let uri: http::Uri = "http://127.0.0.1:1234/".parse().unwrap();
        assert_eq!(
            route(&policy(), &uri).await.unwrap(),
            Route::Address("127.0.0.1:1234".parse().unwrap())
        );
    }

    // The plugin may shorten the sandbox's network timeouts but never lengthen them.
    #[test]
    fn plugin_timeouts_are_capped() {
        let o = bounded(Some(RequestOptions {
            connect_timeout: Some(Duration::from_secs(3600)),
            first_byte_timeout: Some(Duration::from_millis(5)),
            between_bytes_timeout: None,
        }));
        assert_eq!(o.connect_timeout, Some(CONNECT_TIMEOUT));
        assert_eq!(o.first_byte_timeout, Some(Duration::from_millis(5)));
        assert_eq!(o.between_bytes_timeout, Some(BETWEEN_BYTES_TIMEOUT));
    }

    // Rewriting the authority keeps scheme, path and query.
    #[test]
    fn authority_rewrite_keeps_the_path() {
        let uri: http::Uri = "http://demo.shop.test/a/b?c=d".parse().unwrap();
        let out = with_authority(&uri, "127.0.0.1:9".parse().unwrap()).unwrap();
        assert_eq!(out.to_string(), "http://127.0.0.1:9/a/b?c=d");
    }
}
