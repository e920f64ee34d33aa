//! Response JSON with amounts written as PDD writes them. Orders are stored with amounts
//! as exact decimal strings ("102.20"); with [`AmountStyle::Numbers`] those strings are
//! written unquoted (`102.20`), so no amount ever passes through a float.

use serde_json::Value;

use super::config::AmountStyle;

/// Keys whose values are yuan amounts.
pub const AMOUNT_FIELDS: [&str; 8] = [
    "pay_amount",
    "goods_amount",
    "discount_amount",
    "platform_discount",
    "seller_discount",
    "capital_free_discount",
    "postage",
    "goods_price",
];

fn is_decimal(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(s.contains('.') && frac.is_empty())
}

/// Serialise `v`, writing amount strings as numbers when `style` says so.
pub fn to_string(v: &Value, style: AmountStyle) -> String {
    let mut out = String::new();
    write(&mut out, v, style, false);
    out
}

fn write(out: &mut String, v: &Value, style: AmountStyle, amount: bool) {
    match v {
        Value::Object(map) => {
            out.push('{');
            for (i, (k, val)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).expect("a string serialises"));
                out.push(':');
                write(out, val, style, AMOUNT_FIELDS.contains(&k.as_str()));
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item, style, false);
            }
            out.push(']');
        }
        Value::String(s) if amount && style == AmountStyle::Numbers && is_decimal(s) => {
            out.push_str(s)
        }
        other => out.push_str(&serde_json::to_string(other).expect("a value serialises")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Amount strings become exact number literals; other strings stay strings.
    #[test]
    fn amounts_become_numbers() {
        let v = json!({"pay_amount": "102.20", "order_sn": "240401-1",
                       "item_list": [{"goods_price": "29.90", "goods_name": "12.5"}],
                       "postage": "0.00", "note": null});
        let s = to_string(&v, AmountStyle::Numbers);
        assert!(s.contains(r#""pay_amount":102.20"#), "{s}");
        assert!(s.contains(r#""goods_price":29.90"#), "{s}");
        assert!(s.contains(r#""postage":0.00"#), "{s}");
        assert!(s.contains(r#""goods_name":"12.5""#), "{s}");
        assert!(s.contains(r#""order_sn":"240401-1""#), "{s}");
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["note"], Value::Null);
        let s = to_string(&v, AmountStyle::Strings);
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
    }

    // Only plain decimals are unquoted: anything else would not be valid JSON.
    #[test]
    fn only_decimals_are_unquoted() {
        for bad in ["", "1e3", "-1.0", "1.", ".5", "abc"] {
            let s = to_string(&json!({"pay_amount": bad}), AmountStyle::Numbers);
            assert_eq!(
                serde_json::from_str::<Value>(&s).unwrap()["pay_amount"],
                bad
            );
        }
    }
}
