//! The shop's goods, their SKUs and quantities, behind `pdd.goods.quantity.update`.
//!
//! Goods come from the orders the simulator stores (every `item_list[]` entry's
//! `goods_id` / `sku_id` / `outer_id`) or from [`PddSim::add_goods`]; each SKU starts
//! with [`INITIAL_QUANTITY`]. Every accepted update is logged
//! ([`PddSim::quantity_updates`]) so tests can count pushes and read the last value
//! ([`PddSim::quantity`]).

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::PddError;
use super::PddSim;

/// The quantity a listed SKU has before any update.
pub const INITIAL_QUANTITY: i64 = 100;

/// One `pdd.goods.quantity.update` call the platform accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityUpdate {
    pub goods_id: u64,
    pub sku_id: u64,
    /// `update_type`: 1 full (set), 2 incremental (add).
    pub update_type: u8,
    /// The `quantity` parameter as sent.
    pub requested: i64,
    /// The SKU's quantity after the update.
    pub quantity: i64,
    pub at_ms: i64,
}

#[derive(Debug, Clone)]
struct Sku {
    #[allow(dead_code)] // kept for fidelity; the API addresses SKUs by id only
    outer_id: String,
    quantity: i64,
}

/// goods_id → sku_id → SKU, and the log of accepted updates.
#[derive(Debug, Default)]
pub(crate) struct Goods {
    goods: BTreeMap<u64, BTreeMap<u64, Sku>>,
    updates: Vec<QuantityUpdate>,
}

fn id(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        v => v.as_u64(),
    }
}

impl Goods {
    /// List `sku_id` of `goods_id` if not listed yet; a listed SKU keeps its quantity.
    pub(crate) fn add(&mut self, goods_id: u64, sku_id: u64, outer_id: &str) {
        self.goods
            .entry(goods_id)
            .or_default()
            .entry(sku_id)
            .or_insert_with(|| Sku {
                outer_id: outer_id.to_string(),
                quantity: INITIAL_QUANTITY,
            });
    }

    /// List the SKUs of an order's `item_list[]`.
    pub(crate) fn add_from_order(&mut self, order: &Value) {
        let Some(items) = order["item_list"].as_array() else {
            return;
        };
        for it in items {
            if let (Some(g), Some(s)) = (id(&it["goods_id"]), id(&it["sku_id"])) {
                self.add(g, s, it["outer_id"].as_str().unwrap_or(""));
            }
        }
    }

    pub(crate) fn quantity(&self, goods_id: u64, sku_id: u64) -> Option<i64> {
        self.goods.get(&goods_id)?.get(&sku_id).map(|s| s.quantity)
    }

    pub(crate) fn updates(&self) -> &[QuantityUpdate] {
        &self.updates
    }

    /// Apply one update (parameters already parsed); the SKU's new quantity.
    pub(crate) fn update(
        &mut self,
        goods_id: u64,
        sku_id: u64,
        quantity: i64,
        update_type: u8,
        now_ms: i64,
    ) -> Result<i64, PddError> {
        let skus = self.goods.get_mut(&goods_id).ok_or_else(|| {
            PddError::GoodsNotExist(format!("goods_id {goods_id} does not exist in this shop"))
        })?;
        let sku = skus.get_mut(&sku_id).ok_or_else(|| {
            PddError::GoodsNotExist(format!(
                "sku_id {sku_id} is not a SKU of goods_id {goods_id}"
            ))
        })?;
        let new = if update_type == 1 {
            quantity
        } else {
            sku.quantity + quantity
        };
        if new < 0 {
            return Err(PddError::InvalidParam(format!(
                "the quantity would become {new}; it must not be negative"
            )));
        }
        sku.quantity = new;
        self.updates.push(QuantityUpdate {
            goods_id,
            sku_id,
            update_type,
            requested: quantity,
            quantity: new,
            at_ms: now_ms,
        });
        Ok(new)
    }
}

impl PddSim {
    /// List SKU `sku_id` of goods `goods_id` (merchant code `outer_id`) for
    /// `pdd.goods.quantity.update`. Starts at [`INITIAL_QUANTITY`]; listing it again
    /// keeps its quantity.
    pub fn add_goods(&self, goods_id: u64, sku_id: u64, outer_id: &str) {
        self.state().goods.add(goods_id, sku_id, outer_id);
    }

    /// The quantity of a SKU; `None` when not listed.
    pub fn quantity(&self, goods_id: u64, sku_id: u64) -> Option<i64> {
        self.state().goods.quantity(goods_id, sku_id)
    }

    /// Every accepted `pdd.goods.quantity.update`, oldest first.
    pub fn quantity_updates(&self) -> Vec<QuantityUpdate> {
        self.state().goods.updates().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use md5::{Digest, Md5};
    use serde_json::Value;

    use super::INITIAL_QUANTITY;
    use crate::pinduoduo::{PddSim, PddSimConfig};
    use crate::time::now_ms;

    const STOCK: &str = "pdd.goods.quantity.update";

    async fn sim() -> PddSim {
        PddSim::start(PddSimConfig::default()).await.unwrap()
    }

    /// Sign by hand (MD5 of secret + sorted name+value + secret, upper hex) and POST a form.
    async fn call(sim: &PddSim, secret: &str, extra: &[(&str, &str)]) -> Value {
        let cfg = sim.config();
        let mut p: Vec<(String, String)> = [
            ("type", STOCK),
            ("client_id", cfg.client_id.as_str()),
            ("access_token", cfg.access_token.as_str()),
            ("timestamp", &(now_ms() / 1000).to_string()),
            ("data_type", "JSON"),
            ("version", "V1"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut sorted = p.clone();
        sorted.sort();
        let mut plain = secret.to_string();
        for (k, v) in &sorted {
            plain.push_str(k);
            plain.push_str(v);
        }
        plain.push_str(secret);
        p.push((
            "sign".into(),
            hex::encode_upper(Md5::digest(plain.as_bytes())),
        ));
        let r = reqwest::Client::new()
            .post(sim.router_url())
            .form(&p)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "PDD answers errors with HTTP 200 too");
        r.json().await.unwrap()
    }

    fn error(v: &Value) -> (i64, String) {
        let e = &v["error_response"];
        (
            e["error_code"].as_i64().unwrap_or(-1),
            e["sub_code"].as_str().unwrap_or("").to_string(),
        )
    }

    /// A full update sets a SKU listed from a generated order, answers is_success and is logged; type 2 adds.
    #[tokio::test]
    async fn quantity_update_sets_and_logs() {
        let sim = sim().await;
        let o = sim.generate_order_at(3, now_ms() - 3_600_000);
        let it = &o["item_list"][0];
        let (g, s) = (
            it["goods_id"].as_u64().unwrap(),
            it["sku_id"].as_u64().unwrap(),
        );
        assert_eq!(
            sim.quantity(g, s),
            Some(INITIAL_QUANTITY),
            "listed from the order"
        );
        let secret = sim.config().client_secret.clone();
        let (gs, ss) = (g.to_string(), s.to_string());
        let v = call(
            &sim,
            &secret,
            &[
                ("goods_id", &gs),
                ("sku_id", &ss),
                ("quantity", "7"),
                ("update_type", "1"),
            ],
        )
        .await;
        assert_eq!(
            v["goods_quantity_update_response"]["is_success"], true,
            "{v}"
        );
        assert!(v["goods_quantity_update_response"]["request_id"].is_string());
        assert_eq!(sim.quantity(g, s), Some(7));
        let v = call(
            &sim,
            &secret,
            &[
                ("goods_id", &gs),
                ("sku_id", &ss),
                ("quantity", "-2"),
                ("update_type", "2"),
            ],
        )
        .await;
        assert_eq!(
            v["goods_quantity_update_response"]["is_success"], true,
            "{v}"
        );
        assert_eq!(sim.quantity(g, s), Some(5));
        let log: Vec<(u64, u64, u8, i64)> = sim
            .quantity_updates()
            .iter()
            .map(|u| (u.goods_id, u.sku_id, u.update_type, u.quantity))
            .collect();
        assert_eq!(log, [(g, s, 1, 7), (g, s, 2, 5)]);
    }

    /// Unknown goods or SKUs get PDD's business error; bad parameters are 10000; nothing is logged.
    #[tokio::test]
    async fn quantity_update_refuses_unknown_goods() {
        let sim = sim().await;
        sim.add_goods(300_001, 900_011, "TEE-M");
        let secret = sim.config().client_secret.clone();
        let q = |g: &'static str, s: &'static str, n: &'static str| {
            vec![
                ("goods_id", g),
                ("sku_id", s),
                ("quantity", n),
                ("update_type", "1"),
            ]
        };
        let unknown = call(&sim, &secret, &q("300999", "900011", "1")).await;
        assert_eq!(
            error(&unknown),
            (60000, "isv.goods-not-exist".into()),
            "{unknown}"
        );
        let bad_sku = call(&sim, &secret, &q("300001", "900019", "1")).await;
        assert_eq!(error(&bad_sku), (60000, "isv.goods-not-exist".into()));
        assert!(bad_sku["error_response"]["sub_msg"]
            .as_str()
            .unwrap()
            .contains("900019"));
        let negative = call(&sim, &secret, &q("300001", "900011", "-1")).await;
        assert_eq!(error(&negative).0, 10000);
        let bad_type = call(
            &sim,
            &secret,
            &[
                ("goods_id", "300001"),
                ("sku_id", "900011"),
                ("quantity", "1"),
                ("update_type", "3"),
            ],
        )
        .await;
        assert_eq!(error(&bad_type).0, 10000);
        let missing = call(&sim, &secret, &[("goods_id", "300001"), ("quantity", "1")]).await;
        assert_eq!(error(&missing).0, 10000);
        assert_eq!(sim.quantity(300_001, 900_011), Some(INITIAL_QUANTITY));
        assert!(sim.quantity_updates().is_empty());
    }

    /// A quantity update signed with the wrong client secret is error 20004 and changes nothing.
    #[tokio::test]
    async fn quantity_update_with_a_bad_signature_is_rejected() {
        let sim = sim().await;
        sim.add_goods(300_001, 900_011, "TEE-M");
        let v = call(
            &sim,
            "not the secret",
            &[
                ("goods_id", "300001"),
                ("sku_id", "900011"),
                ("quantity", "5"),
            ],
        )
        .await;
        assert_eq!(error(&v), (20004, "isv.sign-invalid".into()), "{v}");
        assert_eq!(sim.quantity(300_001, 900_011), Some(INITIAL_QUANTITY));
        assert!(sim.quantity_updates().is_empty() && sim.calls().is_empty());
    }
}
