//! Workload 1, runtime: instantiate + call a trivial export (`describe`) of the real
//! Shopify component, and instantiate + `verify-webhook` with a signed ~5 KB order, through
//! `wharf_runtime::Runtime` (fresh store per call, as in production). For comparison, the
//! same `describe` on a bench-local engine with the pooling allocator.

use std::time::Duration;

use anyhow::Result;

use crate::measure;
use crate::payload::Delivery;
use crate::report::Report;
use crate::sandbox::{Pooled, Production};
use crate::stats::{rate, us, Summary};
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

    let pooled = Pooled::new(
        component,
        wharf_runtime::RuntimeConfig::default().memory_bytes,
    )?;
    let pooled_describe = measure::each(it.warmup, it.iters, || pooled.describe())?;
    line(
        report,
        "instantiate + `describe`, pooling allocator (bench engine, not production)",
        &pooled_describe,
    );
    report.note(format!(
        "Runtime: `wharf_runtime::Runtime` builds its engine with wasmtime's default on-demand \
         instance allocator (no pooling allocator); instantiation uses the cached `InstancePre`. \
         The pooling row is a bench-local engine (same component, `config` + `log` linked, other \
         imports trapping) showing what pooling would give: {} vs {} p50.",
        us(pooled_describe.p50),
        us(describe.p50)
    ));
    Ok(Figures { verify })
}

fn line(report: &mut Report, what: &str, s: &Summary) {
    report.row(
        W,
        what,
        format!(
            "mean {} · p50 {} · p99 {} · {} (n={})",
            us(s.mean),
            us(s.p50),
            us(s.p99),
            rate(s.per_sec()),
            s.n
        ),
    );
}
