//! PDD `error_response` answers. The open platform answers errors with HTTP 200 and
//! `{"error_response": {error_code, error_msg, sub_code, sub_msg, request_id}}`.
//!
//! Codes (as PDD documents its common errors; unverified against the live platform):
//! 10000 invalid parameter, 10016 unknown client_id, 10019 access_token invalid or
//! expired, 20004 signature mismatch, 70031 calls too frequent, 50000 internal error /
//! server busy. 60000 (goods or SKU not in the shop) is the simulator's own business
//! code for `pdd.goods.quantity.update`; PDD's real code for it is not known here.

use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PddError {
    /// 10000: a parameter is missing or refused; the text says which and why.
    InvalidParam(String),
    /// 10016: the client_id is not an app.
    UnknownClient,
    /// 20004: the sign does not match the parameters signed with the client secret.
    BadSign,
    /// 10019: the access_token is wrong, expired or revoked.
    InvalidToken(String),
    /// 70031: too many calls.
    RateLimited,
    /// 50000: internal error / server busy.
    ServerBusy,
    /// 60000: the goods, or the SKU of the goods, is not in the shop (a business error
    /// of `pdd.goods.quantity.update`); the text says which.
    GoodsNotExist(String),
    /// A business refusal with the simulator's own code (60010–60012: shipping), the
    /// text saying why.
    Business(i64, String),
}

impl PddError {
    pub fn code(&self) -> i64 {
        match self {
            PddError::InvalidParam(_) => 10000,
            PddError::UnknownClient => 10016,
            PddError::BadSign => 20004,
            PddError::InvalidToken(_) => 10019,
            PddError::RateLimited => 70031,
            PddError::ServerBusy => 50000,
            PddError::GoodsNotExist(_) => 60000,
            PddError::Business(code, _) => *code,
        }
    }

    /// The `error_response` body.
    pub fn body(&self, request_id: &str) -> Value {
        let (msg, sub_code, sub_msg) = match self {
            PddError::InvalidParam(why) => ("参数错误", "isv.invalid-parameter", why.clone()),
            PddError::UnknownClient => (
                "client_id不存在",
                "isv.client-id-not-exist",
                "client_id is not a registered app".to_string(),
            ),
            PddError::BadSign => (
                "签名错误",
                "isv.sign-invalid",
                "sign does not match the parameters".to_string(),
            ),
            PddError::InvalidToken(why) => (
                "access_token已过期",
                "isv.access-token-invalid",
                why.clone(),
            ),
            PddError::RateLimited => (
                "调用过于频繁，请调整调用频率",
                "isp.call-limited",
                "too many calls, slow down".to_string(),
            ),
            PddError::ServerBusy => (
                "系统内部错误",
                "isp.service-busy",
                "server busy, retry later".to_string(),
            ),
            PddError::GoodsNotExist(why) => ("商品不存在", "isv.goods-not-exist", why.clone()),
            PddError::Business(_, why) => ("业务错误", "isv.business-error", why.clone()),
        };
        json!({"error_response": {
            "error_code": self.code(),
            "error_msg": msg,
            "sub_code": sub_code,
            "sub_msg": sub_msg,
            "request_id": request_id,
        }})
    }
}
