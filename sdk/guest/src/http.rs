//! A small blocking HTTP client over `wasi:http/outgoing-handler`, with the mapping from
//! HTTP failures to typed connector errors that every connector needs.
//!
//! The host filters every request through the installation's egress allowlist; a refused
//! host comes back as [`ConnectorError::Permanent`] naming it.
//!
//! API modules take a [`Transport`] instead of calling [`send`] directly:
//!
//! ```
//! use wharf_sdk::http::{Request, Response, Transport};
//! fn status(url: &str, send: Transport<'_>) -> u16 {
//!     send(Request::get(url)).map(|r| r.status).unwrap_or(0)
//! }
//! let mut fake = |_req: Request| Ok(Response { status: 204, headers: vec![], body: vec![] });
//! assert_eq!(status("https://api.example.com/ping", &mut fake), 204);
//! ```

use crate::bindings::wasi::http::outgoing_handler;
use crate::bindings::wasi::http::types::{
    ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, Scheme,
};
use crate::bindings::wasi::io::streams::StreamError;
use crate::types::ConnectorError;

/// An injected transport: what a plugin's API module sends through, so its paging and
/// error mapping are tested natively. The plugin passes `&mut wharf_sdk::http::send`,
/// tests a fake closure or a real client against a simulator.
pub type Transport<'a> = &'a mut dyn FnMut(Request) -> Result<Response, ConnectorError>;

/// Largest response body the client reads (the host's memory cap applies as well).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    pub fn post(url: impl Into<String>, body: Vec<u8>) -> Self {
        Self {
            method: "POST".into(),
            url: url.into(),
            headers: Vec::new(),
            body,
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    /// Append `key=value` pairs (percent-encoded) to the URL's query string.
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        for (k, v) in pairs {
            let sep = if self.url.contains('?') { '&' } else { '?' };
            self.url = format!("{}{sep}{}={}", self.url, encode(k), encode(v));
        }
        self
    }
    pub fn send(self) -> Result<Response, ConnectorError> {
        send(self)
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Map a non-2xx status to the connector error kind the host's retry policy expects:
    /// 401/403 → unauthorized, 429 → rate-limited (honouring `Retry-After` seconds),
    /// 5xx and 408 → transient, other 4xx → permanent.
    pub fn error_for_status(self) -> Result<Response, ConnectorError> {
        let snippet =
            || String::from_utf8_lossy(&self.body[..self.body.len().min(200)]).into_owned();
        match self.status {
            200..=299 => Ok(self),
            401 | 403 => Err(ConnectorError::Unauthorized(format!(
                "HTTP {}: {}",
                self.status,
                snippet()
            ))),
            429 => {
                let secs = self
                    .header("retry-after")
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .unwrap_or(1.0);
                Err(ConnectorError::RateLimited((secs.max(0.0) * 1000.0) as u64))
            }
            408 | 500..=599 => Err(ConnectorError::Transient(format!(
                "HTTP {}: {}",
                self.status,
                snippet()
            ))),
            s => Err(ConnectorError::Permanent(format!(
                "HTTP {s}: {}",
                snippet()
            ))),
        }
    }

    /// Parse the body as JSON; a parse failure is `invalid-input`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ConnectorError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| ConnectorError::InvalidInput(format!("response body: {e}")))
    }

    /// The `rel="next"` URL of an RFC 8288 `Link` header (Shopify, GitHub style).
    pub fn next_link(&self) -> Option<String> {
        next_link(self.header("link")?)
    }
}

/// The `rel="next"` target of a `Link` header value.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// Percent-encode a query component (RFC 3986 unreserved characters pass through).
pub fn encode(s: &str) -> String {
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

struct Url<'a> {
    https: bool,
    authority: &'a str,
    path_query: &'a str,
}

fn parse_url(url: &str) -> Result<Url<'_>, ConnectorError> {
    let bad = || ConnectorError::InvalidInput(format!("not an http(s) URL: {url:?}"));
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad());
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_query) = rest.split_at(split);
    if authority.is_empty() {
        return Err(bad());
    }
    Ok(Url {
        https,
        authority,
        path_query: if path_query.is_empty() {
            "/"
        } else {
            path_query
        },
    })
}

fn transport_error(host: &str, e: ErrorCode) -> ConnectorError {
    match e {
        ErrorCode::HttpRequestDenied => ConnectorError::Permanent(format!(
            "egress to {host} was refused by the sandbox (not granted)"
        )),
        ErrorCode::DnsTimeout
        | ErrorCode::DnsError(_)
        | ErrorCode::ConnectionRefused
        | ErrorCode::ConnectionTerminated
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionLimitReached
        | ErrorCode::HttpResponseTimeout => ConnectorError::Transient(format!("{host}: {e:?}")),
        other => ConnectorError::Transient(format!("{host}: {other:?}")),
    }
}

/// Send a request and read the whole response.
pub fn send(req: Request) -> Result<Response, ConnectorError> {
    let url = parse_url(&req.url)?;
    let headers = Fields::new();
    for (k, v) in &req.headers {
        headers
            .append(k, v.as_bytes())
            .map_err(|e| ConnectorError::InvalidInput(format!("header {k}: {e:?}")))?;
    }
    let out = OutgoingRequest::new(headers);
    let method = match req.method.as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        "HEAD" => Method::Head,
        other => Method::Other(other.to_string()),
    };
    let internal = |what: &str| ConnectorError::Permanent(format!("building request: {what}"));
    out.set_method(&method).map_err(|_| internal("method"))?;
    out.set_scheme(Some(if url.https {
        &Scheme::Https
    } else {
        &Scheme::Http
    }))
    .map_err(|_| internal("scheme"))?;
    out.set_authority(Some(url.authority))
        .map_err(|_| internal("authority"))?;
    out.set_path_with_query(Some(url.path_query))
        .map_err(|_| internal("path"))?;
    let body = out.body().map_err(|_| internal("body"))?;
    if !req.body.is_empty() {
        let stream = body.write().map_err(|_| internal("body stream"))?;
        for chunk in req.body.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| ConnectorError::Transient(format!("writing request body: {e:?}")))?;
        }
        drop(stream);
    }
    let future =
        outgoing_handler::handle(out, None).map_err(|e| transport_error(url.authority, e))?;
    OutgoingBody::finish(body, None).map_err(|e| transport_error(url.authority, e))?;
    let response = loop {
        match future.get() {
            Some(result) => break result,
            None => future.subscribe().block(),
        }
    };
    let response = response
        .map_err(|_| ConnectorError::Transient("response already taken".into()))?
        .map_err(|e| transport_error(url.authority, e))?;
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let incoming = response.consume().map_err(|_| internal("response body"))?;
    let stream = incoming.stream().map_err(|_| internal("response stream"))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_BODY {
                    return Err(ConnectorError::Permanent(format!(
                        "response body over {MAX_BODY} bytes"
                    )));
                }
            }
            Err(StreamError::Closed) => break,
            Err(e) => {
                return Err(ConnectorError::Transient(format!(
                    "reading response: {e:?}"
                )))
            }
        }
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_next_link() {
        let link = r#"<https://s.myshopify.com/admin/api/2024-04/orders.json?page_info=abc&limit=250>; rel="previous", <https://s.myshopify.com/admin/api/2024-04/orders.json?page_info=def&limit=250>; rel="next""#;
        assert_eq!(
            next_link(link).unwrap(),
            "https://s.myshopify.com/admin/api/2024-04/orders.json?page_info=def&limit=250"
        );
        assert_eq!(next_link(r#"<https://x/a>; rel="previous""#), None);
    }

    #[test]
    fn encodes_query_components() {
        assert_eq!(
            encode("2024-04-01T00:00:00+08:00"),
            "2024-04-01T00%3A00%3A00%2B08%3A00"
        );
        assert_eq!(encode("a b"), "a%20b");
    }

    #[test]
    fn parses_urls() {
        let u = parse_url("http://127.0.0.1:8080/admin/orders.json?x=1").unwrap();
        assert_eq!(
            (u.https, u.authority, u.path_query),
            (false, "127.0.0.1:8080", "/admin/orders.json?x=1")
        );
        assert_eq!(parse_url("https://h").unwrap().path_query, "/");
        assert!(parse_url("ftp://h").is_err());
    }

    #[test]
    fn maps_statuses_to_error_kinds() {
        let r = |status, headers: Vec<(String, String)>| Response {
            status,
            headers,
            body: b"x".to_vec(),
        };
        assert!(matches!(
            r(401, vec![]).error_for_status(),
            Err(ConnectorError::Unauthorized(_))
        ));
        assert!(matches!(
            r(429, vec![("Retry-After".into(), "2.0".into())]).error_for_status(),
            Err(ConnectorError::RateLimited(2000))
        ));
        assert!(matches!(
            r(503, vec![]).error_for_status(),
            Err(ConnectorError::Transient(_))
        ));
        assert!(matches!(
            r(404, vec![]).error_for_status(),
            Err(ConnectorError::Permanent(_))
        ));
        assert!(r(200, vec![]).error_for_status().is_ok());
    }
}
