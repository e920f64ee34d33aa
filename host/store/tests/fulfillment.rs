//! Fulfillment: automatic progression inside ingest, reviews, the task flow, merchant
//! transitions (cancel releases and ship consumes held stock), SLA breaches escalated
//! exactly once, and merchant scoping — on SQLite and PostgreSQL.

mod common;

use common::{order, world, World};
use wharf_domain::fulfillment::{PackRecord, SlaStep, State, TaskKind, TaskStatus};
use wharf_domain::ChannelStatus::{Cancelled, Paid, PendingPayment};
use wharf_domain::Order;
use wharf_store::fulfillment::{TaskCommand, TaskFilter, TransitionRequest};
use wharf_store::inventory::{NewSku, StockChange};
use wharf_store::sla::SlaRule;
use wharf_store::{IngestSource, StoreError};

async fn ingest(w: &World, o: Order) -> i64 {
    w.store
        .ingest(&w.inst, &[o], IngestSource::Verify)
        .await
        .unwrap()
        .order_ids[0]
}

async fn stocked(on_hand: i64) -> World {
    let w = world().await;
    let sku = NewSku {
        code: "SKU-1".into(),
        product_code: String::new(),
        title: "Mug".into(),
    };
    w.store.create_sku(w.merchant_id, &sku).await.unwrap();
    w.store
        .change_stock(
            w.merchant_id,
            "SKU-1",
            "main",
            StockChange::Set(on_hand),
            "api",
            "count",
        )
        .await
        .unwrap();
    w
}

async fn levels(w: &World) -> (i64, i64) {
    let s = w
        .store
        .get_sku(w.merchant_id, "SKU-1")
        .await
        .unwrap()
        .unwrap();
    (s.on_hand, s.reserved)
}

async fn state(w: &World, id: i64) -> String {
    w.store.fulfillment(w.merchant_id, id).await.unwrap().state
}

fn to(to: State) -> TransitionRequest {
    TransitionRequest {
        to,
        reason: "test".into(),
        carrier: None,
        tracking_number: None,
    }
}

fn parcel() -> PackRecord {
    PackRecord {
        weight_g: 450,
        length_mm: 300,
        width_mm: 200,
        height_mm: 100,
    }
}

async fn pick_task(w: &World, id: i64) -> i64 {
    let f = w.store.fulfillment(w.merchant_id, id).await.unwrap();
    f.tasks
        .iter()
        .find(|t| t.kind == TaskKind::Pick)
        .expect("a pick task")
        .id
}

async fn act(w: &World, task: i64, cmd: TaskCommand) -> Result<TaskStatus, StoreError> {
    w.store
        .act_on_task(w.merchant_id, task, &cmd, "api:bob")
        .await
        .map(|t| t.status)
}

/// A paid, clean order of a merchant without inventory goes received → ready → allocated
/// with a pick task in the ingest transaction; every step is audited with actor `system`.
#[tokio::test]
async fn paid_order_is_allocated_with_a_pick_task_in_ingest() {
    let w = world().await;
    let id = ingest(&w, order("A", Paid, 10)).await;
    let f = w.store.fulfillment(w.merchant_id, id).await.unwrap();
    assert_eq!(f.state, "allocated");
    assert!(f.paid_at.is_some());
    let steps: Vec<(&str, &str, &str)> = f
        .transitions
        .iter()
        .map(|t| (t.from.as_str(), t.to.as_str(), t.actor.as_str()))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("received", "ready", "system"),
            ("ready", "allocated", "system")
        ]
    );
    assert_eq!(f.tasks.len(), 1);
    assert_eq!(
        (f.tasks[0].kind, f.tasks[0].status),
        (TaskKind::Pick, TaskStatus::Open)
    );
    // A redelivery neither moves the order again nor duplicates the task.
    let mut again = order("A", Paid, 20);
    again.tags.push("x".into());
    ingest(&w, again).await;
    let f = w.store.fulfillment(w.merchant_id, id).await.unwrap();
    assert_eq!((f.transitions.len(), f.tasks.len()), (2, 1));
}

/// An unpaid order stays received; paying it later allocates it.
#[tokio::test]
async fn unpaid_order_waits_for_payment() {
    let w = world().await;
    let id = ingest(&w, order("A", PendingPayment, 10)).await;
    assert_eq!(state(&w, id).await, "received");
    ingest(&w, order("A", Paid, 20)).await;
    assert_eq!(state(&w, id).await, "allocated");
}

/// With inventory, an order allocates only when every line holds stock: an oversold one
/// stays on hold without a task, and allocates once restocked stock is reserved.
#[tokio::test]
async fn oversold_order_waits_on_hold_until_stock_is_held() {
    let w = stocked(1).await;
    let id = ingest(&w, order("A", Paid, 10)).await; // wants 2
    let f = w.store.fulfillment(w.merchant_id, id).await.unwrap();
    assert_eq!(f.state, "on_hold");
    assert!(f.tasks.is_empty());
    w.store
        .change_stock(
            w.merchant_id,
            "SKU-1",
            "main",
            StockChange::Adjust(4),
            "api",
            "delivery",
        )
        .await
        .unwrap();
    let mut o = order("A", Paid, 20);
    o.tags.push("updated".into());
    ingest(&w, o).await;
    let f = w.store.fulfillment(w.merchant_id, id).await.unwrap();
    assert_eq!(f.state, "allocated");
    assert_eq!(f.tasks.len(), 1);
    assert_eq!(levels(&w).await, (5, 2));
}

/// A flagged order stays received until approved; a merchant hold blocks progression
/// (even on updates) until approved again.
#[tokio::test]
async fn review_approve_and_hold() {
    let w = world().await;
    let mut o = order("A", Paid, 10);
    o.total_paid.minor += 1; // totals do not add up: flagged
    let id = ingest(&w, o.clone()).await;
    assert_eq!(state(&w, id).await, "received");
    let f = w
        .store
        .review_order(w.merchant_id, id, true, "checked by phone", "api:ops")
        .await
        .unwrap();
    assert_eq!(
        (f.state.as_str(), f.review.as_deref()),
        ("allocated", Some("approved"))
    );
    assert_eq!(f.tasks.len(), 1);

    let id2 = ingest(&w, order("B", PendingPayment, 10)).await;
    let f = w
        .store
        .review_order(w.merchant_id, id2, false, "suspicious buyer", "api:ops")
        .await
        .unwrap();
    assert_eq!(f.state, "on_hold");
    ingest(&w, order("B", Paid, 20)).await;
    assert_eq!(
        state(&w, id2).await,
        "on_hold",
        "a merchant hold survives payment"
    );
    let f = w
        .store
        .review_order(w.merchant_id, id2, true, "buyer verified", "api:ops")
        .await
        .unwrap();
    assert_eq!(f.state, "allocated");
    let last = f.transitions.last().unwrap();
    assert_eq!(last.actor, "api:ops");
    // Past review, a hold is refused with the reason.
    let err = w
        .store
        .review_order(w.merchant_id, id2, false, "late", "api:ops")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(ref m) if m.contains("allocated")),
        "{err}"
    );
}

/// pick → pack → label → ship → deliver through tasks and transitions; the pack needs its
/// parcel, the label its tracking number, and shipping consumes the held stock.
#[tokio::test]
async fn full_flow_consumes_stock_on_ship() {
    let w = stocked(5).await;
    let id = ingest(&w, order("A", Paid, 10)).await;
    assert_eq!(levels(&w).await, (5, 2));
    let pick = pick_task(&w, id).await;
    // Not assigned yet: cannot start.
    assert!(matches!(
        act(&w, pick, TaskCommand::Start).await,
        Err(StoreError::Conflict(_))
    ));
    let assign = TaskCommand::Assign {
        assignee: "bob".into(),
    };
    assert_eq!(act(&w, pick, assign).await.unwrap(), TaskStatus::Assigned);
    assert_eq!(
        act(&w, pick, TaskCommand::Start).await.unwrap(),
        TaskStatus::InProgress
    );
    assert_eq!(state(&w, id).await, "picking");
    let done = TaskCommand::Complete { parcel: None };
    assert_eq!(act(&w, pick, done).await.unwrap(), TaskStatus::Done);
    let filter = TaskFilter {
        kind: Some(TaskKind::Pack),
        ..TaskFilter::default()
    };
    let pack = w
        .store
        .list_tasks(w.merchant_id, &filter, 10)
        .await
        .unwrap()[0]
        .id;
    act(
        &w,
        pack,
        TaskCommand::Assign {
            assignee: "eve".into(),
        },
    )
    .await
    .unwrap();
    act(&w, pack, TaskCommand::Start).await.unwrap();
    let no_parcel = act(&w, pack, TaskCommand::Complete { parcel: None }).await;
    assert!(matches!(no_parcel, Err(StoreError::InvalidInput(_))));
    let by_hand = w
        .store
        .transition_order(w.merchant_id, id, &to(State::Packed), "api:x")
        .await;
    assert!(matches!(by_hand, Err(StoreError::Conflict(ref m)) if m.contains("pack record")));
    let packed = TaskCommand::Complete {
        parcel: Some(parcel()),
    };
    assert_eq!(act(&w, pack, packed).await.unwrap(), TaskStatus::Done);
    assert_eq!(state(&w, id).await, "packed");
    let unlabelled = w
        .store
        .transition_order(w.merchant_id, id, &to(State::Labelled), "api:x")
        .await;
    assert!(matches!(unlabelled, Err(StoreError::InvalidInput(_))));
    let label = TransitionRequest {
        carrier: Some("UPS".into()),
        tracking_number: Some("1Z999".into()),
        ..to(State::Labelled)
    };
    let f = w
        .store
        .transition_order(w.merchant_id, id, &label, "api:x")
        .await
        .unwrap();
    assert_eq!(
        (f.state.as_str(), f.tracking_number.as_deref()),
        ("labelled", Some("1Z999"))
    );
    w.store
        .transition_order(w.merchant_id, id, &to(State::Shipped), "api:x")
        .await
        .unwrap();
    assert_eq!(levels(&w).await, (3, 0), "shipping consumed the held units");
    assert_eq!(w.store.reservations(id).await.unwrap()[0].state, "consumed");
    let f = w
        .store
        .transition_order(w.merchant_id, id, &to(State::Delivered), "api:x")
        .await
        .unwrap();
    let path: Vec<&str> = f.transitions.iter().map(|t| t.to.as_str()).collect();
    assert_eq!(
        path,
        vec![
            "ready",
            "allocated",
            "picking",
            "packed",
            "labelled",
            "shipped",
            "delivered"
        ]
    );
    // A later channel "shipped" webhook consumes nothing twice.
    let mut shipped = order("A", wharf_domain::ChannelStatus::Shipped, 30);
    shipped.tags.push("s".into());
    ingest(&w, shipped).await;
    assert_eq!(levels(&w).await, (3, 0));
}

/// An illegal transition is refused with the table's reason and changes nothing.
#[tokio::test]
async fn illegal_transition_is_refused_with_reason() {
    let w = world().await;
    let id = ingest(&w, order("A", Paid, 10)).await;
    let err = w
        .store
        .transition_order(w.merchant_id, id, &to(State::Shipped), "api:x")
        .await
        .unwrap_err();
    match err {
        StoreError::Conflict(m) => assert!(m.contains("allocated") && m.contains("shipped"), "{m}"),
        other => panic!("{other}"),
    }
    assert_eq!(state(&w, id).await, "allocated");
}

/// A host-side cancel releases held stock (stock events, listings dirty) and cancels the
/// tasks; cancelling a shipped order is refused.
#[tokio::test]
async fn host_cancel_releases_stock_and_shipped_cannot_cancel() {
    let w = stocked(5).await;
    let id = ingest(&w, order("A", Paid, 10)).await;
    assert_eq!(levels(&w).await, (5, 2));
    let f = w
        .store
        .transition_order(w.merchant_id, id, &to(State::Cancelled), "api:x")
        .await
        .unwrap();
    assert_eq!(f.state, "cancelled");
    assert_eq!(f.tasks[0].status, TaskStatus::Cancelled);
    assert_eq!(levels(&w).await, (5, 0));
    assert_eq!(w.store.reservations(id).await.unwrap()[0].state, "released");
    let events = w
        .store
        .stock_events(w.merchant_id, "SKU-1", None, 50)
        .await
        .unwrap();
    assert!(events.iter().any(|e| e.kind == "release"), "{events:?}");
    // The channel's later "paid" update holds nothing again.
    let mut o = order("A", Paid, 20);
    o.tags.push("late".into());
    ingest(&w, o).await;
    assert_eq!(levels(&w).await, (5, 0));

    let id2 = ingest(&w, order("B", Paid, 10)).await;
    for st in [State::Labelled, State::Shipped] {
        let mut req = to(st);
        req.carrier = Some("UPS".into());
        req.tracking_number = Some("1".into());
        // labelled is illegal from allocated: walk the tasks first.
        if st == State::Labelled {
            let pick = pick_task(&w, id2).await;
            act(
                &w,
                pick,
                TaskCommand::Assign {
                    assignee: "b".into(),
                },
            )
            .await
            .unwrap();
            act(&w, pick, TaskCommand::Start).await.unwrap();
            act(&w, pick, TaskCommand::Complete { parcel: None })
                .await
                .unwrap();
            let filter = TaskFilter {
                order_id: Some(id2),
                kind: Some(TaskKind::Pack),
                ..TaskFilter::default()
            };
            let pack = w
                .store
                .list_tasks(w.merchant_id, &filter, 10)
                .await
                .unwrap()[0]
                .id;
            act(
                &w,
                pack,
                TaskCommand::Assign {
                    assignee: "b".into(),
                },
            )
            .await
            .unwrap();
            act(&w, pack, TaskCommand::Start).await.unwrap();
            act(
                &w,
                pack,
                TaskCommand::Complete {
                    parcel: Some(parcel()),
                },
            )
            .await
            .unwrap();
        }
        w.store
            .transition_order(w.merchant_id, id2, &req, "api:x")
            .await
            .unwrap();
    }
    let err = w
        .store
        .transition_order(w.merchant_id, id2, &to(State::Cancelled), "api:x")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(ref m) if m.contains("carrier")),
        "{err}"
    );
}

/// A channel cancellation before shipping cancels the order (actor `channel`) and its
/// tasks; inventory has already released the stock.
#[tokio::test]
async fn channel_cancellation_cancels() {
    let w = stocked(5).await;
    let id = ingest(&w, order("A", Paid, 10)).await;
    ingest(&w, order("A", Cancelled, 20)).await;
    let f = w.store.fulfillment(w.merchant_id, id).await.unwrap();
    assert_eq!(f.state, "cancelled");
    assert_eq!(f.transitions.last().unwrap().actor, "channel");
    assert_eq!(f.tasks[0].status, TaskStatus::Cancelled);
    assert_eq!(levels(&w).await, (5, 0));
}

/// An overdue task and an overdue shipment each raise exactly one escalation, with one
/// notify job when a webhook is configured; the secret never appears in the settings.
#[tokio::test]
async fn breaches_escalate_exactly_once() {
    let w = world().await;
    w.store
        .put_sla_rules(
            w.merchant_id,
            &[
                SlaRule {
                    step: SlaStep::Pick,
                    limit_secs: 60,
                },
                SlaRule {
                    step: SlaStep::Ship,
                    limit_secs: 3600,
                },
            ],
        )
        .await
        .unwrap();
    let s = w
        .store
        .put_notification_settings(w.merchant_id, "http://127.0.0.1:9/hook", "0123456789abcdef")
        .await
        .unwrap();
    assert!(!serde_json::to_string(&s)
        .unwrap()
        .contains("0123456789abcdef"));
    let id = ingest(&w, order("A", Paid, 10)).await;
    let pick = pick_task(&w, id).await;
    act(
        &w,
        pick,
        TaskCommand::Assign {
            assignee: "bob".into(),
        },
    )
    .await
    .unwrap();
    act(&w, pick, TaskCommand::Start).await.unwrap();
    let t = w.store.get_task(w.merchant_id, pick).await.unwrap();
    let due = t.due_at.expect("a pick deadline");
    assert!(w.store.detect_breaches(due - 1).await.unwrap().is_empty());
    let first = w.store.detect_breaches(due + 1).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].step.as_str(), first[0].task_id),
        ("pick", Some(pick))
    );
    assert!(w.store.detect_breaches(due + 2).await.unwrap().is_empty());
    let ship_due = w
        .store
        .fulfillment(w.merchant_id, id)
        .await
        .unwrap()
        .ship_due_at
        .unwrap();
    let second = w.store.detect_breaches(ship_due + 1).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].step, "ship");
    assert!(w
        .store
        .detect_breaches(ship_due + 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        w.store.escalations(w.merchant_id, 10).await.unwrap().len(),
        2
    );
    let jobs = w.store.list_jobs(w.merchant_id, None, 100).await.unwrap();
    assert_eq!(jobs.iter().filter(|j| j.kind == "notify").count(), 2);
    // Concurrent detectors (several nodes) still record one escalation per breach.
    let id2 = ingest(&w, order("B", Paid, 10)).await;
    let due2 = w
        .store
        .fulfillment(w.merchant_id, id2)
        .await
        .unwrap()
        .ship_due_at
        .unwrap();
    let (a, b) = tokio::join!(
        w.store.detect_breaches(due2 + 1),
        w.store.detect_breaches(due2 + 1)
    );
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 1);
}

/// Another merchant sees none of it: orders, tasks and reviews are 404.
#[tokio::test]
async fn other_merchants_get_not_found() {
    let w = world().await;
    let id = ingest(&w, order("A", Paid, 10)).await;
    let pick = pick_task(&w, id).await;
    let other = w.store.create_merchant("Other").await.unwrap().id;
    assert!(matches!(
        w.store.fulfillment(other, id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        w.store.get_task(other, pick).await,
        Err(StoreError::NotFound(_))
    ));
    let cmd = TaskCommand::Assign {
        assignee: "x".into(),
    };
    assert!(matches!(
        w.store.act_on_task(other, pick, &cmd, "api:x").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        w.store
            .transition_order(other, id, &to(State::Cancelled), "api:x")
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(w
        .store
        .list_tasks(other, &TaskFilter::default(), 10)
        .await
        .unwrap()
        .is_empty());
}
