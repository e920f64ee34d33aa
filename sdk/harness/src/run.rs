//! `wharf plugin run`: one export of one plugin, under the production sandbox with fuel
//! metering, optionally over a cassette and a frozen clock; the result as JSON plus what
//! the call cost (`fuel`, `peak_memory_bytes`, `wall_time_ms`) and the plugin's logs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use wharf_runtime::{CallOptions, FrozenClock, RuntimeConfig};

use crate::cassette::Masker;
use crate::clock::parse_clock;
use crate::error::HarnessError;
use crate::render;
use crate::session::{config_from_pairs, load_manifest, Installation, Session};
use crate::traffic::{HttpMode, Traffic};

/// The exports `run` can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Describe,
    VerifyWebhook,
    PullOrders,
    GetOrder,
}

impl FromStr for Export {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "describe" => Self::Describe,
            "verify-webhook" => Self::VerifyWebhook,
            "pull-orders" => Self::PullOrders,
            "get-order" => Self::GetOrder,
            other => {
                return Err(format!(
                "unknown export {other:?}: use describe, verify-webhook, pull-orders or get-order"
            ))
            }
        })
    }
}

impl Export {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Describe => "describe",
            Self::VerifyWebhook => "verify-webhook",
            Self::PullOrders => "pull-orders",
            Self::GetOrder => "get-order",
        }
    }
}

/// Everything `wharf plugin run` takes.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub component: PathBuf,
    pub manifest: PathBuf,
    pub export: Export,
    /// `key=value` configuration (typed by the manifest's schema).
    pub config: Vec<(String, String)>,
    pub secrets: Vec<(String, String)>,
    /// The export's input as JSON (see [`parse_input`]).
    pub input: Option<String>,
    pub http: HttpMode,
    /// Frozen clock, RFC 3339 or Unix ms; `None`: the real clock.
    pub clock: Option<String>,
    /// Granted hosts; empty: every host the manifest declares.
    pub grants: Vec<String>,
    pub resolve: Vec<(String, SocketAddr)>,
    /// Instruction budget of the call.
    pub fuel: u64,
}

/// The export's argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    None,
    Webhook {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    Cursor(Option<String>),
    ExternalId(String),
}

/// Parse `--input` for `export`:
/// - `describe`: none (or `{}`);
/// - `verify-webhook`: `{"headers": [["name","value"],…] or {"name":"value"}, "body": "…"}`
///   (or `"body_base64"`);
/// - `pull-orders`: none / `null` (from the beginning), `"cursor"`, or `{"cursor": …}`;
/// - `get-order`: `"id"` or `{"external_id": "id"}`.
pub fn parse_input(export: Export, input: Option<&str>) -> Result<Input, HarnessError> {
    let bad = |m: String| HarnessError::Input(format!("--input for {}: {m}", export.as_str()));
    let value: Value = match input {
        None => Value::Null,
        Some(text) => serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?,
    };
    match export {
        Export::Describe => match &value {
            Value::Null => Ok(Input::None),
            Value::Object(o) if o.is_empty() => Ok(Input::None),
            _ => Err(bad("describe takes no input".into())),
        },
        Export::PullOrders => match &value {
            Value::Null => Ok(Input::Cursor(None)),
            Value::String(s) => Ok(Input::Cursor(Some(s.clone()))),
            Value::Object(o) => match o.get("cursor") {
                None | Some(Value::Null) => Ok(Input::Cursor(None)),
                Some(Value::String(s)) => Ok(Input::Cursor(Some(s.clone()))),
                Some(_) => Err(bad("cursor must be a string or null".into())),
            },
            _ => Err(bad(
                "expected null, a cursor string or {\"cursor\": …}".into()
            )),
        },
        Export::GetOrder => match &value {
            Value::String(s) => Ok(Input::ExternalId(s.clone())),
            Value::Object(o) => match o.get("external_id") {
                Some(Value::String(s)) => Ok(Input::ExternalId(s.clone())),
                _ => Err(bad("expected {\"external_id\": \"…\"}".into())),
            },
            _ => Err(bad("expected an order id string".into())),
        },
        Export::VerifyWebhook => {
            let obj = value
                .as_object()
                .ok_or_else(|| bad("expected {\"headers\": …, \"body\": …}".into()))?;
            let headers = match obj.get("headers") {
                None => Vec::new(),
                Some(Value::Object(map)) => map
                    .iter()
                    .map(|(k, v)| {
                        v.as_str()
                            .map(|v| (k.clone(), v.to_string()))
                            .ok_or_else(|| bad(format!("header {k}: value must be a string")))
                    })
                    .collect::<Result<_, _>>()?,
                Some(v) => serde_json::from_value::<Vec<(String, String)>>(v.clone())
                    .map_err(|_| bad("headers: a list of [name, value] or an object".into()))?,
            };
            let body = match (obj.get("body"), obj.get("body_base64")) {
                (Some(Value::String(s)), None) => s.clone().into_bytes(),
                (None, Some(Value::String(b))) => STANDARD
                    .decode(b)
                    .map_err(|e| bad(format!("body_base64: {e}")))?,
                (None, None) => Vec::new(),
                _ => Err(bad("give one string body or body_base64".into()))?,
            };
            Ok(Input::Webhook { headers, body })
        }
    }
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// What `wharf plugin run` prints.
    pub json: Value,
    /// Whether the export returned `Ok`.
    pub ok: bool,
}

/// Run one export as `spec` says.
pub async fn run(spec: &RunSpec) -> Result<RunOutput, HarnessError> {
    let manifest = load_manifest(&spec.manifest)?;
    let component =
        std::fs::read(&spec.component).map_err(|e| HarnessError::io(&spec.component, e))?;
    let input = parse_input(spec.export, spec.input.as_deref())?;
    let config = config_from_pairs(&manifest, &spec.config)?;
    let secrets: BTreeMap<String, String> = spec.secrets.iter().cloned().collect();
    let grants = (!spec.grants.is_empty()).then(|| spec.grants.clone());
    let (mut inst, check) = Installation::from_json(&manifest, &config, secrets, grants);
    // describe reads no configuration: an installation is not needed to ask for it.
    let describe_only = spec.export == Export::Describe && spec.config.is_empty();
    if !describe_only {
        check.map_err(|p| HarnessError::Input(format!("--config: {p}")))?;
    }
    inst.resolve = spec.resolve.iter().cloned().collect();
    let clock = match &spec.clock {
        Some(c) => Some(FrozenClock::at(
            parse_clock(c).map_err(|e| HarnessError::Input(format!("--clock: {e}")))?,
        )),
        None => None,
    };
    let traffic = Traffic::open(
        &spec.http,
        Masker::new(&inst.secrets),
        inst.egress(&manifest),
    )?;
    let cfg = RuntimeConfig {
        fuel: Some(spec.fuel),
        ..RuntimeConfig::default()
    };
    let opts = CallOptions {
        transport: traffic.transport(),
        clock,
    };
    let session = Session::new(&component, manifest, &inst, cfg, opts)?;
    let (result, report) = match input {
        Input::None => {
            let (r, rep) = session.describe().await;
            (r.map(|i| json!(i)), rep)
        }
        Input::Webhook { headers, body } => {
            let (r, rep) = session.verify_webhook(headers, body).await;
            (r.map(|e| render::event(&e)), rep)
        }
        Input::Cursor(cursor) => {
            let (r, rep) = session.pull_orders(cursor).await;
            (r.map(|p| render::page(&p)), rep)
        }
        Input::ExternalId(id) => {
            let (r, rep) = session.get_order(&id).await;
            (r.map(|o| render::order(&o)), rep)
        }
    };
    traffic.finish()?;
    let mut out = json!({"export": spec.export.as_str()});
    let ok = result.is_ok();
    match result {
        Ok(v) => out["result"] = v,
        Err(e) => out["error"] = render::error(&e),
    }
    for (k, v) in render::report(&report).as_object().expect("an object") {
        out[k] = v.clone();
    }
    out["logs"] = render::logs(&session.logs());
    if matches!(spec.http, HttpMode::Replay(_)) {
        out["unrecorded_requests"] = json!(traffic.misses());
    }
    Ok(RunOutput { json: out, ok })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each export's input forms parse, and malformed input is refused with the export named.
    #[test]
    fn inputs_parse_per_export() {
        assert_eq!(parse_input(Export::Describe, None).unwrap(), Input::None);
        assert_eq!(
            parse_input(Export::PullOrders, Some(r#"{"cursor": "c"}"#)).unwrap(),
            Input::Cursor(Some("c".into()))
        );
        assert_eq!(
            parse_input(Export::PullOrders, Some("null")).unwrap(),
            Input::Cursor(None)
        );
        assert_eq!(
            parse_input(Export::GetOrder, Some(r#""42""#)).unwrap(),
            Input::ExternalId("42".into())
        );
        assert_eq!(
            parse_input(
                Export::VerifyWebhook,
                Some(r#"{"headers": {"X-Sig": "abc"}, "body": "{}"}"#)
            )
            .unwrap(),
            Input::Webhook {
                headers: vec![("X-Sig".into(), "abc".into())],
                body: b"{}".to_vec()
            }
        );
        let err = parse_input(Export::GetOrder, Some("5"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("get-order"), "{err}");
        assert!(parse_input(Export::PullOrders, Some("{oops")).is_err());
        assert!("pull".parse::<Export>().is_err());
    }
}
