//! The runtime crate's one error type: failures to set up the engine or load a plugin.
//! Failures of a call are `ConnectorError`s, recorded on the installation.

/// Why the runtime could not be created or a component could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The wasmtime engine or linker could not be set up.
    #[error("runtime setup failed: {0}")]
    Setup(String),
    /// The bytes are not a WebAssembly binary at all.
    #[error("not a WebAssembly component: {0}")]
    NotWasm(String),
    /// A core WebAssembly module where a component was expected.
    #[error(
        "this is a core WebAssembly module, not a component: build the plugin for \
         wasm32-wasip2 (cargo xtask plugins) so it is a component"
    )]
    CoreModule,
    /// The component is malformed or fails to compile.
    #[error("the component failed to compile: {0}")]
    Compile(String),
    /// The component imports something the sandbox does not provide.
    #[error("the component imports something the sandbox does not provide: {0}")]
    Link(String),
    /// The component does not implement a `wharf:connector` world this host supports
    /// (the detail names the world and the missing or mismatched export).
    #[error("the component does not implement a supported wharf:connector world: {0}")]
    WrongWorld(String),
    /// The manifest claims a contract version this host has no bindings for.
    #[error(
        "wit_version {0} is not supported by this host (supported: {supported})",
        supported = crate::SUPPORTED_WIT_VERSIONS.join(", ")
    )]
    UnsupportedVersion(String),
    /// The manifest claims one contract version, the component is built against another.
    #[error(
        "the manifest says wit_version {manifest} but the component is built against \
         wharf:connector@{component}"
    )]
    VersionMismatch { manifest: String, component: String },
}
