//! Timing loops: warm up, then time every iteration on its own.

use std::time::Instant;

use anyhow::Result;

use crate::stats::Summary;

/// Run `f` `warmup` times untimed, then `iters` times timed one by one. The first error
/// stops the benchmark (a failing call must not be timed as a fast one).
pub fn each(warmup: usize, iters: usize, mut f: impl FnMut() -> Result<()>) -> Result<Summary> {
    for _ in 0..warmup {
        f()?;
    }
    let mut samples = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        f()?;
        samples.push(t.elapsed());
    }
    Ok(Summary::of(samples))
}
