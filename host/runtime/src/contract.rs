//! Which `wharf:connector` contract a component was built against, read from its own
//! imports and exports (`wharf:connector/<interface>@<version>`), and checked against the
//! version its manifest claims.
//!
//! Each world is told apart by the interface it exports: `channel` (marketplace),
//! `shipping` (courier), `ledger` (accounting).

use wasmtime::component::Component;
use wasmtime::Engine;
use wharf_domain::manifest::PluginKind;

use crate::error::RuntimeError;

/// Every `wharf:connector` version this runtime has bindings for, oldest first.
pub const SUPPORTED_WIT_VERSIONS: &[&str] = &["0.1.0", "0.2.0"];

/// The newest contract version: what new plugins (the SDK, the scaffold) target.
pub const WIT_VERSION: &str = "0.2.0";

const PACKAGE: &str = "wharf:connector/";

/// A component's contract: the version and the world it implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Contract {
    pub(crate) version: &'static str,
    pub(crate) kind: PluginKind,
}

/// The supported version spelled `claimed`, or a clear refusal.
pub(crate) fn supported(claimed: &str) -> Result<&'static str, RuntimeError> {
    SUPPORTED_WIT_VERSIONS
        .iter()
        .find(|v| **v == claimed)
        .copied()
        .ok_or_else(|| RuntimeError::UnsupportedVersion(claimed.to_string()))
}

/// `wharf:connector/<interface>@<version>` → (interface, version).
fn split(name: &str) -> Option<(&str, &str)> {
    name.strip_prefix(PACKAGE)?.split_once('@')
}

/// The world an exported interface belongs to.
fn world_of(interface: &str) -> Option<PluginKind> {
    match interface {
        "channel" => Some(PluginKind::Marketplace),
        "shipping" => Some(PluginKind::Courier),
        "ledger" => Some(PluginKind::Accounting),
        _ => None,
    }
}

/// The contract the component says it implements, checked against the manifest's
/// `claimed` version: every `wharf:connector` import and export must carry that version,
/// and the component must export exactly one world's interface. A component without any
/// `wharf:connector` export is taken as a marketplace one, so the typed bindings name the
/// missing `channel` export.
pub(crate) fn check(
    engine: &Engine,
    component: &Component,
    claimed: &str,
) -> Result<Contract, RuntimeError> {
    let version = supported(claimed)?;
    let ty = component.component_type();
    let mut found: Vec<&str> = Vec::new();
    let mut worlds: Vec<PluginKind> = Vec::new();
    for (name, _) in ty.imports(engine) {
        if let Some((_, v)) = split(name) {
            found.push(v);
        }
    }
    for (name, _) in ty.exports(engine) {
        if let Some((interface, v)) = split(name) {
            found.push(v);
            if let Some(world) = world_of(interface) {
                worlds.push(world);
            }
        }
    }
    found.sort_unstable();
    found.dedup();
    if found.iter().any(|v| *v != version) {
        return Err(RuntimeError::VersionMismatch {
            manifest: version.to_string(),
            component: found.join(", "),
        });
    }
    worlds.sort_by_key(|w| *w as u8);
    worlds.dedup();
    let kind = match worlds.as_slice() {
        [] => PluginKind::Marketplace,
        [one] => *one,
        many => {
            return Err(RuntimeError::WrongWorld(format!(
                "the component exports the interfaces of several worlds ({many:?}); a plugin \
                 implements exactly one of marketplace, courier, accounting"
            )))
        }
    };
    if version == "0.1.0" && kind != PluginKind::Marketplace {
        return Err(RuntimeError::WrongWorld(format!(
            "the {} world exists from wharf:connector@0.2.0; 0.1.0 has only marketplace",
            world_name(kind)
        )));
    }
    Ok(Contract { version, kind })
}

/// The WIT name of a plugin kind's world.
pub(crate) fn world_name(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::Marketplace => "marketplace",
        PluginKind::Courier => "courier",
        PluginKind::Accounting => "accounting",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Interface names split into interface and version; other packages are ignored.
    #[test]
    fn names_split_into_interface_and_version() {
        assert_eq!(
            split("wharf:connector/channel@0.1.0"),
            Some(("channel", "0.1.0"))
        );
        assert_eq!(split("wasi:http/outgoing-handler@0.2.12"), None);
        assert_eq!(world_of("shipping"), Some(PluginKind::Courier));
        assert_eq!(world_of("types"), None);
    }

    // Only the versions the runtime has bindings for are supported, spelled exactly.
    #[test]
    fn only_bound_versions_are_supported() {
        assert_eq!(supported("0.1.0").unwrap(), "0.1.0");
        assert_eq!(supported("0.2.0").unwrap(), "0.2.0");
        for v in ["0.0.9", "9.0.0", "0.2", ""] {
            let e = supported(v).unwrap_err();
            assert!(e.to_string().contains("0.1.0, 0.2.0"), "{e}");
        }
    }
}
