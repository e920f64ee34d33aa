//! Workload 2, translate: the Shopify plugin's own webhook code (`webhook::verify`: HMAC
//! check, JSON parse, `mapping`) compiled natively (the limit) vs inside the Wasm
//! component (`verify-webhook` on the same body). The signature check cannot be isolated
//! inside the component's export, so both sides include the HMAC; the native
//! mapping-only row shows how much of the work it is.

use std::hint::black_box;

use anyhow::{anyhow, Result};
use wharf_plugin_shopify::{mapping, webhook};

use crate::measure;
use crate::payload::{Delivery, CLIENT_SECRET};
use crate::report::Report;
use crate::runtime_calls::Figures;
use crate::sandbox::Reused;
use crate::stats::{ratio, us, Summary};
use crate::Iters;

const W: &str = "2 translate";

/// What the peers workload compares against.
pub struct Translate {
    pub native: Summary,
    pub wasm_reused: Summary,
    /// The normalised order (native), for checking the peers did the same work.
    pub expected: wharf_sdk::types::Order,
}

pub fn run(
    report: &mut Report,
    component: &[u8],
    fixture: &Delivery,
    runtime: &Figures,
    it: Iters,
) -> Result<Translate> {
    let headers = fixture.sdk_headers();
    let body = fixture.body.as_slice();
    let expected = webhook::verify(&headers, body, CLIENT_SECRET)
        .map_err(|e| anyhow!("native verify of the fixture: {e:?}"))?
        .orders
        .remove(0);

    let native = measure::each(it.warmup, it.translate_iters, || {
        let ev = webhook::verify(black_box(&headers), black_box(body), CLIENT_SECRET)
            .map_err(|e| anyhow!("{e:?}"))?;
        black_box(ev);
        Ok(())
    })?;
    let native_map_only = measure::each(it.warmup, it.translate_iters, || {
        black_box(mapping::order_from_bytes(black_box(body)).map_err(|e| anyhow!("{e:?}"))?);
        Ok(())
    })?;

    let mut reused = Reused::new(component)?;
    let wit_headers = Reused::headers(fixture);
    let total = reused.verify(&wit_headers, body)?;
    anyhow::ensure!(
        total == expected.total_paid.minor,
        "Wasm and native disagree on the total: {total} vs {}",
        expected.total_paid.minor
    );
    let wasm_reused = measure::each(it.warmup, it.translate_iters, || {
        black_box(reused.verify(&wit_headers, body)?);
        Ok(())
    })?;

    line(
        report,
        "native `webhook::verify` (HMAC + parse + map)",
        &native,
    );
    line(
        report,
        "native `mapping::order_from_bytes` (parse + map, no HMAC)",
        &native_map_only,
    );
    line(
        report,
        "Wasm `verify-webhook`, instance reused (HMAC + parse + map)",
        &wasm_reused,
    );
    let r = wasm_reused.p50.as_secs_f64() / native.p50.as_secs_f64();
    report.target(
        W,
        "Wasm ÷ native (same code, instance reused)",
        ratio(wasm_reused.p50, native.p50),
        "≤ 1.5×",
        r <= 1.5,
    );
    report.row(
        W,
        "Wasm ÷ native, production path (fresh instance per call)",
        ratio(runtime.verify.p50, native.p50),
    );
    report.note(format!(
        "Translate: the fixture is one {} B Shopify order; both sides run the plugin's \
         `webhook::verify` (HMAC-SHA256 over the body, serde parse, mapping); the Wasm side \
         also lifts/lowers the headers, body and normalised order across the component \
         boundary. Native HMAC + parse + map = {}, parse + map alone = {} (p50). Ratios \
         compare medians (p50): the machine is shared, and the median is the figure least \
         moved by other load.",
        body.len(),
        us(native.p50),
        us(native_map_only.p50)
    ));
    Ok(Translate {
        native,
        wasm_reused,
        expected,
    })
}

fn line(report: &mut Report, what: &str, s: &Summary) {
    report.row(W, what, s.timings());
}
