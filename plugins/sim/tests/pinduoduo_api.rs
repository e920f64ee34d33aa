//! The Pinduoduo simulator over real HTTP: signing, admission errors with PDD's codes,
//! the 30-minute window rule, newest-first paging, amounts and encrypted receivers.

use md5::{Digest, Md5};
use serde_json::Value;
use wharf_sim::pinduoduo::{parse_time, AmountStyle, Failure, PddError, PddSim, PddSimConfig};
use wharf_sim::time::now_ms;

const LIST: &str = "pdd.order.number.list.increment.get";
const INFO: &str = "pdd.order.information.get";

/// Sign by hand: MD5(secret + sorted k+v + secret), upper hex.
fn hand_sign(secret: &str, params: &[(String, String)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut plain = secret.to_string();
    for (k, v) in sorted {
        plain.push_str(&k);
        plain.push_str(&v);
    }
    plain.push_str(secret);
    hex::encode_upper(Md5::digest(plain.as_bytes()))
}

struct Client {
    sim: PddSim,
    http: reqwest::Client,
}

impl Client {
    async fn new(cfg: PddSimConfig) -> Client {
        Client {
            sim: PddSim::start(cfg).await.unwrap(),
            http: reqwest::Client::new(),
        }
    }

    fn common(&self, api: &str) -> Vec<(String, String)> {
        let cfg = self.sim.config();
        vec![
            ("type".into(), api.into()),
            ("client_id".into(), cfg.client_id.clone()),
            ("access_token".into(), cfg.access_token.clone()),
            ("timestamp".into(), (now_ms() / 1000).to_string()),
            ("data_type".into(), "JSON".into()),
            ("version".into(), "V1".into()),
        ]
    }

    /// Sign `params` with the app secret and POST them as a form; (HTTP status, body text).
    async fn post(&self, mut params: Vec<(String, String)>) -> (u16, String) {
        let s = hand_sign(&self.sim.config().client_secret, &params);
        params.push(("sign".into(), s));
        let r = self
            .http
            .post(self.sim.router_url())
            .form(&params)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn call(&self, api: &str, extra: &[(&str, String)]) -> Value {
        let mut p = self.common(api);
        p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let (status, text) = self.post(p).await;
        assert_eq!(status, 200, "PDD answers errors with HTTP 200 too: {text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn list(&self, start: i64, end: i64, page: u32, size: u32) -> Value {
        self.call(LIST, &window(start, end, page, size)).await
    }
}

fn window(start: i64, end: i64, page: u32, size: u32) -> Vec<(&'static str, String)> {
    vec![
        ("start_updated_at", start.to_string()),
        ("end_updated_at", end.to_string()),
        ("order_status", "5".into()),
        ("refund_status", "5".into()),
        ("is_lucky_flag", "0".into()),
        ("page", page.to_string()),
        ("page_size", size.to_string()),
    ]
}

fn error_code(v: &Value) -> i64 {
    v["error_response"]["error_code"]
        .as_i64()
        .unwrap_or_else(|| panic!("expected an error_response, got {v}"))
}

fn sns(v: &Value) -> Vec<String> {
    v["order_sn_increment_get_response"]["order_sn_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_sn"].as_str().unwrap().to_string())
        .collect()
}

// A request signed with the wrong secret, or tampered after signing, is error 20004.
#[tokio::test]
async fn bad_signatures_are_refused() {
    let c = Client::new(PddSimConfig::default()).await;
    let now = now_ms() / 1000;
    let mut p = c.common(LIST);
    p.extend(
        window(now - 1200, now - 600, 1, 10)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
    );
    let good = hand_sign(&c.sim.config().client_secret, &p);
    let mut wrong = p.clone();
    wrong.push(("sign".into(), hand_sign("not the secret", &p)));
    let r = c
        .http
        .post(c.sim.router_url())
        .form(&wrong)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(error_code(&v), 20004);
    assert!(v["error_response"]["request_id"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    let mut tampered = p.clone();
    tampered.push(("sign".into(), good.clone()));
    tampered[7].1 = "1".into(); // end_updated_at changed after signing
    let v: Value = c
        .http
        .post(c.sim.router_url())
        .form(&tampered)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&v), 20004);
    let mut ok = p.clone();
    ok.push(("sign".into(), good));
    let v: Value = c
        .http
        .post(c.sim.router_url())
        .form(&ok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v.get("order_sn_increment_get_response").is_some(), "{v}");
}

// Windows longer than 30 minutes, or ending at or before their start, are error 10000.
#[tokio::test]
async fn bad_windows_are_refused() {
    let c = Client::new(PddSimConfig::default()).await;
    let now = now_ms() / 1000;
    let v = c.list(now - 1801 - 60, now - 60, 1, 10).await;
    assert_eq!(error_code(&v), 10000);
    assert!(
        v["error_response"]["sub_msg"]
            .as_str()
            .unwrap()
            .contains("30 minutes"),
        "{v}"
    );
    let v = c.list(now - 60, now - 60, 1, 10).await;
    assert_eq!(error_code(&v), 10000);
    let v = c.list(now - 60, now - 120, 1, 10).await;
    assert!(
        v["error_response"]["sub_msg"]
            .as_str()
            .unwrap()
            .contains("later than"),
        "{v}"
    );
    // Exactly 30 minutes is fine.
    let v = c.list(now - 1800 - 60, now - 60, 1, 10).await;
    assert!(v.get("order_sn_increment_get_response").is_some(), "{v}");
    // Other refused parameters.
    for (k, bad) in [
        ("page_size", "101"),
        ("page", "0"),
        ("order_status", "4"),
        ("refund_status", "x"),
    ] {
        let mut p = window(now - 600, now - 60, 1, 10);
        p.retain(|(key, _)| *key != k);
        p.push((k, bad.into()));
        let v = c.call(LIST, &p).await;
        assert_eq!(error_code(&v), 10000, "{k}={bad}");
        assert!(
            v["error_response"]["sub_msg"].as_str().unwrap().contains(k),
            "{v}"
        );
    }
}

// Listing is newest updated_at first; pages slice it; total_count counts the window.
#[tokio::test]
async fn paging_is_newest_first() {
    let c = Client::new(PddSimConfig::default()).await;
    let now = now_ms();
    let from = now - 1_500_000;
    let orders = c.sim.generate_orders_between(12, 3, from, now - 300_000);
    // One order outside the window must not be listed.
    c.sim.generate_order_at(99, now - 3_600_000);
    let (start, end) = (from / 1000, now / 1000 - 60);
    let mut seen = Vec::new();
    for page in 1..=3 {
        let v = c.list(start, end, page, 5).await;
        let r = &v["order_sn_increment_get_response"];
        assert_eq!(r["total_count"], 12);
        assert_eq!(r["has_next"], page < 3);
        seen.extend(sns(&v));
    }
    let mut expected: Vec<String> = orders
        .iter()
        .map(|o| o["order_sn"].as_str().unwrap().to_string())
        .collect();
    expected.reverse();
    assert_eq!(seen, expected, "newest first, every order once");
    assert!(sns(&c.list(start, end, 4, 5).await).is_empty());
    // use_has_next skips the count.
    let mut p = window(start, end, 1, 5);
    p.push(("use_has_next", "true".into()));
    let v = c.call(LIST, &p).await;
    assert_eq!(v["order_sn_increment_get_response"]["total_count"], 0);
    assert_eq!(v["order_sn_increment_get_response"]["has_next"], true);
}

// An update moves an order out of its old window into now, newest of all.
#[tokio::test]
async fn updates_move_orders_to_now() {
    let c = Client::new(PddSimConfig::default()).await;
    let now = now_ms();
    let o = c.sim.generate_order_at(1, now - 1_200_000);
    let sn = o["order_sn"].as_str().unwrap();
    let (start, end) = ((now - 1_500_000) / 1000, (now - 900_000) / 1000);
    assert_eq!(sns(&c.list(start, end, 1, 10).await), [sn]);
    let updated = c
        .sim
        .update_order(sn, |o| o["order_status"] = 2.into())
        .unwrap();
    let t = parse_time(updated["updated_at"].as_str().unwrap()).unwrap();
    assert!(t >= now / 1000 * 1000, "bumped to now");
    assert!(sns(&c.list(start, end, 1, 10).await).is_empty());
    let nows = now_ms() / 1000;
    assert_eq!(sns(&c.list(nows - 60, nows + 1, 1, 10).await), [sn]);
}

// Credentials, rate limit and injected failures answer with PDD's codes (or bare HTTP).
#[tokio::test]
async fn admission_errors_have_pdd_codes() {
    let c = Client::new(PddSimConfig {
        rate_limit_per_second: Some(1000),
        ..PddSimConfig::default()
    })
    .await;
    let now = now_ms() / 1000;
    // Unknown client_id.
    let mut p = c.common(INFO);
    p[1].1 = "someone-else".into();
    p.push(("order_sn".into(), "240401-1".into()));
    let (_, text) = c.post(p).await;
    assert_eq!(error_code(&serde_json::from_str(&text).unwrap()), 10016);
    // Wrong token.
    let mut p = c.common(INFO);
    p[2].1 = "stolen".into();
    p.push(("order_sn".into(), "240401-1".into()));
    let (_, text) = c.post(p).await;
    assert_eq!(error_code(&serde_json::from_str(&text).unwrap()), 10019);
    // Stale timestamp.
    let mut p = c.common(INFO);
    p[3].1 = (now - 3600).to_string();
    p.push(("order_sn".into(), "240401-1".into()));
    let (_, text) = c.post(p).await;
    assert_eq!(error_code(&serde_json::from_str(&text).unwrap()), 10000);
    // Unknown API type.
    let v = c.call("pdd.goods.list.get", &[]).await;
    assert_eq!(error_code(&v), 10000);
    // Injected: server busy, rate limit, a gateway 502.
    c.sim.fail_next(1, Failure::Pdd(PddError::ServerBusy));
    c.sim.fail_next(1, Failure::Pdd(PddError::RateLimited));
    c.sim.fail_next(1, Failure::Http(502));
    let sn = [("order_sn", "240401-1".to_string())];
    assert_eq!(error_code(&c.call(INFO, &sn).await), 50000);
    assert_eq!(error_code(&c.call(INFO, &sn).await), 70031);
    let mut p = c.common(INFO);
    p.push(("order_sn".into(), "240401-1".into()));
    assert_eq!(c.post(p).await.0, 502);
    // Revoked by the shop.
    c.sim.revoke_access_token();
    let v = c.call(INFO, &sn).await;
    assert_eq!(error_code(&v), 10019);
    assert!(v["error_response"]["sub_msg"]
        .as_str()
        .unwrap()
        .contains("revoked"));
}

// The per-second rate limit answers 70031 past its budget.
#[tokio::test]
async fn rate_limit_is_70031() {
    let c = Client::new(PddSimConfig {
        rate_limit_per_second: Some(2),
        ..PddSimConfig::default()
    })
    .await;
    let sn = [("order_sn", "240401-1".to_string())];
    let mut codes = Vec::new();
    for _ in 0..6 {
        let v = c.call(INFO, &sn).await;
        codes.push(v["error_response"]["error_code"].as_i64().unwrap_or(0));
    }
    // At most 2 pass per wall-clock second; 6 quick calls span at most 2 seconds.
    assert!(
        codes.iter().filter(|c| **c == 70031).count() >= 2,
        "{codes:?}"
    );
}

// Amounts are JSON numbers in the body text (or strings when configured); receivers are
// ciphertext only while the order awaits shipment; unknown orders are order_info null.
#[tokio::test]
async fn amounts_and_receivers_as_pdd_writes_them() {
    let c = Client::new(PddSimConfig::default()).await;
    let o = c.sim.generate_order_at(5, now_ms() - 600_000);
    let sn = o["order_sn"].as_str().unwrap().to_string();
    c.sim.update_order(&sn, |o| o["order_status"] = 1.into());
    let mut p = c.common(INFO);
    p.push(("order_sn".into(), sn.clone()));
    let (_, text) = c.post(p).await;
    let pay = o["pay_amount"].as_str().unwrap();
    assert!(text.contains(&format!("\"pay_amount\":{pay}")), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let info = &v["order_info_get_response"]["order_info"];
    assert!(
        info["receiver_name"]
            .as_str()
            .unwrap()
            .starts_with("~AgAAAA"),
        "{info}"
    );
    assert!(info["receiver_phone"]
        .as_str()
        .unwrap()
        .starts_with("$AgAAAA"));
    assert_eq!(info["province"], o["province"], "regions stay plaintext");
    assert_ne!(info["receiver_name"], o["receiver_name"]);
    c.sim.update_order(&sn, |o| o["order_status"] = 2.into());
    let v = c.call(INFO, &[("order_sn", sn.clone())]).await;
    assert_eq!(
        v["order_info_get_response"]["order_info"]["receiver_name"],
        o["receiver_name"]
    );
    let v = c.call(INFO, &[("order_sn", "240401-999".into())]).await;
    assert!(v["order_info_get_response"]["order_info"].is_null(), "{v}");

    let s = Client::new(PddSimConfig {
        amounts: AmountStyle::Strings,
        ..PddSimConfig::default()
    })
    .await;
    let o = s.sim.generate_order_at(5, now_ms() - 600_000);
    let mut p = s.common(INFO);
    p.push(("order_sn".into(), o["order_sn"].as_str().unwrap().into()));
    let (_, text) = s.post(p).await;
    assert!(
        text.contains(&format!(
            "\"pay_amount\":\"{}\"",
            o["pay_amount"].as_str().unwrap()
        )),
        "{text}"
    );
}

// A JSON body is accepted like a form body.
#[tokio::test]
async fn json_bodies_are_accepted() {
    let c = Client::new(PddSimConfig::default()).await;
    let o = c.sim.generate_order_at(6, now_ms() - 600_000);
    let mut p = c.common(INFO);
    p.push(("order_sn".into(), o["order_sn"].as_str().unwrap().into()));
    let s = hand_sign(&c.sim.config().client_secret, &p);
    p.push(("sign".into(), s));
    let body: serde_json::Map<String, Value> =
        p.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    let v: Value = c
        .http
        .post(c.sim.router_url())
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["order_info_get_response"]["order_info"]["order_sn"],
        o["order_sn"]
    );
    assert_eq!(c.sim.calls(), [INFO]);
}
