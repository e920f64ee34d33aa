//! The warehouse page, `GET /warehouse`: a phone-sized page for pick and pack (scan an
//! order, take / start / done its task, record the parcel, print the label, report an
//! exception, the staff's own and the open task lists). Plain HTML, CSS and JavaScript
//! embedded in the binary: no build step, nothing fetched from elsewhere. The page holds
//! no secret: staff paste a merchant token, kept in the browser's localStorage and sent
//! only as `Authorization: Bearer` to the same API as every other client.
//!
//! Every response carries a Content-Security-Policy that allows only this origin (no
//! inline script, no framing), `nosniff`, `no-referrer` and `no-store`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const APP_CSS: &str = include_str!("app.css");
const ICON_SVG: &str = include_str!("icon.svg");

/// Only this origin: scripts and styles from files, API calls to the same host, label
/// blobs the page made itself. Nothing may frame the page.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; \
     frame-src blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/warehouse",
            get(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/warehouse/",
            get(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/warehouse/app.js",
            get(|| async { asset(APP_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/warehouse/app.css",
            get(|| async { asset(APP_CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/warehouse/icon.svg",
            get(|| async { asset(ICON_SVG, "image/svg+xml") }),
        )
}

/// One embedded file with the page's security headers.
fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in SECURITY_HEADERS {
        h.insert(name.clone(), HeaderValue::from_static(value));
    }
    res
}

const SECURITY_HEADERS: &[(header::HeaderName, &str)] = &[
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::CACHE_CONTROL, "no-store"),
];

#[cfg(test)]
mod tests {
    use super::*;

    // The page loads its script from a file and has no inline script or handler, so the
    // policy's `script-src 'self'` lets it run; nothing refers to another origin.
    #[test]
    fn page_has_no_inline_script_and_no_foreign_origin() {
        assert!(INDEX_HTML.contains(r#"<script src="/warehouse/app.js""#));
        assert_eq!(INDEX_HTML.matches("<script").count(), 1);
        assert!(!INDEX_HTML.contains(" onclick="), "no inline handlers");
        for text in [INDEX_HTML, APP_JS, APP_CSS] {
            assert!(!text.contains("http://") && !text.contains("https://"));
        }
        assert!(INDEX_HTML.contains(r#"name="viewport""#));
    }

    // Every page response carries the policy and the other headers.
    #[test]
    fn responses_carry_the_security_headers() {
        let res = asset(APP_JS, "text/javascript; charset=utf-8");
        let h = res.headers();
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY);
        assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    }
}
