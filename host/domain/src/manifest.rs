//! Plugin manifests: what a plugin is, which contract version it was built against, the
//! hosts it may ask to reach, its configuration schema and the secrets it needs.
//!
//! Configuration schemas use a documented subset of JSON Schema: an object with
//! `properties` (each with `type` string / integer / boolean, optional `enum`,
//! `description`, `default`), `required`, and `additionalProperties: false` (the default
//! here: unknown keys are refused).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PluginKind {
    Marketplace,
    Courier,
    Accounting,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Lower-case name, `[a-z0-9-]`, e.g. `shopify`.
    pub name: String,
    /// Semantic version of the plugin, `MAJOR.MINOR.PATCH`.
    pub version: String,
    pub kind: PluginKind,
    /// The `wharf:connector` contract version the plugin was built against.
    pub wit_version: String,
    /// Host patterns the plugin may ask to reach: `api.example.com` or `*.example.com`.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Configuration schema (subset of JSON Schema, see module docs).
    #[serde(default = "empty_schema")]
    pub config_schema: Value,
    /// Names of the secrets the plugin reads.
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(default)]
    pub description: String,
}

fn empty_schema() -> Value {
    serde_json::json!({"type": "object", "properties": {}})
}

/// Why a manifest or a configuration was refused; each entry names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<String>);

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}

impl Manifest {
    /// Parse and validate a manifest from JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Manifest, Problems> {
        let m: Manifest =
            serde_json::from_slice(bytes).map_err(|e| Problems(vec![format!("manifest: {e}")]))?;
        m.validate()?;
        Ok(m)
    }

    pub fn validate(&self) -> Result<(), Problems> {
        let mut p = Vec::new();
        if self.name.is_empty()
            || self.name.len() > 64
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            p.push(format!(
                "name {:?}: use 1-64 characters a-z, 0-9 and -",
                self.name
            ));
        }
        if parse_semver(&self.version).is_none() {
            p.push(format!(
                "version {:?}: expected MAJOR.MINOR.PATCH",
                self.version
            ));
        }
        if parse_semver(&self.wit_version).is_none() {
            p.push(format!(
                "wit_version {:?}: expected MAJOR.MINOR.PATCH",
                self.wit_version
            ));
        }
        for h in &self.hosts {
            if !valid_host_pattern(h) {
                p.push(format!(
                    "hosts: {h:?} is not a host name or *.suffix pattern"
                ));
            }
        }
        for s in &self.secrets {
            if s.is_empty()
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                p.push(format!("secrets: {s:?} is not a valid secret name"));
            }
        }
        if let Err(Problems(mut e)) = check_schema(&self.config_schema) {
            p.append(&mut e);
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(Problems(p))
        }
    }
}

/// `MAJOR.MINOR.PATCH` → numbers.
pub fn parse_semver(v: &str) -> Option<(u64, u64, u64)> {
    let mut it = v.split('.').map(|p| p.parse::<u64>().ok());
    let r = (it.next()??, it.next()??, it.next()??);
    it.next().is_none().then_some(r)
}

/// A host name (`api.example.com`, `127.0.0.1`) or a wildcard suffix (`*.example.com`).
pub fn valid_host_pattern(p: &str) -> bool {
    let host = p.strip_prefix("*.").unwrap_or(p);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Does `host` match `pattern` (exact, case-insensitive; `*.x.com` matches any subdomain
/// of `x.com` but not `x.com` itself)?
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
        None => host == pattern,
    }
}

const TYPES: [&str; 3] = ["string", "integer", "boolean"];

fn check_schema(schema: &Value) -> Result<(), Problems> {
    let mut p = Vec::new();
    let Some(obj) = schema.as_object() else {
        return Err(Problems(
            vec!["config_schema: must be a JSON object".into()],
        ));
    };
    if obj.get("type").and_then(Value::as_str) != Some("object") {
        p.push("config_schema: type must be \"object\"".into());
    }
    let props = obj.get("properties").and_then(Value::as_object);
    if let Some(props) = props {
        for (k, v) in props {
            match v.get("type").and_then(Value::as_str) {
                Some(t) if TYPES.contains(&t) => {}
                _ => p.push(format!(
                    "config_schema.properties.{k}: type must be one of {TYPES:?}"
                )),
            }
        }
    }
    if let Some(req) = obj.get("required") {
        match req.as_array() {
            Some(items) => {
                for r in items {
                    let known = r
                        .as_str()
                        .is_some_and(|name| props.is_some_and(|ps| ps.contains_key(name)));
                    if !known {
                        p.push(format!(
                            "config_schema.required: {r} is not a declared property"
                        ));
                    }
                }
            }
            None => p.push("config_schema.required: must be an array".into()),
        }
    }
    if p.is_empty() {
        Ok(())
    } else {
        Err(Problems(p))
    }
}

/// Validate a configuration (a flat JSON object) against a manifest's schema. Returns the
/// configuration as key → string (integers and booleans rendered as JSON text), the form
/// plugins read it in, with schema defaults filled in.
pub fn validate_config(
    schema: &Value,
    config: &Value,
) -> Result<BTreeMap<String, String>, Problems> {
    let mut p = Vec::new();
    let Some(cfg) = config.as_object() else {
        return Err(Problems(vec!["config: must be a JSON object".into()]));
    };
    let empty = serde_json::Map::new();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let additional = schema
        .get("additionalProperties")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut out = BTreeMap::new();
    for (k, v) in cfg {
        let Some(spec) = props.get(k) else {
            if additional {
                out.insert(k.clone(), render(v));
            } else {
                p.push(format!("config.{k}: unknown key"));
            }
            continue;
        };
        let ty = spec.get("type").and_then(Value::as_str).unwrap_or("string");
        let ok = match ty {
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "boolean" => v.is_boolean(),
            _ => false,
        };
        if !ok {
            p.push(format!("config.{k}: expected {ty}"));
            continue;
        }
        if let Some(allowed) = spec.get("enum").and_then(Value::as_array) {
            if !allowed.contains(v) {
                p.push(format!(
                    "config.{k}: must be one of {}",
                    Value::Array(allowed.clone())
                ));
                continue;
            }
        }
        out.insert(k.clone(), render(v));
    }
    for (k, spec) in props {
        if !out.contains_key(k) {
            if let Some(d) = spec.get("default") {
                out.insert(k.clone(), render(d));
            }
        }
    }
    if let Some(req) = schema.get("required").and_then(Value::as_array) {
        for r in req.iter().filter_map(Value::as_str) {
            if !cfg.contains_key(r) {
                p.push(format!("config.{r}: required"));
            }
        }
    }
    if p.is_empty() {
        Ok(out)
    } else {
        Err(Problems(p))
    }
}

/// What a plugin asks for, for the merchant who is about to install it: the hosts it may
/// reach, the secrets it reads and the configuration it takes, each also said in plain
/// words, and the `consent` an installation must send back to grant them.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Capabilities {
    /// Host patterns the plugin may ask to reach (`*.x.com`: any subdomain of `x.com`).
    pub hosts: Vec<String>,
    /// Names of the secrets the plugin reads.
    pub secrets: Vec<String>,
    /// The configuration keys it takes.
    pub config_keys: Vec<ConfigKey>,
    /// The same requests in plain words, one sentence each.
    pub summary: Vec<String>,
    /// What `POST /v1/installations` must carry as `consent` to grant these requests.
    pub consent: Consent,
}

/// One configuration key of a plugin.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ConfigKey {
    pub key: String,
    /// `string`, `integer` or `boolean`.
    #[serde(rename = "type")]
    pub ty: String,
    pub required: bool,
    pub description: String,
}

/// A merchant's explicit acknowledgement of a plugin's requests: exactly the manifest's
/// host patterns and secret names (order does not matter). Nothing is implied: both lists
/// must be given, and must match the plugin's requests one for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Consent {
    pub hosts: Vec<String>,
    pub secrets: Vec<String>,
}

impl Manifest {
    /// The plugin's requests, for the merchant's consent.
    pub fn capabilities(&self) -> Capabilities {
        let empty = serde_json::Map::new();
        let props = self
            .config_schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required: Vec<&str> = self
            .config_schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let config_keys: Vec<ConfigKey> = props
            .iter()
            .map(|(k, spec)| ConfigKey {
                key: k.clone(),
                ty: spec
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("string")
                    .to_string(),
                required: required.contains(&k.as_str()),
                description: spec
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect();
        let mut summary = Vec::new();
        for h in &self.hosts {
            summary.push(match h.strip_prefix("*.") {
                Some(suffix) => format!(
                    "Connect over the network to any host under {suffix} ({h}), once you grant it."
                ),
                None => format!("Connect over the network to {h}, once you grant it."),
            });
        }
        if self.hosts.is_empty() {
            summary.push("Make no network connections.".into());
        }
        for name in &self.secrets {
            summary.push(format!(
                "Read the secret {name:?} that you give it (it is never shown again or logged)."
            ));
        }
        for k in &config_keys {
            summary.push(format!(
                "Read your setting {:?} ({}, {}){}",
                k.key,
                k.ty,
                if k.required { "required" } else { "optional" },
                if k.description.is_empty() {
                    ".".to_string()
                } else {
                    format!(": {}", k.description)
                }
            ));
        }
        summary.push(
            "Nothing else: no files, no environment, no other hosts, no other shop's data.".into(),
        );
        Capabilities {
            hosts: self.hosts.clone(),
            secrets: self.secrets.clone(),
            config_keys,
            summary,
            consent: Consent {
                hosts: self.hosts.clone(),
                secrets: self.secrets.clone(),
            },
        }
    }

    /// Check an installation's consent against this manifest; each problem names the
    /// request that is not acknowledged (or the entry the plugin never asked for). `None`
    /// for a list that was not sent at all.
    pub fn check_consent(
        &self,
        hosts: Option<&[String]>,
        secrets: Option<&[String]>,
    ) -> Vec<String> {
        let mut p = Vec::new();
        let mut compare = |field: &str,
                           what: &str,
                           requested: &[String],
                           given: Option<&[String]>| {
            let Some(given) = given else {
                p.push(format!(
                    "consent.{field}: required; the plugin requests {what} {requested:?} and you \
                     must list exactly these to grant them (see GET /v1/plugins/{{id}}/capabilities)"
                ));
                return;
            };
            let eq = |a: &String, b: &String| a.eq_ignore_ascii_case(b);
            for r in requested {
                if !given.iter().any(|g| eq(g, r)) {
                    p.push(format!(
                        "consent.{field}: missing {r:?}, which the plugin requests"
                    ));
                }
            }
            for g in given {
                if !requested.iter().any(|r| eq(g, r)) {
                    p.push(format!(
                        "consent.{field}: {g:?} is not requested by the plugin"
                    ));
                }
            }
        };
        compare("hosts", "hosts", &self.hosts, hosts);
        compare("secrets", "secrets", &self.secrets, secrets);
        p
    }
}

fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest() -> Value {
        json!({
            "name": "shopify", "version": "0.1.0", "kind": "marketplace", "wit_version": "0.1.0",
            "hosts": ["*.myshopify.com"],
            "config_schema": {"type": "object", "required": ["shop_url"], "properties": {
                "shop_url": {"type": "string"},
                "page_size": {"type": "integer", "default": 250},
                "mode": {"type": "string", "enum": ["a", "b"]}
            }},
            "secrets": ["access_token"]
        })
    }

    #[test]
    fn a_valid_manifest_parses() {
        let m = Manifest::from_json(manifest().to_string().as_bytes()).unwrap();
        assert_eq!(m.kind, PluginKind::Marketplace);
    }

    #[test]
    fn invalid_manifests_name_every_problem() {
        let mut v = manifest();
        v["name"] = json!("Shop Ify");
        v["version"] = json!("1");
        v["hosts"] = json!(["bad host"]);
        v["config_schema"]["required"] = json!(["nope"]);
        let err = Manifest::from_json(v.to_string().as_bytes())
            .unwrap_err()
            .to_string();
        for needle in ["name", "version", "hosts", "required"] {
            assert!(err.contains(needle), "{err} should mention {needle}");
        }
        assert!(Manifest::from_json(b"{").is_err());
        let mut v = manifest();
        v["surprise"] = json!(1);
        assert!(
            Manifest::from_json(v.to_string().as_bytes()).is_err(),
            "unknown manifest fields are refused"
        );
    }

    #[test]
    fn config_is_validated_and_defaulted() {
        let schema = &manifest()["config_schema"];
        let ok = validate_config(schema, &json!({"shop_url": "https://a.myshopify.com"})).unwrap();
        assert_eq!(ok["page_size"], "250");
        let err = validate_config(schema, &json!({"page_size": "x", "mode": "c", "extra": 1}))
            .unwrap_err()
            .to_string();
        for needle in [
            "shop_url: required",
            "page_size: expected integer",
            "mode: must be one of",
            "extra: unknown key",
        ] {
            assert!(err.contains(needle), "{err} should mention {needle}");
        }
    }

    /// Capabilities list hosts, secrets and config keys, in plain words too, with a consent template that passes the consent check.
    #[test]
    fn capabilities_describe_every_request() {
        let m = Manifest::from_json(manifest().to_string().as_bytes()).unwrap();
        let c = m.capabilities();
        assert_eq!(c.hosts, vec!["*.myshopify.com"]);
        assert_eq!(c.secrets, vec!["access_token"]);
        let shop_url = c.config_keys.iter().find(|k| k.key == "shop_url").unwrap();
        assert!(shop_url.required && shop_url.ty == "string");
        let text = c.summary.join("\n");
        for needle in [
            "any host under myshopify.com",
            "\"access_token\"",
            "\"shop_url\"",
        ] {
            assert!(text.contains(needle), "{text} should mention {needle}");
        }
        assert!(m
            .check_consent(Some(&c.consent.hosts), Some(&c.consent.secrets))
            .is_empty());
    }

    /// Consent must restate exactly the requested hosts and secrets: absent, partial or extra entries are each named.
    #[test]
    fn consent_must_match_the_requests_exactly() {
        let m = Manifest::from_json(manifest().to_string().as_bytes()).unwrap();
        let hosts = vec!["*.myshopify.com".to_string()];
        let missing = m.check_consent(None, None).join("; ");
        assert!(missing.contains("consent.hosts: required"), "{missing}");
        assert!(missing.contains("consent.secrets: required"), "{missing}");
        let partial = m.check_consent(Some(&hosts), Some(&[])).join("; ");
        assert!(partial.contains("missing \"access_token\""), "{partial}");
        let extra = m
            .check_consent(
                Some(&["*.myshopify.com".into(), "evil.example.com".into()]),
                Some(&["access_token".into()]),
            )
            .join("; ");
        assert!(
            extra.contains("\"evil.example.com\" is not requested"),
            "{extra}"
        );
    }

    #[test]
    fn host_patterns_match_exactly_or_by_suffix() {
        assert!(host_matches("*.myshopify.com", "demo.myshopify.com"));
        assert!(host_matches("*.myshopify.com", "DEMO.myshopify.com"));
        assert!(!host_matches("*.myshopify.com", "myshopify.com"));
        assert!(!host_matches("*.myshopify.com", "evilmyshopify.com"));
        assert!(!host_matches(
            "*.myshopify.com",
            "demo.myshopify.com.evil.io"
        ));
        assert!(host_matches("api.example.com", "api.example.com"));
        assert!(!host_matches("api.example.com", "x.api.example.com"));
    }
}
