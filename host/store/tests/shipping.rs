//! Shipping and after-sales in the store: packing enqueues one waybill job, a waybill is
//! stored once however often the job retries, carrier rules are validated against the
//! merchant's installations, shipping enqueues the channel confirmation and starts
//! tracking, tracking events are deduplicated and move the order (delivered, refused,
//! returned), and after-sales tickets open idempotently from tags — on SQLite and
//! PostgreSQL.

mod common;

use std::collections::BTreeMap;

use common::{order, world, World};
use wharf_domain::after_sales::{TicketKind, TicketStatus};
use wharf_domain::carrier::{CarrierRule, CarrierRules, Pick, WeightRange};
use wharf_domain::courier::{LabelFormat, TrackingEvent, TrackingStatus, Waybill};
use wharf_domain::fulfillment::{PackRecord, State, TaskKind};
use wharf_domain::manifest::Manifest;
use wharf_domain::ChannelStatus::{Paid, Refunded, Shipped};
use wharf_domain::{Money, Order};
use wharf_store::after_sales::{TicketCommand, TicketFilter};
use wharf_store::fulfillment::{TaskCommand, TaskFilter, TransitionRequest};
use wharf_store::shipping::{NewShipment, ShippingSettings, TrackingProvider};
use wharf_store::{IngestSource, NewInstallation, StoreError};

async fn ingest(w: &World, o: Order) -> i64 {
    w.store
        .ingest(&w.inst, &[o], IngestSource::Verify)
        .await
        .unwrap()
        .order_ids[0]
}

async fn courier(w: &World, shop: &str) -> i64 {
    let m = Manifest::from_json(
        serde_json::json!({"name": format!("courier-{shop}"), "version": "0.1.0", "kind": "courier",
            "wit_version": "0.2.0", "hosts": [], "config_schema": {"type": "object", "properties": {}},
            "secrets": []})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let p = w.store.insert_plugin(&m, b"\0asm courier").await.unwrap();
    w.store
        .create_installation(NewInstallation {
            merchant_id: w.merchant_id,
            plugin_id: p.id,
            shop: shop.into(),
            config: BTreeMap::new(),
            secrets: BTreeMap::new(),
            egress_grant: vec![],
            pull_interval_secs: 300,
        })
        .await
        .unwrap()
        .id
}

async fn state(w: &World, id: i64) -> String {
    w.store.fulfillment(w.merchant_id, id).await.unwrap().state
}

/// Take a paid order through pick and pack (with a parcel).
async fn packed(w: &World, external: &str) -> i64 {
    let id = ingest(w, order(external, Paid, 10)).await;
    for kind in [TaskKind::Pick, TaskKind::Pack] {
        let filter = TaskFilter {
            order_id: Some(id),
            kind: Some(kind),
            ..TaskFilter::default()
        };
        let task = w
            .store
            .list_tasks(w.merchant_id, &filter, 10)
            .await
            .unwrap()[0]
            .id;
        let parcel = (kind == TaskKind::Pack).then_some(PackRecord {
            weight_g: 800,
            length_mm: 300,
            width_mm: 200,
            height_mm: 100,
        });
        for cmd in [
            TaskCommand::Assign {
                assignee: "bob".into(),
            },
            TaskCommand::Start,
            TaskCommand::Complete { parcel },
        ] {
            w.store
                .act_on_task(w.merchant_id, task, &cmd, "api:bob")
                .await
                .unwrap();
        }
    }
    assert_eq!(state(w, id).await, "packed");
    id
}

fn new_shipment(inst: i64, tracking: &str) -> NewShipment {
    NewShipment {
        installation_id: inst,
        service_code: Some("standard".into()),
        waybill: Waybill {
            carrier: "sf".into(),
            tracking_number: tracking.into(),
            label_format: LabelFormat::Zpl,
            label: b"^XA^FDAda^FS^XZ".to_vec(),
            price: Some(Money::new(1200, "CNY")),
        },
        rule: "#1 all".into(),
        rule_reason: "matches every parcel → installation".into(),
    }
}

fn ev(at: i64, status: TrackingStatus, raw: &str) -> TrackingEvent {
    TrackingEvent {
        at,
        status,
        raw_status: raw.into(),
        description: raw.into(),
        location: "Shenzhen".into(),
    }
}

async fn jobs_of(w: &World, kind: &str) -> Vec<wharf_store::Job> {
    w.store
        .list_jobs(w.merchant_id, None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == kind)
        .collect()
}

async fn ship(w: &World, id: i64) {
    let req = TransitionRequest {
        to: State::Shipped,
        reason: "handed over".into(),
        carrier: None,
        tracking_number: None,
    };
    w.store
        .transition_order(w.merchant_id, id, &req, "api:bob")
        .await
        .unwrap();
}

// Packing enqueues exactly one create_waybill job; recording the waybill twice (a
// retried job) stores one shipment and moves the order packed → labelled once.
#[tokio::test]
async fn waybill_is_stored_once_under_retry() {
    let w = world().await;
    let sf = courier(&w, "sf").await;
    let id = packed(&w, "A").await;
    let jobs = jobs_of(&w, "create_waybill").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].payload["order_id"], id);
    let first = w
        .store
        .record_waybill(w.merchant_id, id, &new_shipment(sf, "SF1"), "system")
        .await
        .unwrap();
    let again = w
        .store
        .record_waybill(w.merchant_id, id, &new_shipment(sf, "SF2"), "system")
        .await
        .unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(again.tracking_number, "SF1");
    let all = w.store.shipments(w.merchant_id, id).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].label_bytes, 15);
    assert_eq!(all[0].rule, "#1 all");
    let f = w.store.fulfillment(w.merchant_id, id).await.unwrap();
    assert_eq!(f.state, "labelled");
    assert_eq!(
        (f.carrier.as_deref(), f.tracking_number.as_deref()),
        (Some("sf"), Some("SF1"))
    );
    let labelled: Vec<_> = f
        .transitions
        .iter()
        .filter(|t| t.to == "labelled")
        .collect();
    assert_eq!(labelled.len(), 1);
    let (format, bytes, _) = w.store.label(w.merchant_id, id).await.unwrap();
    assert_eq!(
        (format, bytes.as_slice()),
        (LabelFormat::Zpl, &b"^XA^FDAda^FS^XZ"[..])
    );
    // Another merchant sees none of it.
    let other = w.store.create_merchant("Other").await.unwrap();
    assert!(matches!(
        w.store.shipments(other.id, id).await,
        Err(StoreError::NotFound(_))
    ));
}

// Cancelling a labelled waybill moves the order back to packed and allows a new one;
// once shipped, cancellation is refused.
#[tokio::test]
async fn cancel_then_recreate_then_refused_after_shipping() {
    let w = world().await;
    let sf = courier(&w, "sf").await;
    let id = packed(&w, "A").await;
    let s1 = w
        .store
        .record_waybill(w.merchant_id, id, &new_shipment(sf, "SF1"), "system")
        .await
        .unwrap();
    let c = w
        .store
        .cancel_shipment(w.merchant_id, id, s1.id, "api:bob")
        .await
        .unwrap();
    assert_eq!(c.state, "cancelled");
    assert_eq!(state(&w, id).await, "packed");
    let ctx = w.store.waybill_context(w.merchant_id, id).await.unwrap();
    assert_eq!((ctx.cancelled, ctx.live.is_none()), (1, true));
    let s2 = w
        .store
        .record_waybill(w.merchant_id, id, &new_shipment(sf, "SF2"), "system")
        .await
        .unwrap();
    assert_ne!(s1.id, s2.id);
    ship(&w, id).await;
    let refused = w
        .store
        .cancel_shipment(w.merchant_id, id, s2.id, "api:bob")
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(ref m)) if m.contains("shipped")),
        "{refused:?}"
    );
}

// Rules naming an unknown installation, a marketplace installation or a bad weight
// range are refused with the reason; a valid list round-trips.
#[tokio::test]
async fn carrier_rules_are_validated_against_installations() {
    let w = world().await;
    let sf = courier(&w, "sf").await;
    let rule = |pick: Pick, weight: Option<WeightRange>| CarrierRules {
        rules: vec![CarrierRule {
            name: "r".into(),
            region: None,
            weight,
            pick,
        }],
        default: None,
    };
    let fixed = |id| Pick::Fixed {
        installation_id: id,
        service_code: None,
    };
    let err = |r: Result<CarrierRules, StoreError>| match r {
        Err(StoreError::InvalidInput(m)) => m,
        other => panic!("expected invalid input, got {other:?}"),
    };
    let m = w.merchant_id;
    assert!(
        err(w.store.put_carrier_rules(m, rule(fixed(9999), None)).await)
            .contains("unknown installation")
    );
    assert!(err(w
        .store
        .put_carrier_rules(m, rule(fixed(w.inst.id), None))
        .await)
    .contains("not a courier"));
    let bad = WeightRange {
        min_g: Some(10),
        max_g: Some(1),
    };
    assert!(err(w
        .store
        .put_carrier_rules(m, rule(fixed(sf), Some(bad)))
        .await)
    .contains("weight"));
    let ok = rule(fixed(sf), None);
    w.store.put_carrier_rules(m, ok.clone()).await.unwrap();
    assert_eq!(w.store.carrier_rules(m).await.unwrap(), ok);
    let tracking_err = w
        .store
        .put_shipping_settings(
            m,
            ShippingSettings {
                sender: None,
                tracking: vec![TrackingProvider {
                    carrier: "sf".into(),
                    installation_id: w.inst.id,
                }],
            },
        )
        .await;
    assert!(
        matches!(tracking_err, Err(StoreError::InvalidInput(ref e)) if e.contains("not a courier"))
    );
}

// Shipping enqueues one confirm_shipment job, starts tracking with the merchant's
// tracking provider for the carrier, and the confirmation result lands on the shipment.
#[tokio::test]
async fn shipping_enqueues_confirmation_and_starts_tracking() {
    let w = world().await;
    let sf = courier(&w, "sf").await;
    let k100 = courier(&w, "kuaidi100").await;
    let settings = ShippingSettings {
        sender: None,
        tracking: vec![TrackingProvider {
            carrier: "SF".into(),
            installation_id: k100,
        }],
    };
    w.store
        .put_shipping_settings(w.merchant_id, settings)
        .await
        .unwrap();
    let id = packed(&w, "A").await;
    w.store
        .record_waybill(w.merchant_id, id, &new_shipment(sf, "SF1"), "system")
        .await
        .unwrap();
    ship(&w, id).await;
    let confirm = jobs_of(&w, "confirm_shipment").await;
    assert_eq!(confirm.len(), 1);
    assert_eq!(confirm[0].installation_id, Some(w.inst.id));
    let due = w.store.due_tracking(i64::MAX / 2, 60_000).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].2, k100, "tracked by the merchant's provider for sf");
    // Pushed one interval on: not due again right away.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(w.store.due_tracking(now, 60_000).await.unwrap().is_empty());
    use wharf_store::shipping::ConfirmOutcome;
    w.store
        .record_confirmation(id, &ConfirmOutcome::Failed("transient: HTTP 503".into()))
        .await
        .unwrap();
    let s = w
        .store
        .live_shipment(w.merchant_id, id)
        .await
        .unwrap()
        .unwrap();
    assert!(s.confirm_error.as_deref().unwrap().contains("503"));
    w.store
        .record_confirmation(id, &ConfirmOutcome::Confirmed)
        .await
        .unwrap();
    let s = w
        .store
        .live_shipment(w.merchant_id, id)
        .await
        .unwrap()
        .unwrap();
    assert!(s.confirmed_at.is_some() && s.confirm_error.is_none());
}

// Tracking events are stored once per (shipment, at, raw status) however often they
// are polled; delivered moves the order to delivered and ends tracking.
#[tokio::test]
async fn tracking_is_deduplicated_and_delivered_ends_it() {
    let w = world().await;
    let sf = courier(&w, "sf").await;
    let id = packed(&w, "A").await;
    let s = w
        .store
        .record_waybill(w.merchant_id, id, &new_shipment(sf, "SF1"), "system")
        .await
        .unwrap();
    ship(&w, id).await;
    let first = [
        ev(1, TrackingStatus::InfoReceived, "CREATED"),
        ev(2, TrackingStatus::InTransit, "PICKED_UP"),
    ];
    assert_eq!(
        w.store
            .record_tracking(s.id, &first, "tracking")
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        w.store
            .record_tracking(s.id, &first, "tracking")
            .await
            .unwrap(),
        0
    );
    assert_eq!(state(&w, id).await, "shipped");
    let all = [
        first[0].clone(),
        first[1].clone(),
        ev(3, TrackingStatus::Delivered, "SIGNED"),
    ];
    assert_eq!(
        w.store
            .record_tracking(s.id, &all, "tracking")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        w.store
            .tracking_events(w.merchant_id, id)
            .await
            .unwrap()
            .len(),
        3
    );
    let f = w.store.fulfillment(w.merchant_id, id).await.unwrap();
    assert_eq!(f.state, "delivered");
    assert_eq!(f.transitions.last().unwrap().actor, "tracking");
    assert!(w
        .store
        .due_tracking(i64::MAX / 2, 1)
        .await
        .unwrap()
        .is_empty());
}

// A refused delivery moves the order to exception (tracking goes on); a return then
// moves it to returned, and tracking stops.
#[tokio::test]
async fn refused_then_returned() {
    let w = world().await;
    let sf = courier(&w, "sf").await;
    let id = packed(&w, "A").await;
    let s = w
        .store
        .record_waybill(w.merchant_id, id, &new_shipment(sf, "SF1"), "system")
        .await
        .unwrap();
    ship(&w, id).await;
    let refused = [ev(5, TrackingStatus::Exception, "REFUSED")];
    w.store
        .record_tracking(s.id, &refused, "tracking")
        .await
        .unwrap();
    assert_eq!(state(&w, id).await, "exception");
    assert_eq!(
        w.store.due_tracking(i64::MAX / 2, 1).await.unwrap().len(),
        1
    );
    let back = [
        refused[0].clone(),
        ev(6, TrackingStatus::Returned, "RETURNED"),
    ];
    w.store
        .record_tracking(s.id, &back, "tracking")
        .await
        .unwrap();
    assert_eq!(state(&w, id).await, "returned");
    assert!(w
        .store
        .due_tracking(i64::MAX / 2, 1)
        .await
        .unwrap()
        .is_empty());
}

// A return straight from shipped goes through exception, each step audited.
#[tokio::test]
async fn returned_from_shipped_passes_exception() {
    let w = world().await;
    let sf = courier(&w, "sf").await;
    let id = packed(&w, "A").await;
    let s = w
        .store
        .record_waybill(w.merchant_id, id, &new_shipment(sf, "SF1"), "system")
        .await
        .unwrap();
    ship(&w, id).await;
    w.store
        .record_tracking(
            s.id,
            &[ev(9, TrackingStatus::Returned, "RETURNED")],
            "tracking",
        )
        .await
        .unwrap();
    let f = w.store.fulfillment(w.merchant_id, id).await.unwrap();
    let tail: Vec<(&str, &str)> = f
        .transitions
        .iter()
        .rev()
        .take(2)
        .map(|t| (t.from.as_str(), t.to.as_str()))
        .collect();
    assert_eq!(
        tail,
        vec![("exception", "returned"), ("shipped", "exception")]
    );
}

fn tagged(external: &str, status: wharf_domain::ChannelStatus, at: i64, tags: &[&str]) -> Order {
    let mut o = order(external, status, at);
    o.tags = tags.iter().map(|t| t.to_string()).collect();
    o
}

// A return request opens one ticket; redelivery and later updates with the same tag
// open no second one; a resolved ticket is not reopened by the same request; the channel
// closing the request closes a live ticket; a new request after that opens a new one.
#[tokio::test]
async fn tickets_open_once_per_request() {
    let w = world().await;
    let id = ingest(&w, order("A", Shipped, 10)).await;
    let req = ["after-sales:return-requested"];
    ingest(&w, tagged("A", Shipped, 20, &req)).await;
    ingest(&w, tagged("A", Shipped, 20, &req)).await;
    ingest(&w, tagged("A", Shipped, 30, &req)).await;
    let filter = TicketFilter {
        order_id: Some(id),
        ..TicketFilter::default()
    };
    let tickets = w
        .store
        .list_tickets(w.merchant_id, &filter, 10)
        .await
        .unwrap();
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    assert_eq!(
        (tickets[0].kind, tickets[0].status),
        (TicketKind::Return, TicketStatus::Open)
    );
    assert_eq!(tickets[0].queue, "customer_service");
    let t = tickets[0].id;
    let m = w.merchant_id;
    w.store
        .act_on_ticket(
            m,
            t,
            &TicketCommand::Resolve {
                note: Some("refunded by hand".into()),
            },
            "api:cs",
        )
        .await
        .unwrap();
    ingest(&w, tagged("A", Shipped, 40, &req)).await;
    assert_eq!(w.store.list_tickets(m, &filter, 10).await.unwrap().len(), 1);
    // The channel closes the request, then the buyer asks again.
    ingest(&w, tagged("A", Shipped, 50, &["after-sales:closed"])).await;
    ingest(&w, tagged("A", Shipped, 60, &req)).await;
    let tickets = w.store.list_tickets(m, &filter, 10).await.unwrap();
    assert_eq!(tickets.len(), 2);
    assert_eq!(tickets[1].status, TicketStatus::Open);
    // Closing while live closes the ticket with a note.
    ingest(&w, tagged("A", Shipped, 70, &["after-sales:closed"])).await;
    let closed = w.store.get_ticket(m, tickets[1].id).await.unwrap();
    assert_eq!(closed.status, TicketStatus::Closed);
    assert!(closed.notes.iter().any(|n| n.body.contains("closed")));
}

// A new order that arrives with a return request opens its ticket as it is inserted,
// with its event; a new order refunded before it was ever paid opens no refund ticket.
#[tokio::test]
async fn a_new_order_opens_its_ticket_as_it_is_inserted() {
    let w = world().await;
    let m = w.merchant_id;
    let id = ingest(
        &w,
        tagged("N", Shipped, 10, &["after-sales:return-requested"]),
    )
    .await;
    let of = |order_id| TicketFilter {
        order_id: Some(order_id),
        ..TicketFilter::default()
    };
    let tickets = w.store.list_tickets(m, &of(id), 10).await.unwrap();
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    assert_eq!(
        (tickets[0].kind, tickets[0].channel_state.as_str()),
        (TicketKind::Return, "requested")
    );
    let detail = w.store.get_order(m, id).await.unwrap().unwrap();
    let opened = format!("return ticket {} opened", tickets[0].id);
    assert!(
        detail.events.iter().any(|e| e.kind == "after_sales"
            && e.detail.as_deref().is_some_and(|d| d.starts_with(&opened))),
        "{:?}",
        detail.events
    );
    let unpaid = ingest(&w, order("U", Refunded, 10)).await;
    assert!(w
        .store
        .list_tickets(m, &of(unpaid), 10)
        .await
        .unwrap()
        .is_empty());
}

// A refund of a paid order opens a refund ticket; the ticket table is enforced (409
// with the reason) and scoped to the merchant.
#[tokio::test]
async fn refund_opens_a_ticket_and_the_table_is_enforced() {
    let w = world().await;
    let id = ingest(&w, order("R", Paid, 10)).await;
    ingest(&w, order("R", Refunded, 20)).await;
    let m = w.merchant_id;
    let tickets = w
        .store
        .list_tickets(
            m,
            &TicketFilter {
                order_id: Some(id),
                ..TicketFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(tickets.len(), 1);
    assert_eq!(
        (tickets[0].kind, tickets[0].channel_state.as_str()),
        (TicketKind::Refund, "refunded")
    );
    let t = tickets[0].id;
    let assign = TicketCommand::Assign {
        assignee: "carol".into(),
        queue: Some("refunds".into()),
    };
    let a = w
        .store
        .act_on_ticket(m, t, &assign, "api:lead")
        .await
        .unwrap();
    assert_eq!(
        (a.status, a.assignee.as_deref(), a.queue.as_str()),
        (TicketStatus::Open, Some("carol"), "refunds")
    );
    w.store
        .act_on_ticket(m, t, &TicketCommand::Start, "api:carol")
        .await
        .unwrap();
    let again = w
        .store
        .act_on_ticket(m, t, &TicketCommand::Start, "api:carol")
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict(ref e)) if e.contains("in_progress")),
        "{again:?}"
    );
    w.store
        .act_on_ticket(m, t, &TicketCommand::Reject { note: None }, "api:carol")
        .await
        .unwrap();
    let late = w
        .store
        .act_on_ticket(m, t, &TicketCommand::Resolve { note: None }, "api:carol")
        .await;
    assert!(matches!(late, Err(StoreError::Conflict(ref e)) if e.contains("rejected")));
    let noted = w
        .store
        .act_on_ticket(
            m,
            t,
            &TicketCommand::Note {
                body: "customer called".into(),
            },
            "api:carol",
        )
        .await
        .unwrap();
    assert_eq!(noted.notes.last().unwrap().body, "customer called");
    let other = w.store.create_merchant("Other").await.unwrap();
    assert!(matches!(
        w.store.get_ticket(other.id, t).await,
        Err(StoreError::NotFound(_))
    ));
}
