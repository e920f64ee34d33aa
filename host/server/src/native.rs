//! The benchmark switch of the native plugin path (feature `native-plugins`): once
//! [`enable`]d — only the `wharf-native-bench` binary does — webhooks of installations
//! whose platform has a native build ([`wharf_runtime::native::PLATFORMS`]) are verified
//! by that code outside the sandbox. Everything else in the pipeline is unchanged, so the
//! benchmark's two runs differ only in the plugin call.

use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turn the native path on for this process, saying so on stderr.
pub fn enable() {
    eprintln!(
        "wharf-native-bench: Shopify webhooks are verified by native code, OUTSIDE the \
         sandbox (benchmark build, not a deployment)"
    );
    ENABLED.store(true, Ordering::SeqCst);
}

/// Whether [`enable`] was called.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}
