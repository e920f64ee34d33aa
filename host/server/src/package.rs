//! Plugin packages (`.wharfpkg`) and their signatures: the one file a connector vendor
//! ships, and the checks `wharf serve` applies before registering it.
//!
//! # Container format (version 1)
//!
//! A small length-prefixed container rather than a tar: it has exactly the three parts a
//! package needs, parses strictly in ~40 lines without a dependency (no paths, no
//! duplicate or extra entries, no padding to reason about), and cannot smuggle anything a
//! verifier does not read. All integers are big-endian.
//!
//! ```text
//! "WHARFPKG"                 8 bytes, magic
//! 0x01                       1 byte, format version
//! "MNFT" u64 len  bytes      manifest.json, exactly as the vendor wrote it
//! "COMP" u64 len  bytes      the Wasm component
//! ["SIGN" u64 len bytes]     optional, last: the signature (JSON, below)
//! ```
//!
//! Nothing may follow the last section. `wharf plugin sign` adds or replaces `SIGN`
//! without touching the two signed parts.
//!
//! # Signature
//!
//! `SIGN` holds `{"alg": "ed25519", "key_id": "<16 hex>", "signature": "<base64>"}`: an
//! Ed25519 signature over the package digest
//!
//! ```text
//! SHA-256( "wharf-package-v1\n" || u64(len manifest) || manifest || u64(len component) || component )
//! ```
//!
//! i.e. the SHA-256 of the manifest bytes and the component bytes, each length-prefixed so
//! bytes cannot be moved across the boundary between them. Changing any byte of either
//! part changes the digest, and the signature no longer verifies.
//!
//! # Keys
//!
//! A key id is the first 8 bytes of SHA-256(public key), in hex: derived, so a trusted-keys
//! line whose id does not fit its key is refused at start. A public key is one line
//! `VENDOR KEY_ID BASE64_PUBLIC_KEY` (the trusted-keys file is such lines; `#` comments and
//! blank lines are allowed). A private key file (mode 0600) is JSON
//! `{"alg", "vendor", "key_id", "public_key", "secret_key"}` with the 32-byte seed in base64.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wharf_store::{PluginSignature, SignatureStatus};

/// File name extension of packages.
pub const EXTENSION: &str = "wharfpkg";
/// Content type of a package upload.
pub const CONTENT_TYPE: &str = "application/vnd.wharf.package";

const MAGIC: &[u8; 8] = b"WHARFPKG";
const FORMAT_VERSION: u8 = 1;
const DIGEST_CONTEXT: &[u8] = b"wharf-package-v1\n";
const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;
const MAX_SIGNATURE_BYTES: u64 = 4096;

/// A parsed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub manifest: Vec<u8>,
    pub component: Vec<u8>,
    pub signature: Option<PackageSignature>,
}

/// The `SIGN` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSignature {
    pub alg: String,
    pub key_id: String,
    /// Base64 of the 64-byte Ed25519 signature.
    pub signature: String,
}

fn section(out: &mut Vec<u8>, tag: &[u8; 4], bytes: &[u8]) {
    out.extend_from_slice(tag);
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

impl Package {
    /// An unsigned package.
    pub fn new(manifest: Vec<u8>, component: Vec<u8>) -> Package {
        Package {
            manifest,
            component,
            signature: None,
        }
    }

    /// The container bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.manifest.len() + self.component.len() + 256);
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        section(&mut out, b"MNFT", &self.manifest);
        section(&mut out, b"COMP", &self.component);
        if let Some(sig) = &self.signature {
            let json = serde_json::to_vec(sig).expect("a signature serialises");
            section(&mut out, b"SIGN", &json);
        }
        out
    }

    /// Parse a container strictly: magic, version, `MNFT`, `COMP`, optional `SIGN`, end.
    pub fn parse(bytes: &[u8], max_component: usize) -> Result<Package, String> {
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or("not a Wharf package (bad magic; build one with `wharf plugin pack`)")?;
        let (&version, mut rest) = rest.split_first().ok_or("package truncated")?;
        if version != FORMAT_VERSION {
            return Err(format!(
                "package format version {version} is not supported (this host reads {FORMAT_VERSION})"
            ));
        }
        let mut take = |tag: &[u8; 4], max: u64| -> Result<Option<Vec<u8>>, String> {
            if rest.is_empty() {
                return Ok(None);
            }
            let name = String::from_utf8_lossy(tag);
            if rest.len() < 12 || &rest[..4] != tag {
                return Err(format!("package: expected section {name}"));
            }
            let len = u64::from_be_bytes(rest[4..12].try_into().expect("8 bytes"));
            if len > max {
                return Err(format!(
                    "package: section {name} is larger than {max} bytes"
                ));
            }
            let body = &rest[12..];
            if (body.len() as u64) < len {
                return Err(format!("package: section {name} is truncated"));
            }
            let (part, tail) = body.split_at(len as usize);
            rest = tail;
            Ok(Some(part.to_vec()))
        };
        let manifest = take(b"MNFT", MAX_MANIFEST_BYTES)?.ok_or("package: missing manifest")?;
        let component = take(b"COMP", max_component as u64)?.ok_or("package: missing component")?;
        let signature = match take(b"SIGN", MAX_SIGNATURE_BYTES)? {
            None => None,
            Some(json) => Some(
                serde_json::from_slice::<PackageSignature>(&json)
                    .map_err(|e| format!("package: malformed signature section: {e}"))?,
            ),
        };
        if !rest.is_empty() {
            return Err("package: unexpected bytes after the last section".into());
        }
        Ok(Package {
            manifest,
            component,
            signature,
        })
    }

    /// The signed digest of the manifest and component (see the module docs).
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(DIGEST_CONTEXT);
        h.update((self.manifest.len() as u64).to_be_bytes());
        h.update(&self.manifest);
        h.update((self.component.len() as u64).to_be_bytes());
        h.update(&self.component);
        h.finalize().into()
    }

    /// Sign (replacing any earlier signature).
    pub fn sign(&mut self, key: &PrivateKey) {
        let sig = key.signing.sign(&self.digest());
        self.signature = Some(PackageSignature {
            alg: "ed25519".into(),
            key_id: key.key_id.clone(),
            signature: B64.encode(sig.to_bytes()),
        });
    }
}

/// `hex(SHA-256(public key)[..8])`.
pub fn key_id(public: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(public.as_bytes())[..8])
}

fn valid_vendor(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// A vendor's signing key.
pub struct PrivateKey {
    pub vendor: String,
    pub key_id: String,
    signing: SigningKey,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivateKeyFile {
    alg: String,
    vendor: String,
    key_id: String,
    public_key: String,
    secret_key: String,
}

impl PrivateKey {
    /// A fresh key from the operating system's random source.
    pub fn generate(vendor: &str) -> Result<PrivateKey, String> {
        use rand::RngCore;
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        Self::from_seed(vendor, seed)
    }

    fn from_seed(vendor: &str, seed: [u8; 32]) -> Result<PrivateKey, String> {
        if !valid_vendor(vendor) {
            return Err(format!(
                "vendor {vendor:?}: use 1-64 characters A-Z, a-z, 0-9, '.', '_' and '-'"
            ));
        }
        let signing = SigningKey::from_bytes(&seed);
        Ok(PrivateKey {
            vendor: vendor.to_string(),
            key_id: key_id(&signing.verifying_key()),
            signing,
        })
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            vendor: self.vendor.clone(),
            key_id: self.key_id.clone(),
            key: self.signing.verifying_key(),
        }
    }

    /// The private key file's text.
    pub fn to_file(&self) -> String {
        let f = PrivateKeyFile {
            alg: "ed25519".into(),
            vendor: self.vendor.clone(),
            key_id: self.key_id.clone(),
            public_key: B64.encode(self.signing.verifying_key().as_bytes()),
            secret_key: B64.encode(self.signing.to_bytes()),
        };
        serde_json::to_string_pretty(&f).expect("serialises") + "\n"
    }

    pub fn from_file(text: &str) -> Result<PrivateKey, String> {
        let f: PrivateKeyFile =
            serde_json::from_str(text).map_err(|e| format!("not a wharf private key: {e}"))?;
        if f.alg != "ed25519" {
            return Err(format!("key algorithm {:?} is not supported", f.alg));
        }
        let seed: [u8; 32] = B64
            .decode(f.secret_key.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("secret_key: expected base64 of 32 bytes")?;
        let key = Self::from_seed(&f.vendor, seed)?;
        if key.key_id != f.key_id {
            return Err("the key file is inconsistent: key_id does not fit the key".into());
        }
        Ok(key)
    }
}

/// A vendor's public key, as one trusted-keys line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub vendor: String,
    pub key_id: String,
    key: VerifyingKey,
}

impl PublicKey {
    /// `VENDOR KEY_ID BASE64_PUBLIC_KEY`.
    pub fn to_line(&self) -> String {
        format!(
            "{} {} {}",
            self.vendor,
            self.key_id,
            B64.encode(self.key.as_bytes())
        )
    }

    pub fn parse_line(line: &str) -> Result<PublicKey, String> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [vendor, id, key] = fields[..] else {
            return Err("expected `VENDOR KEY_ID BASE64_PUBLIC_KEY`".into());
        };
        if !valid_vendor(vendor) {
            return Err(format!("vendor {vendor:?} is not a valid name"));
        }
        let bytes: [u8; 32] = B64
            .decode(key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("public key: expected base64 of 32 bytes")?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|e| format!("public key: {e}"))?;
        let expected = key_id(&key);
        if id != expected {
            return Err(format!(
                "key id {id} does not fit the key (its id is {expected})"
            ));
        }
        Ok(PublicKey {
            vendor: vendor.to_string(),
            key_id: expected,
            key,
        })
    }
}

/// The keys a server trusts, by key id.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: BTreeMap<String, PublicKey>,
}

impl TrustedKeys {
    /// Parse a trusted-keys file: one public key line each; `#` comments, blank lines.
    pub fn parse(text: &str) -> Result<TrustedKeys, String> {
        let mut keys = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let key = PublicKey::parse_line(line).map_err(|e| format!("line {}: {e}", n + 1))?;
            keys.insert(key.key_id.clone(), key);
        }
        Ok(TrustedKeys { keys })
    }

    pub fn from_keys(keys: impl IntoIterator<Item = PublicKey>) -> TrustedKeys {
        TrustedKeys {
            keys: keys.into_iter().map(|k| (k.key_id.clone(), k)).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn lines(&self) -> Vec<String> {
        self.keys.values().map(|k| k.to_line()).collect()
    }
}

/// What the server accepts: trusted keys, and whether development mode lets unsigned or
/// untrusted packages in.
#[derive(Debug, Clone, Default)]
pub struct TrustSettings {
    pub keys: TrustedKeys,
    /// Development mode: accept unsigned packages (and the multipart manifest + component
    /// upload) and packages signed by unknown keys, marking the plugin record so.
    pub dev_mode: bool,
}

impl TrustSettings {
    /// Decide whether a package may be registered, and how its record is marked. The error
    /// is the merchant-readable reason for a 422.
    ///
    /// A signature by a *trusted* key that does not verify is refused even in development
    /// mode: it means the manifest or component changed after signing.
    pub fn check(&self, pkg: &Package) -> Result<PluginSignature, String> {
        let Some(sig) = &pkg.signature else {
            return if self.dev_mode {
                Ok(PluginSignature::unsigned())
            } else {
                Err(
                    "package is unsigned: this server accepts only packages signed by a \
                     trusted key (sign it with `wharf plugin sign`; unsigned plugins are \
                     accepted only by a server started with --dev-mode)"
                        .into(),
                )
            };
        };
        if sig.alg != "ed25519" {
            return Err(format!(
                "signature algorithm {:?} is not supported (use ed25519)",
                sig.alg
            ));
        }
        let Some(key) = self.keys.keys.get(&sig.key_id) else {
            return if self.dev_mode {
                Ok(PluginSignature {
                    status: SignatureStatus::UntrustedKey,
                    key_id: Some(sig.key_id.clone()),
                    vendor: None,
                })
            } else {
                Err(format!(
                    "package is signed by key {}, which this server does not trust (add the \
                     vendor's public key to the --trusted-keys file)",
                    sig.key_id
                ))
            };
        };
        let bytes: [u8; 64] = B64
            .decode(&sig.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("signature: expected base64 of 64 bytes")?;
        key.key
            .verify(&pkg.digest(), &Signature::from_bytes(&bytes))
            .map_err(|_| {
                format!(
                    "signature check failed: the manifest or component is not what key {} \
                     ({}) signed — the package was changed after signing",
                    key.key_id, key.vendor
                )
            })?;
        Ok(PluginSignature {
            status: SignatureStatus::Verified,
            key_id: Some(key.key_id.clone()),
            vendor: Some(key.vendor.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 1 << 20;

    fn key(vendor: &str, seed: u8) -> PrivateKey {
        PrivateKey::from_seed(vendor, [seed; 32]).unwrap()
    }

    fn signed() -> (Package, PrivateKey) {
        let k = key("acme", 7);
        let mut p = Package::new(br#"{"name":"x"}"#.to_vec(), b"\0asm component".to_vec());
        p.sign(&k);
        (p, k)
    }

    fn strict(k: &PrivateKey) -> TrustSettings {
        TrustSettings {
            keys: TrustedKeys::from_keys([k.public()]),
            dev_mode: false,
        }
    }

    /// A signed package survives to_bytes → parse unchanged, and a good signature by a trusted key is accepted as verified.
    #[test]
    fn a_signed_package_round_trips_and_verifies() {
        let (p, k) = signed();
        let back = Package::parse(&p.to_bytes(), MAX).unwrap();
        assert_eq!(back, p);
        let sig = strict(&k).check(&back).unwrap();
        assert_eq!(sig.status, SignatureStatus::Verified);
        assert_eq!(sig.key_id.as_deref(), Some(k.key_id.as_str()));
        assert_eq!(sig.vendor.as_deref(), Some("acme"));
    }

    /// Flipping any single byte of the manifest or of the component makes the signature fail, even in dev mode.
    #[test]
    fn tampering_with_any_byte_of_either_part_is_refused() {
        let (p, k) = signed();
        let mut dev = strict(&k);
        dev.dev_mode = true;
        for i in 0..p.manifest.len() {
            let mut t = p.clone();
            t.manifest[i] ^= 1;
            let err = strict(&k).check(&t).unwrap_err();
            assert!(err.contains("changed after signing"), "{err}");
            assert!(dev.check(&t).is_err(), "dev mode does not excuse tampering");
        }
        for i in 0..p.component.len() {
            let mut t = p.clone();
            t.component[i] ^= 0x80;
            assert!(strict(&k).check(&t).is_err(), "component byte {i}");
        }
        // Moving a byte across the manifest/component boundary changes the digest too.
        let mut shifted = p.clone();
        let last = shifted.manifest.pop().unwrap();
        shifted.component.insert(0, last);
        assert!(strict(&k).check(&shifted).is_err());
        // And tampering inside the container bytes is caught the same way.
        let mut bytes = p.to_bytes();
        let at = bytes.len() / 2;
        bytes[at] ^= 1;
        if let Ok(t) = Package::parse(&bytes, MAX) {
            assert!(strict(&k).check(&t).is_err());
        }
    }

    /// A package signed by a key the server does not trust is refused (and one claiming a trusted key id but signed by another key fails verification).
    #[test]
    fn a_wrong_key_is_refused() {
        let (p, k) = signed();
        let other = key("mallory", 9);
        let err = strict(&other).check(&p).unwrap_err();
        assert!(err.contains("does not trust"), "{err}");
        assert!(err.contains(&k.key_id), "{err}");
        // Mallory signs but claims acme's key id.
        let mut forged = p.clone();
        forged.sign(&other);
        forged.signature.as_mut().unwrap().key_id = k.key_id.clone();
        assert!(strict(&k).check(&forged).is_err());
    }

    /// Without dev mode an unsigned package is refused with the reason; in dev mode it is accepted and marked unsigned (untrusted keys marked so).
    #[test]
    fn unsigned_packages_need_dev_mode() {
        let (mut p, k) = signed();
        let untrusted = p.clone();
        p.signature = None;
        let err = strict(&k).check(&p).unwrap_err();
        assert!(
            err.contains("unsigned") && err.contains("--dev-mode"),
            "{err}"
        );
        let dev = TrustSettings {
            keys: TrustedKeys::default(),
            dev_mode: true,
        };
        assert_eq!(dev.check(&p).unwrap().status, SignatureStatus::Unsigned);
        assert_eq!(
            dev.check(&untrusted).unwrap().status,
            SignatureStatus::UntrustedKey
        );
    }

    /// The container parser refuses bad magic, wrong versions, missing parts, oversized and truncated sections and trailing bytes.
    #[test]
    fn malformed_containers_are_refused() {
        let (p, _) = signed();
        let good = p.to_bytes();
        assert!(Package::parse(b"PK\x03\x04", MAX)
            .unwrap_err()
            .contains("magic"));
        let mut v2 = good.clone();
        v2[8] = 2;
        assert!(Package::parse(&v2, MAX).unwrap_err().contains("version"));
        assert!(Package::parse(&good[..good.len() - 1], MAX).is_err());
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(Package::parse(&trailing, MAX).is_err());
        assert!(Package::parse(&good[..9], MAX)
            .unwrap_err()
            .contains("missing manifest"));
        assert!(Package::parse(&good, 3).unwrap_err().contains("larger"));
        let unsigned = Package::new(b"m".to_vec(), b"c".to_vec()).to_bytes();
        assert_eq!(Package::parse(&unsigned, MAX).unwrap().signature, None);
    }

    /// Key files and trusted-keys lines round-trip; a line whose key id does not fit its key is refused.
    #[test]
    fn keys_round_trip_and_ids_are_checked() {
        let k = key("acme", 3);
        let back = PrivateKey::from_file(&k.to_file()).unwrap();
        assert_eq!(back.public(), k.public());
        let line = k.public().to_line();
        let trusted = TrustedKeys::parse(&format!("# vendors\n\n{line}  # acme\n")).unwrap();
        assert_eq!(trusted.len(), 1);
        let other = key("acme", 4).public();
        let bad = format!("acme {} {}", other.key_id, line.rsplit(' ').next().unwrap());
        assert!(TrustedKeys::parse(&bad)
            .unwrap_err()
            .contains("does not fit"));
        assert!(TrustedKeys::parse("just-one-field").is_err());
        assert!(PrivateKey::generate("bad vendor").is_err());
        assert_ne!(
            PrivateKey::generate("a").unwrap().key_id,
            PrivateKey::generate("a").unwrap().key_id
        );
    }
}
