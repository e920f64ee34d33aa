//! Workload 1, runtime: instantiate + call a trivial export (`describe`) of the real
//! Shopify component, and instantiate + `verify-webhook` with a signed ~5 KB order, through
//! `wharf_runtime::Runtime` (fresh store per call, as in production, on its pooling
//! allocator). For comparison, the same `describe` with the pool turned off
//! (`--plugin-instance-pool 0`: every instance allocated on demand).

use std::time::Duration;

use anyhow::Result;

use crate::measure;
use crate::payload::Delivery;
use crate::report::Report;
use crate::sandbox::Production;
use crate::stats::{us, Summary};
use crate::Iters;

/// What the translate workload reuses.
pub struct Figures {
    pub verify: Summary,
}

const W: &str = "1 runtime";
const TARGET: Duration = Duration::from_micros(10);

pub fn run(
    report: &mut Report,
    component: &[u8],
    fixture: &Delivery,
    it: Iters,
) -> Result<Figures> {
    let prod = Production::new(component)?;
    let describe = measure::each(it.warmup, it.iters, || prod.describe())?;
    line(
        report,
        "instantiate + `describe` (production runtime, fresh store)",
        &describe,
    );
    report.target(
        W,
        "instantiate + trivial call, p50",
        us(describe.p50),
        "≤ 10 µs",
        describe.p50 <= TARGET,
    );
    let verify = measure::each(it.warmup, it.iters, || prod.verify(fixture).map(|_| ()))?;
    line(
        report,
        &format!(
            "instantiate + `verify-webhook`, {} B signed order (production)",
            fixture.body.len()
        ),
        &verify,
    );

    let on_demand = Production::with_config(
        component,
        wharf_runtime::RuntimeConfig {
            instance_pool: 0,
            ..wharf_runtime::RuntimeConfig::default()
        },
    )?;
    let on_demand_describe = measure::each(it.warmup, it.iters, || on_demand.describe())?;
    line(
        report,
        "instantiate + `describe`, pool off (on-demand allocator)",
        &on_demand_describe,
    );
    report.note(format!(
        "Runtime: `wharf_runtime::Runtime` runs plugins on wasmtime's pooling allocator \
         ({} instance slots by default, `--plugin-instance-pool`); instantiation uses the \
         cached `InstancePre` and a fresh store per call. With the pool off every instance \
         is allocated on demand: {} vs {} p50.",
        wharf_runtime::DEFAULT_INSTANCE_POOL,
        us(on_demand_describe.p50),
        us(describe.p50)
    ));
    Ok(Figures { verify })
}

fn line(report: &mut Report, what: &str, s: &Summary) {
    report.row(W, what, s.timings());
}
