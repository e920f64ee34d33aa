//! A background stream of shop activity for demos: new orders and status changes, each
//! delivered as webhooks, with the disorder real platforms show: duplicate deliveries
//! and an update that overtakes its order's create.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinHandle;

use super::generate;
use super::{RetryPolicy, ShopifySim, WebhookEvent};
use crate::time;

impl ShopifySim {
    /// Every `every`, create or change an order and deliver its webhook(s) to
    /// `target_url`. Runs until the handle is aborted.
    pub fn spawn_traffic(&self, target_url: String, every: Duration) -> JoinHandle<()> {
        let sim = self.clone();
        tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(sim.config().seed);
            let retry = RetryPolicy {
                max_attempts: 3,
                backoff: Duration::from_millis(200),
                factor: 2,
                timeout: Duration::from_secs(5),
            };
            let mut last: Option<WebhookEvent> = None;
            let mut ticker = tokio::time::interval(every);
            loop {
                ticker.tick().await;
                let events = sim.tick(&mut rng, last.take());
                for ev in &events {
                    let report = sim.deliver_event(&target_url, ev, retry).await;
                    tracing::info!(
                        topic = %ev.topic,
                        webhook_id = %ev.webhook_id,
                        delivered = report.delivered,
                        attempts = report.attempts.len(),
                        "shopify simulator delivered a webhook"
                    );
                }
                last = events.last().cloned();
            }
        })
    }

    /// One step of traffic: the events to deliver, in delivery order.
    fn tick(&self, rng: &mut StdRng, last: Option<WebhookEvent>) -> Vec<WebhookEvent> {
        let roll = rng.gen_range(0..100);
        if roll < 10 {
            if let Some(dup) = last {
                return vec![dup];
            }
        }
        if roll < 55 || self.orders().is_empty() {
            let order = self.generate_with(rng, time::now_ms());
            let create = self.event("orders/create", &order);
            if rng.gen_bool(0.15) {
                // The update overtakes the create.
                let id = order["id"].as_u64().expect("generated id");
                if let Some(updated) = self.advance_order(id, rng) {
                    return vec![updated, create];
                }
            }
            return vec![create];
        }
        let ids: Vec<u64> = self.state().store.ids();
        for _ in 0..5 {
            let id = ids[rng.gen_range(0..ids.len())];
            if let Some(ev) = self.advance_order(id, rng) {
                return vec![ev];
            }
        }
        Vec::new()
    }

    /// Advance one order a step; the `orders/updated` event for it, if it changed.
    fn advance_order(&self, id: u64, rng: &mut StdRng) -> Option<WebhookEvent> {
        let mut current = self.order(id)?;
        generate::advance(&mut current, rng)?;
        let updated = self.update_order(id, |o| *o = current)?;
        Some(self.event("orders/updated", &updated))
    }
}
