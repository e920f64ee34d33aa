//! Carrier selection: a merchant's ordered rule list picks the courier installation (and
//! service) for a packed parcel. Pure rules: the store keeps the list, the server calls
//! the couriers' `quote` when a rule asks for the cheapest.
//!
//! A rule matches on the destination region (country / province / city, each compared
//! exactly or by prefix, case-insensitively) and on the parcel weight (grams, both bounds
//! inclusive). The first matching rule wins; when none matches, the default pick applies.
//! A pick is either a fixed installation (+ optional service code) or "the cheapest
//! quote" among a set of installations: the lowest price wins, ties go to the shorter
//! transit time, then to the installation listed first in the rule.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::courier::ServiceQuote;
use crate::money::{format_minor, minor_digits};
use crate::Address;

/// Longest rule list accepted.
pub const MAX_RULES: usize = 100;
/// Most installations one "cheapest" pick may compare.
pub const MAX_CANDIDATES: usize = 10;

/// How a region field is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    /// The whole field equals the rule's value.
    #[default]
    Exact,
    /// The field starts with the rule's value (e.g. "广东" matches "广东省").
    Prefix,
}

/// The destination a rule applies to; an absent field matches anything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionMatch {
    pub country: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    #[serde(default)]
    pub mode: MatchMode,
}

/// Parcel weight bounds in grams, both inclusive; an absent bound is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightRange {
    pub min_g: Option<u32>,
    pub max_g: Option<u32>,
}

/// What a rule picks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Pick {
    /// Always this courier installation (and service, else the carrier's default).
    Fixed {
        installation_id: i64,
        service_code: Option<String>,
    },
    /// Ask each installation for a quote and take the lowest price.
    Cheapest {
        installation_ids: Vec<i64>,
        /// Quote only this service (else every service each carrier offers).
        service_code: Option<String>,
    },
}

impl Pick {
    /// The installations this pick may use.
    pub fn installations(&self) -> Vec<i64> {
        match self {
            Pick::Fixed {
                installation_id, ..
            } => vec![*installation_id],
            Pick::Cheapest {
                installation_ids, ..
            } => installation_ids.clone(),
        }
    }
}

/// One rule of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarrierRule {
    /// Shown on the shipment as the chosen rule; unique within the list.
    pub name: String,
    pub region: Option<RegionMatch>,
    pub weight: Option<WeightRange>,
    pub pick: Pick,
}

/// A merchant's whole strategy: the ordered rules and the fallback.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarrierRules {
    #[serde(default)]
    pub rules: Vec<CarrierRule>,
    /// Applies when no rule matches.
    pub default: Option<Pick>,
}

/// The rule (or fallback) that applies to a parcel, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// 1-based position of the rule; 0 for the default.
    pub position: usize,
    /// The rule's name, or "default".
    pub name: String,
    pub pick: Pick,
    /// Why it matched, e.g. `region CN/广东, 0-3000 g`.
    pub why: String,
}

fn field_matches(value: &str, want: &str, mode: MatchMode) -> bool {
    let (v, w) = (value.trim().to_lowercase(), want.trim().to_lowercase());
    match mode {
        MatchMode::Exact => v == w,
        MatchMode::Prefix => v.starts_with(&w),
    }
}

impl RegionMatch {
    pub fn matches(&self, to: &Address) -> bool {
        [
            (&self.country, &to.country),
            (&self.province, &to.province),
            (&self.city, &to.city),
        ]
        .iter()
        .all(|(want, value)| {
            want.as_deref()
                .is_none_or(|w| field_matches(value, w, self.mode))
        })
    }

    fn describe(&self) -> String {
        let parts: Vec<&str> = [&self.country, &self.province, &self.city]
            .iter()
            .filter_map(|f| f.as_deref())
            .collect();
        let star = if self.mode == MatchMode::Prefix {
            "*"
        } else {
            ""
        };
        format!("region {}{star}", parts.join("/"))
    }
}

impl WeightRange {
    pub fn contains(&self, grams: u32) -> bool {
        self.min_g.is_none_or(|m| grams >= m) && self.max_g.is_none_or(|m| grams <= m)
    }

    fn describe(&self) -> String {
        match (self.min_g, self.max_g) {
            (Some(a), Some(b)) => format!("{a}-{b} g"),
            (Some(a), None) => format!("≥ {a} g"),
            (None, Some(b)) => format!("≤ {b} g"),
            (None, None) => "any weight".into(),
        }
    }
}

fn describe_pick(pick: &Pick) -> String {
    match pick {
        Pick::Fixed {
            installation_id,
            service_code,
        } => match service_code {
            Some(s) => format!("installation {installation_id} ({s})"),
            None => format!("installation {installation_id}"),
        },
        Pick::Cheapest {
            installation_ids, ..
        } => format!("cheapest of installations {installation_ids:?}"),
    }
}

impl CarrierRules {
    /// Check the list against the merchant's installations: `couriers` are the ids of its
    /// courier installations, `others` the ids of its other installations (named so the
    /// error can say "not a courier" rather than "unknown"). `Err` says what is wrong.
    pub fn validate(&self, couriers: &BTreeSet<i64>, others: &BTreeSet<i64>) -> Result<(), String> {
        if self.rules.len() > MAX_RULES {
            return Err(format!(
                "at most {MAX_RULES} rules, got {}",
                self.rules.len()
            ));
        }
        let mut names = BTreeSet::new();
        let check_pick = |pick: &Pick, at: &str| -> Result<(), String> {
            let ids = pick.installations();
            if ids.is_empty() {
                return Err(format!(
                    "{at}: a cheapest pick needs at least one installation"
                ));
            }
            if ids.len() > MAX_CANDIDATES {
                return Err(format!(
                    "{at}: a cheapest pick compares at most {MAX_CANDIDATES} installations"
                ));
            }
            let unique: BTreeSet<_> = ids.iter().collect();
            if unique.len() != ids.len() {
                return Err(format!("{at}: an installation is listed twice"));
            }
            for id in ids {
                if others.contains(&id) {
                    return Err(format!("{at}: installation {id} is not a courier"));
                }
                if !couriers.contains(&id) {
                    return Err(format!("{at}: unknown installation {id}"));
                }
            }
            let service = match pick {
                Pick::Fixed { service_code, .. } | Pick::Cheapest { service_code, .. } => {
                    service_code
                }
            };
            if service
                .as_deref()
                .is_some_and(|s| s.trim().is_empty() || s.len() > 100)
            {
                return Err(format!("{at}: service_code must be 1-100 bytes"));
            }
            Ok(())
        };
        for (i, rule) in self.rules.iter().enumerate() {
            let at = format!("rule {} {:?}", i + 1, rule.name);
            let name = rule.name.trim();
            if name.is_empty() || name.len() > 100 {
                return Err(format!("rule {}: name must be 1-100 bytes", i + 1));
            }
            if !names.insert(name.to_string()) {
                return Err(format!("{at}: the name is used twice"));
            }
            if let Some(w) = rule.weight {
                if let (Some(a), Some(b)) = (w.min_g, w.max_g) {
                    if a > b {
                        return Err(format!(
                            "{at}: bad weight range: min_g {a} is above max_g {b}"
                        ));
                    }
                }
            }
            if let Some(r) = &rule.region {
                let fields = [&r.country, &r.province, &r.city];
                if fields.iter().any(|f| {
                    f.as_deref()
                        .is_some_and(|v| v.trim().is_empty() || v.len() > 100)
                }) {
                    return Err(format!(
                        "{at}: region fields must be 1-100 bytes when given"
                    ));
                }
            }
            check_pick(&rule.pick, &at)?;
        }
        if let Some(d) = &self.default {
            check_pick(d, "default")?;
        }
        Ok(())
    }

    /// The first rule matching the destination and weight, else the default, else none.
    pub fn select(&self, to: &Address, weight_g: u32) -> Option<Selection> {
        for (i, rule) in self.rules.iter().enumerate() {
            let region_ok = rule.region.as_ref().is_none_or(|r| r.matches(to));
            let weight_ok = rule.weight.is_none_or(|w| w.contains(weight_g));
            if region_ok && weight_ok {
                let mut why: Vec<String> = Vec::new();
                if let Some(r) = &rule.region {
                    why.push(r.describe());
                }
                if let Some(w) = &rule.weight {
                    why.push(w.describe());
                }
                if why.is_empty() {
                    why.push("matches every parcel".into());
                }
                return Some(Selection {
                    position: i + 1,
                    name: rule.name.clone(),
                    pick: rule.pick.clone(),
                    why: format!("{} → {}", why.join(", "), describe_pick(&rule.pick)),
                });
            }
        }
        self.default.as_ref().map(|pick| Selection {
            position: 0,
            name: "default".into(),
            pick: pick.clone(),
            why: format!("no rule matched → {}", describe_pick(pick)),
        })
    }
}

/// A quote one candidate installation gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub installation_id: i64,
    pub quote: ServiceQuote,
}

/// The winner of a "cheapest" pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cheapest {
    pub installation_id: i64,
    pub quote: ServiceQuote,
    /// e.g. `cheapest of 3 quotes: 12.00 CNY (installation 7, standard)`.
    pub why: String,
}

/// Pick the lowest price among `candidates`, given in rule order (installation order,
/// then each carrier's own quote order). Ties go to fewer transit days (unknown counts
/// as longest), then to the earlier candidate. All quotes must share one currency.
pub fn cheapest(candidates: &[Candidate]) -> Result<Cheapest, String> {
    let first = candidates
        .first()
        .ok_or_else(|| "no carrier offered a service for this parcel".to_string())?;
    let currency = &first.quote.price.currency;
    if let Some(c) = candidates
        .iter()
        .find(|c| &c.quote.price.currency != currency)
    {
        return Err(format!(
            "quotes in different currencies ({currency} and {}) cannot be compared",
            c.quote.price.currency
        ));
    }
    let best = candidates
        .iter()
        .enumerate()
        .min_by_key(|(i, c)| {
            (
                c.quote.price.minor,
                c.quote.transit_days.unwrap_or(u32::MAX),
                *i,
            )
        })
        .map(|(_, c)| c)
        .expect("not empty");
    let amount = format_minor(best.quote.price.minor, minor_digits(currency).unwrap_or(2));
    Ok(Cheapest {
        installation_id: best.installation_id,
        quote: best.quote.clone(),
        why: format!(
            "cheapest of {} quotes: {amount} {currency} (installation {}, {})",
            candidates.len(),
            best.installation_id,
            best.quote.service_code
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Money;

    fn to(country: &str, province: &str, city: &str) -> Address {
        Address {
            country: country.into(),
            province: province.into(),
            city: city.into(),
            name: String::new(),
            phone: String::new(),
            district: String::new(),
            street: String::new(),
            postal_code: String::new(),
            encrypted: false,
        }
    }

    fn fixed(id: i64) -> Pick {
        Pick::Fixed {
            installation_id: id,
            service_code: None,
        }
    }

    fn rule(
        name: &str,
        region: Option<RegionMatch>,
        weight: Option<WeightRange>,
        pick: Pick,
    ) -> CarrierRule {
        CarrierRule {
            name: name.into(),
            region,
            weight,
            pick,
        }
    }

    fn guangdong_prefix() -> RegionMatch {
        RegionMatch {
            country: Some("CN".into()),
            province: Some("广东".into()),
            city: None,
            mode: MatchMode::Prefix,
        }
    }

    fn quote(code: &str, minor: i64, days: Option<u32>) -> ServiceQuote {
        ServiceQuote {
            service_code: code.into(),
            service_name: code.into(),
            price: Money::new(minor, "CNY"),
            transit_days: days,
        }
    }

    fn ids(v: &[i64]) -> BTreeSet<i64> {
        v.iter().copied().collect()
    }

    // A region rule by prefix matches "广东省" for "广东", case-insensitively on the
    // country, and says why; other provinces fall through to the default.
    #[test]
    fn region_prefix_rule_and_default_fallback() {
        let rules = CarrierRules {
            rules: vec![rule("south", Some(guangdong_prefix()), None, fixed(7))],
            default: Some(fixed(9)),
        };
        let s = rules.select(&to("cn", "广东省", "深圳市"), 500).unwrap();
        assert_eq!(
            (s.position, s.name.as_str(), s.pick.clone()),
            (1, "south", fixed(7))
        );
        assert!(s.why.contains("region CN/广东*"), "{}", s.why);
        let s = rules.select(&to("CN", "浙江省", "杭州市"), 500).unwrap();
        assert_eq!(
            (s.position, s.name.as_str(), s.pick),
            (0, "default", fixed(9))
        );
        assert!(s.why.contains("no rule matched"));
    }

    // Exact mode needs the whole field; a city rule is checked with the country.
    #[test]
    fn exact_region_needs_the_whole_field() {
        let r = RegionMatch {
            country: Some("CN".into()),
            province: None,
            city: Some("深圳市".into()),
            mode: MatchMode::Exact,
        };
        assert!(r.matches(&to("CN", "广东省", "深圳市")));
        assert!(!r.matches(&to("CN", "广东省", "深圳")));
        assert!(!r.matches(&to("HK", "", "深圳市")));
    }

    // Weight bounds are inclusive; the first matching rule wins over later ones.
    #[test]
    fn weight_ranges_and_rule_order() {
        let rules = CarrierRules {
            rules: vec![
                rule(
                    "light",
                    None,
                    Some(WeightRange {
                        min_g: None,
                        max_g: Some(1000),
                    }),
                    fixed(1),
                ),
                rule(
                    "mid",
                    None,
                    Some(WeightRange {
                        min_g: Some(1000),
                        max_g: Some(5000),
                    }),
                    fixed(2),
                ),
                rule("any", None, None, fixed(3)),
            ],
            default: None,
        };
        assert_eq!(rules.select(&to("CN", "", ""), 1000).unwrap().name, "light");
        assert_eq!(rules.select(&to("CN", "", ""), 1001).unwrap().name, "mid");
        assert_eq!(rules.select(&to("CN", "", ""), 5000).unwrap().name, "mid");
        let any = rules.select(&to("CN", "", ""), 5001).unwrap();
        assert_eq!(any.name, "any");
        assert!(any.why.contains("matches every parcel"));
    }

    // No rule and no default: nothing is selected.
    #[test]
    fn nothing_selected_without_default() {
        let rules = CarrierRules {
            rules: vec![rule("south", Some(guangdong_prefix()), None, fixed(7))],
            default: None,
        };
        assert_eq!(rules.select(&to("US", "CA", "LA"), 100), None);
    }

    // Cheapest: lowest price wins; equal price goes to fewer transit days; then to the
    // earlier candidate; the reason names the count and the amount.
    #[test]
    fn cheapest_prices_then_transit_then_order() {
        let c = |id, q| Candidate {
            installation_id: id,
            quote: q,
        };
        let won = cheapest(&[
            c(1, quote("std", 1500, Some(3))),
            c(2, quote("std", 1200, Some(4))),
            c(3, quote("eco", 1300, Some(5))),
        ])
        .unwrap();
        assert_eq!(won.installation_id, 2);
        assert_eq!(
            won.why,
            "cheapest of 3 quotes: 12.00 CNY (installation 2, std)"
        );
        let tie_days = cheapest(&[
            c(1, quote("a", 1000, Some(3))),
            c(2, quote("b", 1000, Some(1))),
        ])
        .unwrap();
        assert_eq!(tie_days.installation_id, 2);
        let unknown_days = cheapest(&[
            c(1, quote("a", 1000, None)),
            c(2, quote("b", 1000, Some(9))),
        ])
        .unwrap();
        assert_eq!(unknown_days.installation_id, 2);
        let tie_all = cheapest(&[
            c(4, quote("a", 1000, Some(2))),
            c(5, quote("b", 1000, Some(2))),
        ])
        .unwrap();
        assert_eq!(tie_all.installation_id, 4);
    }

    // No quotes, or quotes in two currencies, cannot be decided.
    #[test]
    fn cheapest_refuses_empty_and_mixed_currencies() {
        assert!(cheapest(&[]).unwrap_err().contains("no carrier"));
        let mut usd = quote("x", 100, None);
        usd.price.currency = "USD".into();
        let err = cheapest(&[
            Candidate {
                installation_id: 1,
                quote: quote("x", 100, None),
            },
            Candidate {
                installation_id: 2,
                quote: usd,
            },
        ])
        .unwrap_err();
        assert!(err.contains("different currencies"), "{err}");
    }

    // Invalid lists are refused with the reason: unknown installation, not a courier, bad
    // weight range, duplicate names, empty cheapest set, duplicate candidates.
    #[test]
    fn invalid_rules_are_refused_with_the_reason() {
        let couriers = ids(&[7, 8]);
        let others = ids(&[1]);
        let ok = CarrierRules {
            rules: vec![rule("south", Some(guangdong_prefix()), None, fixed(7))],
            default: Some(Pick::Cheapest {
                installation_ids: vec![7, 8],
                service_code: None,
            }),
        };
        assert_eq!(ok.validate(&couriers, &others), Ok(()));
        let with = |pick: Pick| CarrierRules {
            rules: vec![rule("r", None, None, pick)],
            default: None,
        };
        assert!(with(fixed(99))
            .validate(&couriers, &others)
            .unwrap_err()
            .contains("unknown installation 99"));
        assert!(with(fixed(1))
            .validate(&couriers, &others)
            .unwrap_err()
            .contains("not a courier"));
        let empty = Pick::Cheapest {
            installation_ids: vec![],
            service_code: None,
        };
        assert!(with(empty)
            .validate(&couriers, &others)
            .unwrap_err()
            .contains("at least one"));
        let twice = Pick::Cheapest {
            installation_ids: vec![7, 7],
            service_code: None,
        };
        assert!(with(twice)
            .validate(&couriers, &others)
            .unwrap_err()
            .contains("twice"));
        let bad_weight = CarrierRules {
            rules: vec![rule(
                "w",
                None,
                Some(WeightRange {
                    min_g: Some(5000),
                    max_g: Some(10),
                }),
                fixed(7),
            )],
            default: None,
        };
        assert!(bad_weight
            .validate(&couriers, &others)
            .unwrap_err()
            .contains("bad weight range"));
        let dup = CarrierRules {
            rules: vec![
                rule("a", None, None, fixed(7)),
                rule("a", None, None, fixed(8)),
            ],
            default: None,
        };
        assert!(dup
            .validate(&couriers, &others)
            .unwrap_err()
            .contains("used twice"));
        let bad_default = CarrierRules {
            rules: vec![],
            default: Some(fixed(1)),
        };
        assert!(bad_default
            .validate(&couriers, &others)
            .unwrap_err()
            .starts_with("default"));
    }

    // The JSON shape the API takes round-trips (tagged picks, default mode exact).
    #[test]
    fn json_shape() {
        let v = serde_json::json!({"rules": [{"name": "south",
            "region": {"country": "CN", "province": "广东", "mode": "prefix"},
            "weight": {"max_g": 3000},
            "pick": {"kind": "fixed", "installation_id": 7, "service_code": "express"}}],
            "default": {"kind": "cheapest", "installation_ids": [7, 8]}});
        let rules: CarrierRules = serde_json::from_value(v).unwrap();
        assert_eq!(
            rules.rules[0].region.as_ref().unwrap().mode,
            MatchMode::Prefix
        );
        assert_eq!(rules.default.unwrap().installations(), vec![7, 8]);
    }
}
