//! A deliberately misbehaving marketplace connector, used to prove that the host's sandbox
//! contains every kind of failure. Its behaviour is chosen by the installation's config key
//! `mode`:
//!
//! - `good`       one valid, deterministic order (the control group).
//! - `loop`       spins forever (wall-clock deadline).
//! - `membomb`    allocates until the memory cap refuses (memory limit).
//! - `panic`      panics with [`PANIC_MESSAGE`] (panic capture).
//! - `trap`       executes `unreachable` without panicking (generic trap).
//! - `egress`     GETs config `url`; the order total is the body length (egress granter).
//! - `oversized`  returns config `count` (default 20 000) orders (output bound).
//! - `secret`     returns the secret named by config `secret_key` (default `api_token`) in a
//!   tag, `secret=<value>` or `secret=<none>` (secret isolation).
//! - `logspam`    logs config `lines` (default 10 000) lines, the first one carrying the
//!   `api_token` secret (log bounds and redaction).
//! - `secretpanic` panics with a message carrying the `api_token` secret (panic messages
//!   are masked like log lines).
//!
//! `describe` always answers; `verify-webhook` and `get-order` behave like `pull-orders`
//! for the hostile modes and answer normally in `good` mode.

use wharf_sdk::types::{
    ChannelStatus, ConnectorError, ConnectorInfo, Header, Line, Money, Order, Page, WebhookEvent,
};
use wharf_sdk::{config, export_marketplace, http, log, Marketplace};

/// The message the `panic` mode panics with; tests look for it in the host's error.
pub const PANIC_MESSAGE: &str = "hostile plugin panicked on purpose";

struct Hostile;

fn money(minor: i64) -> Money {
    Money {
        minor,
        currency: "USD".into(),
    }
}

/// The deterministic order the `good` mode returns.
fn good_order(external_id: &str) -> Order {
    Order {
        external_id: external_id.to_string(),
        number: format!("#{external_id}"),
        status: ChannelStatus::Paid,
        raw_status: "paid".into(),
        created_at: 1_700_000_000_000,
        updated_at: 1_700_000_060_000,
        currency: "USD".into(),
        buyer: None,
        shipping_address: None,
        lines: vec![Line {
            line_id: "L1".into(),
            sku: "SKU-1".into(),
            channel_sku: "V-1".into(),
            title: "Widget".into(),
            quantity: 2,
            unit_price: money(1250),
            discount: money(0),
        }],
        shipping_fee: money(500),
        discount: money(0),
        tax: money(0),
        total_paid: money(3000),
        presale: None,
        tags: vec!["hostile".into()],
    }
}

fn page(orders: Vec<Order>) -> Page {
    Page {
        orders,
        cursor: Some("c1".into()),
        more: false,
    }
}

fn mode() -> String {
    config::get("mode").unwrap_or_else(|| "good".into())
}

fn parse_count(key: &str, default: usize) -> Result<usize, ConnectorError> {
    match config::get(key) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ConnectorError::InvalidInput(format!("config `{key}`: not a number"))),
    }
}

/// Run the behaviour of `mode`; `good` yields the normal order list.
fn run(mode: &str) -> Result<Vec<Order>, ConnectorError> {
    match mode {
        "good" => Ok(vec![good_order("H-1")]),
        "loop" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "membomb" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                let mut chunk = vec![0u8; 1 << 20];
                chunk[0] = hoard.len() as u8;
                hoard.push(std::hint::black_box(chunk));
            }
        }
        "panic" => panic!("{PANIC_MESSAGE}"),
        "secretpanic" => {
            let token = config::secret("api_token").unwrap_or_default();
            panic!("the token is {token}");
        }
        "trap" => core::arch::wasm32::unreachable(),
        "egress" => {
            let url = config::require("url")?;
            let resp = http::Request::get(url).send()?.error_for_status()?;
            let mut order = good_order("E-1");
            order.total_paid = money(resp.body.len() as i64);
            Ok(vec![order])
        }
        "oversized" => {
            let count = parse_count("count", 20_000)?;
            Ok((0..count).map(|i| good_order(&format!("O-{i}"))).collect())
        }
        "secret" => {
            let key = config::get("secret_key").unwrap_or_else(|| "api_token".into());
            let value = config::secret(&key).unwrap_or_else(|| "<none>".into());
            let mut order = good_order("S-1");
            order.tags = vec![format!("secret={value}")];
            Ok(vec![order])
        }
        "logspam" => {
            let lines = parse_count("lines", 10_000)?;
            let token = config::secret("api_token").unwrap_or_default();
            log::warn(&format!("the token is {token}"));
            for i in 1..lines {
                log::info(&format!("spam line {i}"));
            }
            Ok(vec![good_order("L-1")])
        }
        other => Err(ConnectorError::InvalidInput(format!(
            "unknown mode {other:?}"
        ))),
    }
}

impl Marketplace for Hostile {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            platform: "hostile".into(),
            display_name: "Hostile test connector".into(),
            capabilities: vec![
                "verify-webhook".into(),
                "pull-orders".into(),
                "get-order".into(),
            ],
        }
    }

    fn verify_webhook(headers: Vec<Header>, _body: Vec<u8>) -> wharf_sdk::Result<WebhookEvent> {
        let orders = run(&mode())?;
        Ok(WebhookEvent {
            delivery_id: wharf_sdk::header(&headers, "x-delivery-id").map(str::to_string),
            topic: "orders/create".into(),
            orders,
        })
    }

    fn pull_orders(_cursor: Option<String>) -> wharf_sdk::Result<Page> {
        run(&mode()).map(page)
    }

    fn get_order(external_id: String) -> wharf_sdk::Result<Option<Order>> {
        let mode = mode();
        if mode != "good" {
            run(&mode)?;
        }
        Ok((external_id != "missing").then(|| good_order(&external_id)))
    }
}

export_marketplace!(Hostile);
