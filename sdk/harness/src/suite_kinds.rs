//! The acceptance checks of courier and accounting connectors (`wharf plugin test` on a
//! plugin whose manifest says `kind: courier` or `kind: accounting`). Their inputs are the
//! fixed sample request and journals below, so a recorded cassette replays exactly.
//!
//! | check | passes when |
//! |---|---|
//! | `courier.quote` | quoting the sample request answers at least one service, prices in the request's currency, none negative |
//! | `courier.create_waybill` | booking it answers a tracking number, a non-empty label, and the carrier code |
//! | `courier.track` | tracking that number answers events, oldest first |
//! | `ledger.post_journal` | the balanced sample journal is posted: a voucher with an id |
//! | `ledger.unbalanced` | a journal whose debits and credits differ is refused with `invalid-input` |
//! | `errors.401` / `errors.429` / `errors.5xx` | injected statuses on quote / post-journal map as for marketplaces |

use wharf_domain::accounting::{Journal, JournalEntry};
use wharf_domain::courier::{Parcel, WaybillRequest};
use wharf_domain::{Address, Money};
use wharf_runtime::{ConnectorError, FrozenClock};

use crate::session::Session;
use crate::suite::{check_errors_with, describe_result, ProbeFuture, Report};

/// The checks of a courier suite after `manifest` and `config`, in order.
pub const COURIER_CHECKS: [&str; 8] = [
    "describe",
    "courier.quote",
    "courier.create_waybill",
    "courier.track",
    "errors.401",
    "errors.429",
    "errors.5xx",
    "budget",
];

/// The checks of an accounting suite after `manifest` and `config`, in order.
pub const ACCOUNTING_CHECKS: [&str; 7] = [
    "describe",
    "ledger.post_journal",
    "ledger.unbalanced",
    "errors.401",
    "errors.429",
    "errors.5xx",
    "budget",
];

fn address(name: &str, city: &str, street: &str, postal: &str) -> Address {
    Address {
        name: name.into(),
        phone: "+1 555 0100".into(),
        country: "US".into(),
        province: "CA".into(),
        city: city.into(),
        district: String::new(),
        street: street.into(),
        postal_code: postal.into(),
        encrypted: false,
    }
}

/// What the courier checks ship: one 1.2 kg parcel, 25.00 USD declared.
pub fn sample_waybill_request() -> WaybillRequest {
    WaybillRequest {
        order_reference: "WH-1001".into(),
        service_code: None,
        sender: address("Acme Warehouse", "Oakland", "1 Dock Road", "94607"),
        receiver: address("Jane Doe", "San Francisco", "969 Market St", "94103"),
        parcels: vec![Parcel {
            weight_g: 1200,
            length_mm: 300,
            width_mm: 200,
            height_mm: 100,
        }],
        declared_value: Money::new(2500, "USD"),
    }
}

fn entry(account: &str, debit: i64, credit: i64, memo: &str) -> JournalEntry {
    JournalEntry {
        account: account.into(),
        debit: Money::new(debit, "USD"),
        credit: Money::new(credit, "USD"),
        memo: memo.into(),
        order_reference: None,
    }
}

/// What the accounting checks post: April 2024's sales, balanced (debits = credits).
pub fn sample_journal() -> Journal {
    Journal {
        reference: "wharf-2024-04-sales".into(),
        period_start: 1_711_929_600_000,
        period_end: 1_714_521_600_000,
        currency: "USD".into(),
        memo: "Channel sales April 2024".into(),
        entries: vec![
            entry("1122", 123_450, 0, "Receivable from the channel"),
            entry("6001", 0, 120_000, "Sales revenue"),
            entry("2221", 0, 3_450, "Output VAT"),
        ],
    }
}

/// The sample journal with one credit lowered by a cent: must never reach the ERP.
pub fn unbalanced_journal() -> Journal {
    let mut j = sample_journal();
    j.reference = "wharf-2024-04-unbalanced".into();
    j.entries[1].credit.minor -= 1;
    j
}

fn quote_probe(s: &Session) -> ProbeFuture<'_> {
    Box::pin(async move {
        s.quote(&sample_waybill_request())
            .await
            .0
            .map(|q| format!("{} quotes", q.len()))
    })
}

fn journal_probe(s: &Session) -> ProbeFuture<'_> {
    Box::pin(async move {
        s.post_journal(&sample_journal())
            .await
            .0
            .map(|v| format!("voucher {}", v.id))
    })
}

/// quote, create-waybill, track, then the error checks on quote.
pub(crate) async fn courier(r: &mut Report, s: &Session, clock: FrozenClock) {
    let req = sample_waybill_request();
    let (quotes, _) = s.quote(&req).await;
    r.verdict(
        "courier.quote",
        match quotes {
            Ok(q) if q.is_empty() => Err("no service quoted for the sample route".into()),
            Ok(q) => match q
                .iter()
                .find(|x| x.price.currency != req.declared_value.currency || x.price.minor < 0)
            {
                Some(bad) => Err(format!(
                    "service {:?} is priced {} {}: expected a non-negative {} amount",
                    bad.service_code,
                    bad.price.minor,
                    bad.price.currency,
                    req.declared_value.currency
                )),
                None => Ok(format!(
                    "{} service(s): {}",
                    q.len(),
                    q.iter()
                        .map(|x| format!(
                            "{} {} {}",
                            x.service_code, x.price.minor, x.price.currency
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            Err(e) => Err(format!("quote failed: {e}")),
        },
    );
    let (waybill, _) = s.create_waybill(&req).await;
    let tracking = match waybill {
        Ok(w) if w.tracking_number.trim().is_empty() => {
            r.fail(
                "courier.create_waybill",
                "the waybill has no tracking number",
            );
            None
        }
        Ok(w) if w.label.is_empty() || w.carrier.trim().is_empty() => {
            r.fail(
                "courier.create_waybill",
                format!(
                    "waybill {}: the label ({} bytes) and the carrier code ({:?}) must be given",
                    w.tracking_number,
                    w.label.len(),
                    w.carrier
                ),
            );
            None
        }
        Ok(w) => {
            r.pass(
                "courier.create_waybill",
                format!(
                    "{} {}, {:?} label of {} bytes",
                    w.carrier,
                    w.tracking_number,
                    w.label_format,
                    w.label.len()
                ),
            );
            Some(w.tracking_number)
        }
        Err(e) => {
            r.fail(
                "courier.create_waybill",
                format!("create-waybill failed: {e}"),
            );
            None
        }
    };
    match tracking {
        None => r.skip("courier.track", "not run: no waybill was created"),
        Some(tn) => {
            let (events, _) = s.track(&tn).await;
            r.verdict(
                "courier.track",
                match events {
                    Ok(ev) if ev.is_empty() => Err(format!("no tracking events for {tn}")),
                    Ok(ev) if ev.windows(2).any(|w| w[0].at > w[1].at) => {
                        Err(format!("the events of {tn} are not oldest first"))
                    }
                    Ok(ev) => Ok(format!(
                        "{} event(s) for {tn}, last {:?}",
                        ev.len(),
                        ev.last().map(|e| e.status)
                    )),
                    Err(e) => Err(format!("track {tn} failed: {e}")),
                },
            );
        }
    }
    check_errors_with(r, s, clock, quote_probe).await;
}

/// post-journal of the balanced sample, refusal of the unbalanced one, the error checks.
pub(crate) async fn accounting(r: &mut Report, s: &Session, clock: FrozenClock) {
    let (voucher, _) = s.post_journal(&sample_journal()).await;
    r.verdict(
        "ledger.post_journal",
        match voucher {
            Ok(v) if v.id.trim().is_empty() => Err("the voucher has no id".into()),
            Ok(v) => Ok(format!("voucher {} (number {:?})", v.id, v.number)),
            Err(e) => Err(format!("posting the balanced sample journal failed: {e}")),
        },
    );
    let (refused, _) = s.post_journal(&unbalanced_journal()).await;
    r.verdict(
        "ledger.unbalanced",
        match refused {
            Err(ConnectorError::InvalidInput(m)) => Ok(format!("refused: invalid-input ({m})")),
            other => Err(format!(
                "a journal whose debits exceed its credits by 1 must be refused with \
                 invalid-input, got {}",
                describe_result(&other.map(|v| v.id))
            )),
        },
    );
    check_errors_with(r, s, clock, journal_probe).await;
}
