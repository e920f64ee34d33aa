//! The `/wp-json/wc/v3` routes of the simulated store.
//!
//! Every request passes the gate in WooCommerce's order: injected fault, authentication
//! (OAuth 1.0a over plain HTTP; HTTP Basic or key/secret query parameters when the site
//! is configured as behind TLS), then the route. Errors are WordPress REST errors:
//! `{"code", "message", "data": {"status"}}` with that HTTP status.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::oauth::{self, parse_query, rawurlencode};
use super::shipping;
use super::store::{parse_gmt, Query, Stock, ORDERBY};
use super::{generate, Call, Fault, WooSim};
use crate::time;

/// A WordPress REST error.
#[derive(Debug, Clone, PartialEq)]
pub struct WooError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub params: Option<Value>,
}

impl WooError {
    pub fn new(status: u16, code: &str, message: &str) -> WooError {
        WooError {
            status,
            code: code.into(),
            message: message.into(),
            params: None,
        }
    }

    fn auth(message: &str) -> WooError {
        WooError::new(401, "woocommerce_rest_authentication_error", message)
    }

    /// `rest_invalid_param` naming the parameter, as WordPress validates arguments.
    fn invalid_param(name: &str, why: &str) -> WooError {
        WooError {
            params: Some(json!({ name: why })),
            ..WooError::new(
                400,
                "rest_invalid_param",
                &format!("Invalid parameter(s): {name}"),
            )
        }
    }

    fn body(&self) -> Value {
        let mut data = json!({"status": self.status});
        if let Some(p) = &self.params {
            data["params"] = p.clone();
        }
        json!({"code": self.code, "message": self.message, "data": data})
    }
}

impl IntoResponse for WooError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}

pub(crate) fn router(sim: WooSim) -> Router {
    Router::new()
        .route("/wp-json/wc/v3/orders", get(list_orders))
        .route(
            "/wp-json/wc/v3/orders/{id}",
            get(get_order)
                .put(shipping::update_order)
                .post(shipping::update_order),
        )
        .route(
            "/wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings",
            get(shipping::trackings).post(shipping::trackings),
        )
        .route(
            "/wp-json/wc/v3/products/{id}",
            get(product).put(product).post(product).patch(product),
        )
        .route(
            "/wp-json/wc/v3/products/{id}/variations/{vid}",
            get(variation)
                .put(variation)
                .post(variation)
                .patch(variation),
        )
        .fallback(|| async {
            WooError::new(
                404,
                "rest_no_route",
                "No route was found matching the URL and request method.",
            )
        })
        .with_state(sim)
}

/// What the gate hands to a route.
pub(crate) struct Req {
    params: Vec<(String, String)>,
}

impl Req {
    fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::Unauthorized => WooError::auth("Consumer key is invalid.").into_response(),
        Fault::RateLimited(secs) => {
            let mut r = WooError::new(
                429,
                "woocommerce_rest_too_many_requests",
                "Too many requests. Please wait and try again.",
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert("Retry-After", v);
            }
            r
        }
        Fault::Status(503) => {
            let mut r = (
                StatusCode::SERVICE_UNAVAILABLE,
                "<!DOCTYPE html><html><body>Briefly unavailable for scheduled maintenance. \
                 Check back in a minute.</body></html>",
            )
                .into_response();
            r.headers_mut()
                .insert("Retry-After", HeaderValue::from_static("600"));
            r
        }
        Fault::Status(code) => WooError::new(
            code,
            "internal_server_error",
            "<p>There has been a critical error on this website.</p>",
        )
        .into_response(),
    }
}

/// The admission gate: injected fault, then authentication. Admitted requests are logged.
#[allow(clippy::result_large_err)]
pub(crate) fn gate(
    sim: &WooSim,
    method: &Method,
    uri: &Uri,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Req, Response> {
    let fault = {
        let mut st = sim.state();
        st.requests += 1;
        st.faults.pop_front()
    };
    if let Some(fault) = fault {
        return Err(fault_response(fault));
    }
    let params = parse_query(query.unwrap_or(""));
    let req = Req { params };
    authenticate(sim, method, uri, headers, &req).map_err(IntoResponse::into_response)?;
    sim.state().calls.push(Call {
        method: method.to_string(),
        path: uri.path().to_string(),
        params: req
            .params
            .iter()
            .filter(|(k, _)| !k.starts_with("oauth_"))
            .cloned()
            .collect(),
    });
    Ok(req)
}

/// `WC_REST_Authentication`: Basic / query keys when `is_ssl()`, OAuth 1.0a otherwise. A
/// request with no credentials at all falls through to the route's permission check
/// (`woocommerce_rest_cannot_view`, 401).
fn authenticate(
    sim: &WooSim,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    req: &Req,
) -> Result<(), WooError> {
    let cfg = sim.config();
    let cannot = || {
        let (code, msg) = if *method == Method::GET {
            (
                "woocommerce_rest_cannot_view",
                "Sorry, you cannot list resources.",
            )
        } else {
            (
                "woocommerce_rest_cannot_edit",
                "Sorry, you are not allowed to edit this resource.",
            )
        };
        WooError::new(401, code, msg)
    };
    if cfg.behind_tls {
        let basic = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| STANDARD.decode(b.trim()).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.split_once(':')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            });
        let pair = basic.or_else(|| {
            Some((
                req.get("consumer_key")?.to_string(),
                req.get("consumer_secret")?.to_string(),
            ))
        });
        return match pair {
            Some((key, secret)) if key == cfg.consumer_key => {
                if secret == cfg.consumer_secret {
                    Ok(())
                } else {
                    Err(WooError::auth("Consumer secret is invalid."))
                }
            }
            _ => Err(cannot()),
        };
    }
    const NAMES: [&str; 5] = [
        "oauth_consumer_key",
        "oauth_timestamp",
        "oauth_nonce",
        "oauth_signature",
        "oauth_signature_method",
    ];
    let missing: Vec<&str> = NAMES
        .iter()
        .copied()
        .filter(|n| req.get(n).is_none_or(str::is_empty))
        .collect();
    if missing.len() == NAMES.len() {
        return Err(cannot());
    }
    if !missing.is_empty() {
        return Err(WooError::new(
            401,
            "woocommerce_rest_authentication_missing_parameter",
            &format!("Missing OAuth parameter {}", missing.join(", ")),
        ));
    }
    let p = |n: &str| req.get(n).unwrap_or("");
    if p("oauth_consumer_key") != cfg.consumer_key {
        return Err(WooError::auth("Consumer key is invalid."));
    }
    let home = match &cfg.site_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => {
            let host = headers
                .get("host")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    let url = format!("{home}{}", uri.path());
    let base = oauth::base_string(method.as_str(), &url, &req.params);
    let method_name = p("oauth_signature_method");
    let Some(expected) = oauth::sign(method_name, &cfg.consumer_secret, &base) else {
        return Err(WooError::auth(
            "Invalid signature - signature method is invalid.",
        ));
    };
    let provided = p("oauth_signature").replace(' ', "+");
    if expected != provided {
        return Err(WooError::auth(
            "Invalid signature - provided signature does not match.",
        ));
    }
    let ts: i64 = p("oauth_timestamp").parse().unwrap_or(0);
    if ts < time::now_ms() / 1000 - cfg.oauth_window_secs {
        return Err(WooError::auth("Invalid timestamp."));
    }
    let nonce = p("oauth_nonce").to_string();
    if !sim.state().nonces.insert(nonce) {
        return Err(WooError::auth(
            "Invalid nonce - nonce has already been used.",
        ));
    }
    Ok(())
}

fn date_param(req: &Req, name: &str, gmt: bool, offset_min: i32) -> Result<Option<i64>, WooError> {
    let Some(raw) = req.get(name).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad = || WooError::invalid_param(name, "Invalid date.");
    let ms = if raw.len() == 19 {
        let naive = parse_gmt(raw).ok_or_else(bad)?;
        if gmt {
            naive
        } else {
            naive - i64::from(offset_min) * 60_000
        }
    } else {
        time::parse(raw).ok_or_else(bad)?
    };
    Ok(Some(ms.div_euclid(1000) * 1000))
}

fn ids_param(req: &Req, name: &str) -> Result<std::collections::BTreeSet<u64>, WooError> {
    req.get(name)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<u64>().map_err(|_| {
                WooError::invalid_param(name, &format!("{name}[0] is not of type integer."))
            })
        })
        .collect()
}

fn int_param(
    req: &Req,
    name: &str,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, WooError> {
    match req.get(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(WooError::invalid_param(
                name,
                &format!("{name} must be between {min} (inclusive) and {max} (inclusive)"),
            )),
        },
    }
}

fn parse_query_args(sim: &WooSim, req: &Req) -> Result<Query, WooError> {
    let cfg = sim.config();
    let gmt = match req.get("dates_are_gmt") {
        None | Some("") | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => {
            return Err(WooError::invalid_param(
                "dates_are_gmt",
                "dates_are_gmt is not of type boolean.",
            ))
        }
    };
    let statuses = match req.get("status") {
        None | Some("") | Some("any") => None,
        Some(list) => {
            let list: Vec<String> = list.split(',').map(|s| s.trim().to_string()).collect();
            if list.iter().any(|s| s == "any") {
                None
            } else {
                for s in &list {
                    if !generate::STATUSES.contains(&s.as_str()) {
                        return Err(WooError::invalid_param("status", "status[0] is not one of any, pending, processing, on-hold, completed, cancelled, refunded, failed, checkout-draft, and trash."));
                    }
                }
                Some(list)
            }
        }
    };
    let orderby = req
        .get("orderby")
        .filter(|v| !v.is_empty())
        .unwrap_or("date");
    if !ORDERBY.contains(&orderby) {
        return Err(WooError::invalid_param(
            "orderby",
            "orderby is not one of date, id, include, title, slug, and modified.",
        ));
    }
    let asc = match req.get("order").filter(|v| !v.is_empty()) {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => {
            return Err(WooError::invalid_param(
                "order",
                "order is not one of asc and desc.",
            ))
        }
    };
    let offset = match req.get("offset").filter(|v| !v.is_empty()) {
        None => None,
        Some(_) => Some(int_param(req, "offset", 0, 0, usize::MAX)?),
    };
    Ok(Query {
        statuses,
        modified_after: date_param(req, "modified_after", gmt, cfg.utc_offset_minutes)?,
        modified_before: date_param(req, "modified_before", gmt, cfg.utc_offset_minutes)?,
        after: date_param(req, "after", gmt, cfg.utc_offset_minutes)?,
        before: date_param(req, "before", gmt, cfg.utc_offset_minutes)?,
        include: ids_param(req, "include")?,
        exclude: ids_param(req, "exclude")?,
        orderby: orderby.to_string(),
        asc,
        page: int_param(req, "page", 1, 1, usize::MAX)?,
        per_page: int_param(req, "per_page", 10, 1, cfg.max_per_page as usize)?,
        offset,
    })
}

/// The `Link` header of a listing: `rel="prev"` / `rel="next"` with the same query.
fn link_header(sim: &WooSim, host: &str, req: &Req, page: usize, pages: usize) -> Option<String> {
    let base = match &sim.config().site_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => format!("http://{host}"),
    };
    let url = |p: usize| {
        let mut q: Vec<String> = req
            .params
            .iter()
            .filter(|(k, _)| k != "page" && !k.starts_with("oauth_") && k != "consumer_secret")
            .map(|(k, v)| format!("{}={}", rawurlencode(k), rawurlencode(v)))
            .collect();
        q.push(format!("page={p}"));
        format!("<{base}/wp-json/wc/v3/orders?{}>", q.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!(
            "{}; rel=\"prev\"",
            url((page - 1).min(pages.max(1)))
        ));
    }
    if page < pages {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
    }
    (!links.is_empty()).then(|| links.join(", "))
}

async fn list_orders(
    State(sim): State<WooSim>,
    method: Method,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let req = match gate(&sim, &method, &uri, query.as_deref(), &headers) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let q = match parse_query_args(&sim, &req) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let listed = sim.state().store.list(&q);
    let pages = listed.total.div_ceil(q.per_page);
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let mut resp = Json(Value::Array(listed.orders)).into_response();
    let h = resp.headers_mut();
    h.insert("X-WP-Total", HeaderValue::from(listed.total));
    h.insert("X-WP-TotalPages", HeaderValue::from(pages));
    if let Some(link) = link_header(&sim, &host, &req, q.page, pages) {
        if let Ok(v) = HeaderValue::from_str(&link) {
            h.insert("Link", v);
        }
    }
    resp
}

async fn get_order(
    State(sim): State<WooSim>,
    method: Method,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(resp) = gate(&sim, &method, &uri, query.as_deref(), &headers) {
        return resp;
    }
    match id.parse::<u64>().ok().and_then(|id| sim.order(id)) {
        Some(order) => Json(order).into_response(),
        None => WooError::new(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            .into_response(),
    }
}

/// Apply an edit body's stock fields.
fn edit_stock(stock: &mut Stock, body: &Bytes) -> Result<(), WooError> {
    if body.is_empty() {
        return Ok(());
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| WooError::new(400, "rest_invalid_json", "Invalid JSON body passed."))?;
    if let Some(m) = v.get("manage_stock") {
        stock.manage_stock = m.as_bool().ok_or_else(|| {
            WooError::invalid_param("manage_stock", "manage_stock is not of type boolean.")
        })?;
    }
    if let Some(q) = v.get("stock_quantity") {
        let q = q.as_i64().ok_or_else(|| {
            WooError::invalid_param("stock_quantity", "stock_quantity is not of type integer.")
        })?;
        stock.stock_quantity = Some(q);
    }
    Ok(())
}

fn stock_json(id: u64, sku: &str, name: &str, s: &Stock) -> Value {
    let status = match (s.manage_stock, s.stock_quantity) {
        (true, Some(q)) if q <= 0 => "outofstock",
        _ => "instock",
    };
    json!({"id": id, "name": name, "sku": sku, "manage_stock": s.manage_stock,
           "stock_quantity": s.stock_quantity, "stock_status": status})
}

async fn product(
    State(sim): State<WooSim>,
    method: Method,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(resp) = gate(&sim, &method, &uri, query.as_deref(), &headers) {
        return resp;
    }
    let not_found = || WooError::new(404, "woocommerce_rest_product_invalid_id", "Invalid ID.");
    let Ok(id) = id.parse::<u64>() else {
        return not_found().into_response();
    };
    let mut st = sim.state();
    let Some(p) = st.store.products.get_mut(&id) else {
        return not_found().into_response();
    };
    if method != Method::GET {
        if let Err(e) = edit_stock(&mut p.stock, &body) {
            return e.into_response();
        }
    }
    let out = stock_json(id, &p.sku, &p.name, &p.stock);
    let quantity = p.stock.stock_quantity;
    if method != Method::GET {
        st.stock_log.push((id, None, quantity));
    }
    Json(out).into_response()
}

async fn variation(
    State(sim): State<WooSim>,
    method: Method,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    Path((id, vid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Err(resp) = gate(&sim, &method, &uri, query.as_deref(), &headers) {
        return resp;
    }
    let (Ok(id), Ok(vid)) = (id.parse::<u64>(), vid.parse::<u64>()) else {
        return WooError::new(
            404,
            "woocommerce_rest_product_variation_invalid_id",
            "Invalid ID.",
        )
        .into_response();
    };
    let mut st = sim.state();
    let Some(product) = st.store.products.get_mut(&id) else {
        return WooError::new(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            .into_response();
    };
    let name = product.name.clone();
    let Some((sku, stock)) = product.variations.get_mut(&vid) else {
        return WooError::new(
            404,
            "woocommerce_rest_product_variation_invalid_id",
            "Invalid ID.",
        )
        .into_response();
    };
    if method != Method::GET {
        if let Err(e) = edit_stock(stock, &body) {
            return e.into_response();
        }
    }
    let out = stock_json(vid, sku, &name, stock);
    let quantity = stock.stock_quantity;
    if method != Method::GET {
        st.stock_log.push((id, Some(vid), quantity));
    }
    Json(out).into_response()
}
