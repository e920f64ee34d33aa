//! Loading components: the compile cache and clear errors for bytes that are not a
//! marketplace component.

mod common;

use std::time::Instant;

use common::{plugin_bytes, test_config};
use wharf_runtime::{Runtime, RuntimeError, WIT_VERSION};

// Loading the same bytes twice reuses the compiled component (cache hit, no recompile).
#[test]
fn loading_the_same_bytes_twice_hits_the_cache() {
    let rt = Runtime::new(test_config()).unwrap();
    let bytes = plugin_bytes("wharf_plugin_hostile");
    let first_started = Instant::now();
    let a = rt.load(&bytes, WIT_VERSION).unwrap();
    let first = first_started.elapsed();
    let second_started = Instant::now();
    let b = rt.load(&bytes.clone(), WIT_VERSION).unwrap();
    let second = second_started.elapsed();
    assert!(
        a.same_component(&b),
        "the second load returns the cached component"
    );
    assert_eq!(rt.cached_components(), 1);
    assert_eq!(a.digest(), b.digest());
    assert_eq!(a.digest().len(), 64, "hex sha256");
    assert!(
        second * 10 < first,
        "a cache hit ({second:?}) is far cheaper than compiling ({first:?})"
    );
}

// Bytes that are not WebAssembly are refused with a message saying so.
#[test]
fn garbage_bytes_are_refused_clearly() {
    let rt = Runtime::new(test_config()).unwrap();
    let err = rt
        .load(b"this is not wasm at all", WIT_VERSION)
        .unwrap_err();
    assert!(matches!(err, RuntimeError::NotWasm(_)), "{err:?}");
    assert!(err.to_string().contains("magic number"), "{err}");
    assert_eq!(rt.cached_components(), 0, "failures are not cached");
}

// A core module (not a component) is refused with a hint to build for wasm32-wasip2.
#[test]
fn a_core_module_is_refused_clearly() {
    let rt = Runtime::new(test_config()).unwrap();
    let module = wat::parse_str("(module (func (export \"f\")))").unwrap();
    let err = rt.load(&module, WIT_VERSION).unwrap_err();
    assert!(matches!(err, RuntimeError::CoreModule), "{err:?}");
    assert!(
        err.to_string()
            .contains("core WebAssembly module, not a component"),
        "{err}"
    );
    assert!(err.to_string().contains("wasm32-wasip2"), "{err}");
}

// A component whose `channel` lacks one of its functions is refused at load, naming the
// missing one: the calls look their export up by an index resolved then.
#[test]
fn a_channel_without_all_its_functions_is_refused_naming_the_missing_one() {
    let rt = Runtime::new(test_config()).unwrap();
    let partial = wat::parse_str(
        r#"(component
             (core module $m (func (export "f")))
             (core instance $i (instantiate $m))
             (func $f (canon lift (core func $i "f")))
             (instance $api (export "describe" (func $f)))
             (export "wharf:connector/channel@0.2.0" (instance $api)))"#,
    )
    .unwrap();
    let err = rt.load(&partial, WIT_VERSION).unwrap_err();
    assert!(matches!(err, RuntimeError::WrongWorld(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("verify-webhook"), "{msg}");
}

// A valid component that does not export the marketplace world is refused as such.
#[test]
fn a_component_for_another_world_is_refused_clearly() {
    let rt = Runtime::new(test_config()).unwrap();
    let other = wat::parse_str(
        r#"(component
             (core module $m (func (export "f")))
             (core instance $i (instantiate $m))
             (func $f (canon lift (core func $i "f")))
             (instance $api (export "run" (func $f)))
             (export "acme:other/api@1.0.0" (instance $api)))"#,
    )
    .unwrap();
    let err = rt.load(&other, WIT_VERSION).unwrap_err();
    assert!(matches!(err, RuntimeError::WrongWorld(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("wharf:connector/marketplace"), "{msg}");
    assert!(
        msg.contains("wharf:connector/channel"),
        "names the missing export: {msg}"
    );
}

// A component importing something the sandbox does not provide fails to link, by name.
#[test]
fn a_component_with_unknown_imports_is_refused_clearly() {
    let rt = Runtime::new(test_config()).unwrap();
    let other = wat::parse_str(
        r#"(component (import "evil:host/backdoor" (instance (export "open" (func)))))"#,
    )
    .unwrap();
    let err = rt.load(&other, WIT_VERSION).unwrap_err();
    assert!(matches!(err, RuntimeError::Link(_)), "{err:?}");
    assert!(err.to_string().contains("evil:host/backdoor"), "{err}");
}

// A truncated component fails to compile with a compile error, not a crash.
#[test]
fn a_truncated_component_is_a_compile_error() {
    let rt = Runtime::new(test_config()).unwrap();
    let bytes = plugin_bytes("wharf_plugin_hostile");
    let err = rt.load(&bytes[..bytes.len() / 2], WIT_VERSION).unwrap_err();
    assert!(matches!(err, RuntimeError::Compile(_)), "{err:?}");
}
