//! The SF calls behind each export, over an injected transport (`wharf_sdk::http::send`
//! in the plugin, reqwest against the simulator in native tests):
//!
//! - quote: `EXP_RECE_QUERY_DELIVERTM` with `searchPrice: "1"`;
//! - create-waybill: `EXP_RECE_CREATE_ORDER` (orderId = the host's order reference; a
//!   repeated reference, SF's 8016, is answered from `EXP_RECE_SEARCH_ORDER_RESP`, so a
//!   retried job books nothing twice), then `COM_RECE_CLOUD_PRINT_WAYBILLS` and the
//!   download of its PDF (header `X-Auth-token`);
//! - cancel-waybill: `EXP_RECE_SEARCH_ORDER_RESP` by `mainWaybillNo` for the orderId, then
//!   `EXP_RECE_UPDATE_ORDER` with `dealType: 2`;
//! - track: `EXP_RECE_SEARCH_ROUTES` by waybill number (`trackingType: "1"`).

use serde_json::{json, Value};
use wharf_sdk::courier::{LabelFormat, ServiceQuote, TrackingEvent, Waybill, WaybillRequest};
use wharf_sdk::http::{Request, Transport};
use wharf_sdk::money;
use wharf_sdk::time::{format_local, parse_local_ms};
use wharf_sdk::types::{Address, ConnectorError, Money};

use crate::routes;
use crate::settings::Settings;
use crate::sfapi::{self, text_of, BizFailure};

pub const CREATE_ORDER: &str = "EXP_RECE_CREATE_ORDER";
pub const SEARCH_ORDER: &str = "EXP_RECE_SEARCH_ORDER_RESP";
pub const UPDATE_ORDER: &str = "EXP_RECE_UPDATE_ORDER";
pub const SEARCH_ROUTES: &str = "EXP_RECE_SEARCH_ROUTES";
pub const QUERY_DELIVERTM: &str = "EXP_RECE_QUERY_DELIVERTM";
pub const CLOUD_PRINT: &str = "COM_RECE_CLOUD_PRINT_WAYBILLS";

/// The canonical Wharf carrier code of SF Express.
pub const CARRIER: &str = "SF";

/// One installation's client: settings, the check word and the clock of this call.
pub struct Client<'a> {
    pub settings: &'a Settings,
    pub check_word: &'a str,
    pub now_ms: i64,
}

impl Client<'_> {
    /// Call `service_code` and answer its raw `apiResultData` object.
    fn call_raw(
        &self,
        service_code: &str,
        msg: &Value,
        send: Transport<'_>,
    ) -> Result<Value, ConnectorError> {
        let req = sfapi::request(
            &self.settings.service_url(),
            &self.settings.partner_id,
            self.check_word,
            service_code,
            msg,
            self.now_ms,
        );
        sfapi::read_envelope(service_code, send(req)?)
    }

    /// Call `service_code`: `Ok(Ok(msgData))`, or the business failure to interpret.
    fn call(
        &self,
        service_code: &str,
        msg: &Value,
        send: Transport<'_>,
    ) -> Result<Result<Value, BizFailure>, ConnectorError> {
        let data = self.call_raw(service_code, msg, send)?;
        Ok(sfapi::business(service_code, &data))
    }
}

/// Integer minor units → a decimal yuan string ("99.00"), as SF's amount fields take.
pub fn decimal(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", minor.abs() / 100, minor.abs() % 100)
}

/// Grams → kilograms with three decimals ("1.500").
pub fn kilograms(grams: u64) -> String {
    format!("{}.{:03}", grams / 1000, grams % 1000)
}

fn nonblank(a: &Address) -> bool {
    !a.name.trim().is_empty() && !a.phone.trim().is_empty() && !a.street.trim().is_empty()
}

/// Check a request before anything is sent: parcels with weight, a readable receiver.
fn check(request: &WaybillRequest) -> Result<u64, ConnectorError> {
    if request.parcels.is_empty() {
        return Err(ConnectorError::InvalidInput(format!(
            "order {}: a waybill needs at least one parcel",
            request.order_reference
        )));
    }
    if request.receiver.encrypted {
        return Err(ConnectorError::InvalidInput(format!(
            "order {}: the receiver's address is still encrypted by the channel",
            request.order_reference
        )));
    }
    let grams: u64 = request.parcels.iter().map(|p| u64::from(p.weight_g)).sum();
    if grams == 0 {
        return Err(ConnectorError::InvalidInput(format!(
            "order {}: the parcels weigh 0 g",
            request.order_reference
        )));
    }
    Ok(grams)
}

fn sender<'a>(
    settings: &'a Settings,
    request: &'a WaybillRequest,
) -> Result<&'a Address, ConnectorError> {
    if nonblank(&request.sender) {
        return Ok(&request.sender);
    }
    settings
        .sender
        .as_ref()
        .filter(|s| nonblank(s))
        .ok_or_else(|| {
            ConnectorError::InvalidInput(format!(
                "order {}: no sender: the request's sender is empty and no sender_* is configured",
                request.order_reference
            ))
        })
}

fn contact(kind: u8, a: &Address) -> Value {
    json!({
        "contactType": kind,
        "contact": a.name,
        "mobile": a.phone,
        "country": (if a.country.trim().is_empty() { "CN" } else { a.country.as_str() }),
        "province": a.province,
        "city": a.city,
        "county": a.district,
        "address": a.street,
        "postCode": a.postal_code,
    })
}

fn area(a: &Address) -> Value {
    json!({"province": a.province, "city": a.city, "district": a.district, "address": a.street})
}

/// The `EXP_RECE_CREATE_ORDER` message of a request (pay by the sender, 寄付, charged to
/// the monthly account when configured).
pub fn create_message(
    settings: &Settings,
    request: &WaybillRequest,
) -> Result<Value, ConnectorError> {
    let grams = check(request)?;
    if !nonblank(&request.receiver) {
        return Err(ConnectorError::InvalidInput(format!(
            "order {}: the receiver needs a name, a phone and a street",
            request.order_reference
        )));
    }
    let from = sender(settings, request)?;
    let service = request
        .service_code
        .clone()
        .unwrap_or_else(|| settings.default_service.clone());
    let mut msg = json!({
        "language": "zh-CN",
        "orderId": request.order_reference,
        "expressTypeId": service,
        "payMethod": 1,
        "parcelQty": request.parcels.len(),
        "totalWeight": kilograms(grams),
        "cargoDeclaredValue": decimal(request.declared_value.minor),
        "declaredValueCurrency": request.declared_value.currency,
        "cargoDetails": [{"name": format!("订单 {}", request.order_reference),
                          "count": request.parcels.len(), "unit": "件",
                          "weight": kilograms(grams)}],
        "contactInfoList": [contact(1, from), contact(2, &request.receiver)],
    });
    if let Some(card) = &settings.month_card {
        msg["monthlyCard"] = json!(card);
    }
    Ok(msg)
}

/// The master waybill number of a `waybillNoInfoList` (type 1, else the first).
fn master_waybill(service: &str, msg_data: &Value) -> Result<String, ConnectorError> {
    let list = msg_data
        .get("waybillNoInfoList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let pick = list
        .iter()
        .find(|w| w.get("waybillType").and_then(text_of).as_deref() == Some("1"))
        .or_else(|| list.first());
    pick.and_then(|w| w.get("waybillNo"))
        .and_then(text_of)
        .ok_or_else(|| {
            ConnectorError::InvalidInput(format!("SF {service}: no waybillNo in waybillNoInfoList"))
        })
}

/// Book the shipment, print its label and answer the waybill.
pub fn create_waybill(
    client: &Client<'_>,
    request: &WaybillRequest,
    send: Transport<'_>,
) -> Result<Waybill, ConnectorError> {
    let msg = create_message(client.settings, request)?;
    let waybill_no = match client.call(CREATE_ORDER, &msg, send)? {
        Ok(data) => master_waybill(CREATE_ORDER, &data)?,
        // 8016 重复下单: this order reference was booked before (a retried job).
        Err(f) if f.code == "8016" => {
            let search = json!({"orderId": request.order_reference, "searchType": "1",
                                "language": "zh-CN"});
            let data = client
                .call(SEARCH_ORDER, &search, send)?
                .map_err(|f| f.to_connector_error())?;
            master_waybill(SEARCH_ORDER, &data)?
        }
        Err(f) => return Err(f.to_connector_error()),
    };
    let label = print_label(client, &waybill_no, send)?;
    Ok(Waybill {
        carrier: CARRIER.into(),
        tracking_number: waybill_no,
        label_format: LabelFormat::Pdf,
        label,
        price: None,
    })
}

/// `COM_RECE_CLOUD_PRINT_WAYBILLS` (synchronous, PDF) for one waybill, then the download
/// of the file it names.
pub fn print_label(
    client: &Client<'_>,
    waybill_no: &str,
    send: Transport<'_>,
) -> Result<Vec<u8>, ConnectorError> {
    let msg = json!({
        "templateCode": client.settings.template_code,
        "version": "2.0",
        "fileType": "pdf",
        "sync": true,
        "documents": [{"masterWaybillNo": waybill_no}],
    });
    let data = client.call_raw(CLOUD_PRINT, &msg, send)?;
    sfapi::business(CLOUD_PRINT, &data).map_err(|f| f.to_connector_error())?;
    let file = data.pointer("/obj/files/0").cloned().unwrap_or(Value::Null);
    let (Some(url), Some(token)) = (
        file.get("url").and_then(text_of),
        file.get("token").and_then(text_of),
    ) else {
        return Err(ConnectorError::InvalidInput(format!(
            "SF {CLOUD_PRINT}: no file url and token for {waybill_no}"
        )));
    };
    let resp = send(Request::get(url).header("X-Auth-token", &token))?.error_for_status()?;
    if !resp.body.starts_with(b"%PDF-") {
        return Err(ConnectorError::Permanent(format!(
            "SF label of {waybill_no} is not a PDF document"
        )));
    }
    Ok(resp.body)
}

/// Cancel the order behind `waybill_no`. Cancelling a cancelled waybill succeeds (the host
/// retries); SF refuses once the parcel was collected (`permanent`).
pub fn cancel_waybill(
    client: &Client<'_>,
    waybill_no: &str,
    send: Transport<'_>,
) -> Result<(), ConnectorError> {
    let waybill_no = waybill_no.trim();
    let search = json!({"mainWaybillNo": waybill_no, "searchType": "1", "language": "zh-CN"});
    let order_id = match client.call(SEARCH_ORDER, &search, send)? {
        Ok(data) => data.get("orderId").and_then(text_of).ok_or_else(|| {
            ConnectorError::InvalidInput(format!("SF {SEARCH_ORDER}: no orderId for {waybill_no}"))
        })?,
        Err(f) if matches!(f.code.as_str(), "8018" | "6150") => {
            return Err(ConnectorError::InvalidInput(format!(
                "SF knows no order for waybill {waybill_no} ({} {})",
                f.code, f.message
            )))
        }
        Err(f) => return Err(f.to_connector_error()),
    };
    let msg = json!({
        "orderId": order_id,
        "dealType": 2,
        "language": "zh-CN",
        "waybillNoInfoList": [{"waybillType": 1, "waybillNo": waybill_no}],
    });
    match client.call(UPDATE_ORDER, &msg, send)? {
        Ok(_) => Ok(()),
        // 8037 已消单 / 8253 订单已取消: already cancelled.
        Err(f) if matches!(f.code.as_str(), "8037" | "8253") => Ok(()),
        Err(f) => Err(f.to_connector_error()),
    }
}

/// The route history of `waybill_no`, oldest first (empty before the first scan).
pub fn track(
    client: &Client<'_>,
    waybill_no: &str,
    send: Transport<'_>,
) -> Result<Vec<TrackingEvent>, ConnectorError> {
    let waybill_no = waybill_no.trim();
    if waybill_no.is_empty() {
        return Err(ConnectorError::InvalidInput(
            "an empty tracking number".into(),
        ));
    }
    let msg = json!({"language": "0", "trackingType": "1", "trackingNumber": [waybill_no],
                     "methodType": "1"});
    let data = client
        .call(SEARCH_ROUTES, &msg, send)?
        .map_err(|f| f.to_connector_error())?;
    let resps = data
        .get("routeResps")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let routes = resps
        .iter()
        .find(|r| r.get("mailNo").and_then(text_of).as_deref() == Some(waybill_no))
        .and_then(|r| r.get("routes"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    routes::events(waybill_no, &routes)
}

/// Prices and promised times per SF product for the request's route and weight. A product
/// SF answers without a fee (not priced for this account) is left out.
pub fn quote(
    client: &Client<'_>,
    request: &WaybillRequest,
    send: Transport<'_>,
) -> Result<Vec<ServiceQuote>, ConnectorError> {
    let grams = check(request)?;
    let from = sender(client.settings, request)?;
    let mut msg = json!({
        "weight": kilograms(grams),
        "searchPrice": "1",
        "consignedTime": format_local(client.now_ms, 8),
        "srcAddress": area(from),
        "destAddress": area(&request.receiver),
    });
    if let Some(s) = &request.service_code {
        msg["businessType"] = json!(s);
    }
    if let Some(card) = &client.settings.month_card {
        msg["monthlyCard"] = json!(card);
    }
    let data = client
        .call(QUERY_DELIVERTM, &msg, send)?
        .map_err(|f| f.to_connector_error())?;
    let dtos = data
        .get("deliverTmDto")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for d in dtos {
        let field = |k: &str| d.get(k).and_then(text_of);
        let (Some(code), Some(fee)) = (field("businessType"), field("fee")) else {
            continue;
        };
        let price: Money = money::parse_with(|| format!("{QUERY_DELIVERTM} fee"), &fee, "CNY")?;
        // deliverTime: "yyyy-MM-dd HH:mm:ss[,yyyy-MM-dd HH:mm:ss]" (GMT+8), the first the promise.
        let transit_days = field("deliverTime")
            .and_then(|t| t.split(',').next().map(str::to_string))
            .and_then(|t| parse_local_ms("deliverTime", t.trim(), 8).ok())
            // Whole days, rounded: "tomorrow 18:00" asked at 10:00 is one day.
            .map(|at| ((at - client.now_ms).max(0) + 43_200_000) / 86_400_000)
            .map(|days| days.max(1) as u32);
        out.push(ServiceQuote {
            service_name: field("businessTypeDesc").unwrap_or_else(|| code.clone()),
            service_code: code,
            price,
            transit_days,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Amounts and weights are written from integers: no float on the way.
    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal(9900), "99.00");
        assert_eq!(decimal(5), "0.05");
        assert_eq!(decimal(-1234), "-12.34");
        assert_eq!(kilograms(1500), "1.500");
        assert_eq!(kilograms(7), "0.007");
    }
}
