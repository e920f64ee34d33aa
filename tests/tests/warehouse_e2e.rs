//! The warehouse page end to end: the real `wharf serve`, the real Shopify plugin and its
//! simulator, and a headless Chromium (Debian's `chromium` + `chromium-driver`, driven
//! over WebDriver) at a phone's 375-px viewport. A picker signs in with a pasted token,
//! scans orders, takes / starts / completes the pick and the pack (a bad weight is refused
//! on the page and nothing is sent), reports an exception, asks for a label that does not
//! exist yet, prints the courier's PDF once the waybill is booked, and sees API refusals
//! in plain words; every step is checked through the API too. Also: the scan and
//! task-board endpoints, and the page's security headers.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use wharf_tests::browser::{png_size, Browser, VIEWPORT_WIDTH};
use wharf_tests::shopify::{clean_paid_order, couriers, pick_and_pack, setup, Ctx};
use wharf_tests::{eventually, Api};

const VARIANT: u64 = 44_000_000_202;

/// A clean paid order sent as an `orders/paid` webhook; returns (store id, Shopify JSON).
async fn paid_order(ctx: &Ctx, seed: u64, sku: &str, qty: u64) -> (i64, Value) {
    let shopify = clean_paid_order(&ctx.sim, seed, sku, VARIANT, qty);
    let status = ctx
        .sim
        .send_webhook(&ctx.webhook_url, "orders/paid", &shopify)
        .await
        .unwrap();
    assert_eq!(status, 200, "webhook acknowledged");
    let ext = shopify["id"].to_string();
    let orders = ctx.merchant.all_orders("").await;
    let id = orders
        .iter()
        .find(|o| o["external_id"] == ext.as_str())
        .unwrap_or_else(|| panic!("order {ext} stored"))["id"]
        .as_i64()
        .unwrap();
    (id, shopify)
}

async fn task_of(api: &Api, order: i64, kind: &str) -> Value {
    let (s, tasks) = api
        .get(&format!("/v1/tasks?order_id={order}&kind={kind}"))
        .await;
    assert_eq!(s, 200, "{tasks}");
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 1, "one {kind} task: {tasks:?}");
    tasks[0].clone()
}

async fn order_state(api: &Api, order: i64) -> String {
    let (s, f) = api.get(&format!("/v1/orders/{order}/fulfillment")).await;
    assert_eq!(s, 200, "{f}");
    f["state"].as_str().unwrap().to_string()
}

/// A fresh directory for one test's browser profile and screenshots.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "wharf-warehouse-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Open the page and sign in with the merchant's token.
async fn sign_in(b: &Browser, ctx: &Ctx) {
    b.open(&format!("{}/warehouse", ctx.wharf.base_url)).await;
    b.wait_displayed("#signin").await;
    b.type_into("#token", &ctx.merchant.token).await;
    b.click("#signin-button").await;
    b.wait_displayed("#scan").await;
    b.wait_text("#message", "Signed in").await;
}

// A picker works a whole order on the phone page: sign in, scan the order number, see the
// lines and the open pick task, take it (the name is asked once), start, done; then the
// pack: a bad weight is refused on the page with nothing sent, a good parcel completes it;
// the lists show the tasks; the label button says there is no label yet; the 375-px
// screenshot is a real render without horizontal overflow. The API agrees at each step.
#[tokio::test]
async fn pick_and_pack_an_order_from_the_phone_page() {
    let ctx = setup(&[], 0).await;
    let api = &ctx.merchant;
    let (id, shopify) = paid_order(&ctx, 31, "MUG-1", 2).await;
    let (other_id, other) = paid_order(&ctx, 32, "BOWL-7", 1).await;
    let number = shopify["name"].as_str().unwrap().to_string();
    let pick = task_of(api, id, "pick").await;
    let pick_id = pick["id"].as_i64().unwrap();
    assert_eq!(pick["status"], "open");

    let dir = temp_dir("pick");
    let b = Browser::start(&dir).await;
    sign_in(&b, &ctx).await;
    // The token lives in localStorage, never in the address.
    let url = b.current_url().await;
    assert!(!url.contains(&ctx.merchant.token), "{url}");
    assert_eq!(
        b.js("return localStorage.getItem('wharf.warehouse.token')")
            .await,
        json!(ctx.merchant.token)
    );

    // The open queue lists both orders' pick tasks with their numbers.
    b.click("#tab-open").await;
    let list = b.wait_text("#task-list", &number).await;
    assert!(
        list.contains(other["name"].as_str().unwrap()),
        "both open pick tasks listed: {list}"
    );

    // Scan the order number without its '#', as a label barcode carries it.
    b.scan("#scan", number.trim_start_matches('#')).await;
    b.wait_text("#order-number", &number).await;
    let lines = b.text("#order-lines").await;
    assert!(lines.contains("MUG-1") && lines.contains('2'), "{lines}");
    b.wait_text("#task-summary", &format!("Pick task #{pick_id}: open"))
        .await;
    let meta = b.text("#order-meta").await;
    let city = shopify["billing_address"]["city"].as_str().unwrap();
    assert!(meta.contains(city), "the destination city is shown: {meta}");

    // Take: the name is asked once.
    b.click("#take").await;
    b.wait_displayed("#name-panel").await;
    b.type_into("#picker-name", "Ana").await;
    b.click("#name-save").await;
    b.wait_text("#task-summary", "taken by Ana").await;
    let t = task_of(api, id, "pick").await;
    assert_eq!(
        (t["status"].clone(), t["assignee"].clone()),
        (json!("assigned"), json!("Ana"))
    );
    b.click("#tab-mine").await;
    b.wait_text("#task-list", &number).await;

    b.click("#start").await;
    b.wait_text("#task-summary", "in progress").await;
    assert_eq!(task_of(api, id, "pick").await["status"], "in_progress");
    assert_eq!(order_state(api, id).await, "picking");

    b.click("#done").await;
    b.wait_text("#message", "Pick done").await;
    assert_eq!(task_of(api, id, "pick").await["status"], "done");
    let pack = task_of(api, id, "pack").await;
    let pack_id = pack["id"].as_i64().unwrap();
    b.wait_text("#task-summary", &format!("Pack task #{pack_id}: open"))
        .await;

    // The pack: no name prompt any more.
    b.click("#take").await;
    b.wait_text("#task-summary", "taken by Ana").await;
    assert!(!b.displayed("#name-panel").await, "the name was remembered");
    b.click("#start").await;
    b.wait_displayed("#pack-form").await;
    b.type_into("#weight", "12.5").await;
    b.type_into("#length", "300").await;
    b.type_into("#width", "200").await;
    b.type_into("#height", "120").await;
    b.click("#done").await;
    let msg = b
        .wait_text("#message", "Weight must be a whole number")
        .await;
    assert!(msg.contains("12.5"), "{msg}");
    assert_eq!(
        b.js("return document.getElementById('weight').getAttribute('aria-invalid')")
            .await,
        json!("true")
    );
    // Nothing was sent: the pack is still in progress without a parcel.
    let t = task_of(api, id, "pack").await;
    assert_eq!(
        (t["status"].clone(), t["parcel"].clone()),
        (json!("in_progress"), Value::Null)
    );
    assert_eq!(order_state(api, id).await, "picking");

    b.type_into("#weight", "640").await;
    b.click("#done").await;
    b.wait_text("#message", "Packed: 640 g, 300×200×120 mm")
        .await;
    let t = task_of(api, id, "pack").await;
    assert_eq!(t["status"], "done");
    assert_eq!(
        t["parcel"],
        json!({"weight_g": 640, "length_mm": 300, "width_mm": 200, "height_mm": 120})
    );
    assert_eq!(order_state(api, id).await, "packed");
    b.wait_text("#order-state", "packed").await;
    b.wait_text("#task-summary", "No open task").await;

    // The label is not there yet.
    b.click("#print-label").await;
    b.wait_text("#message", "No label yet").await;
    assert!(!b.displayed("#label-link").await);

    // Ana's list is empty again; the other order's pick is still in the open queue.
    b.click("#tab-mine").await;
    b.wait_text("#task-list-empty", "no tasks").await;
    b.click("#tab-open").await;
    b.wait_text("#task-list", other["name"].as_str().unwrap())
        .await;
    assert_eq!(task_of(api, other_id, "pick").await["status"], "open");

    // The phone-width render: the viewport is 375 px and nothing overflows it.
    let width = b.js("return window.innerWidth").await;
    assert_eq!(width, json!(VIEWPORT_WIDTH));
    let scroll = b
        .js("return document.documentElement.scrollWidth")
        .await
        .as_u64()
        .unwrap();
    assert!(
        scroll <= u64::from(VIEWPORT_WIDTH),
        "horizontal overflow: {scroll} px"
    );
    let png = b.screenshot().await;
    let path = dir.join("warehouse-375.png");
    std::fs::write(&path, &png).unwrap();
    let (w, h) = png_size(&png).expect("a PNG");
    assert_eq!(w, VIEWPORT_WIDTH, "{}", path.display());
    assert!(h >= 600, "{h}");
    assert!(
        png.len() > 10_000,
        "a real render, not a blank page: {} B",
        png.len()
    );
    if let Ok(keep) = std::env::var("WHARF_TEST_SCREENSHOT") {
        std::fs::copy(&path, keep).unwrap();
    }
    b.quit().await;
    std::fs::remove_dir_all(&dir).ok();
}

// The label of a packed order prints from the page: the waybill job has booked it with a
// courier, "Print label" fetches it with the picker's token, recognises the PDF the API
// serves and offers it as a download named after the order.
#[tokio::test]
async fn print_label_offers_the_couriers_pdf() {
    let ctx = setup(&[], 0).await;
    let api = &ctx.merchant;
    let ids = couriers(
        &ctx,
        &[json!({"carrier": "sf", "price_per_kg": 1500, "label_format": "pdf"})],
    )
    .await;
    let (s, v) = api
        .put(
            "/v1/carrier-rules",
            json!({"rules": [], "default": {"kind": "fixed", "installation_id": ids[0]}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (id, shopify) = paid_order(&ctx, 51, "MUG-1", 1).await;
    let number = shopify["name"].as_str().unwrap().to_string();
    pick_and_pack(api, id).await;
    let labelled = eventually(Duration::from_secs(30), || async {
        (order_state(api, id).await == "labelled").then_some(())
    })
    .await;
    assert!(labelled.is_some(), "the waybill job labelled order {id}");
    let (_, _, served) = api.get_bytes(&format!("/v1/orders/{id}/label")).await;
    assert!(served.starts_with(b"%PDF-"), "a PDF label");

    let dir = temp_dir("label");
    let b = Browser::start(&dir).await;
    sign_in(&b, &ctx).await;
    b.scan("#scan", &number).await;
    b.wait_text("#order-state", "labelled").await;
    b.click("#print-label").await;
    b.wait_text("#message", "Label ready (PDF)").await;
    assert!(b.displayed("#label-link").await);
    let anchor = b
        .js("const a = document.getElementById('label-anchor'); return [a.href, a.download];")
        .await;
    assert!(anchor[0].as_str().unwrap().starts_with("blob:"), "{anchor}");
    let safe: String = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert_eq!(anchor[1], json!(format!("label-{safe}.pdf")));
    b.quit().await;
    std::fs::remove_dir_all(&dir).ok();
}

// An exception is reported from the page with its reason (the API shows it), an API
// refusal (409) is shown in plain words, an unknown code says nothing was found, and
// signing out removes the token from the device.
#[tokio::test]
async fn exception_refusals_and_sign_out_on_the_page() {
    let ctx = setup(&[], 0).await;
    let api = &ctx.merchant;
    let (id, shopify) = paid_order(&ctx, 41, "LAMP-3", 1).await;
    let (busy_id, busy) = paid_order(&ctx, 42, "MUG-1", 1).await;
    let dir = temp_dir("exception");
    let b = Browser::start(&dir).await;
    sign_in(&b, &ctx).await;

    // Unknown code.
    b.scan("#scan", "NO-SUCH-ORDER").await;
    b.wait_text("#message", "No order found for “NO-SUCH-ORDER”")
        .await;

    // Scan by the channel's order id, report an exception.
    b.scan("#scan", &shopify["id"].to_string()).await;
    b.wait_text("#order-number", shopify["name"].as_str().unwrap())
        .await;
    b.click("#report").await;
    b.click("#exception-send").await;
    b.wait_text("#message", "Say what is wrong").await;
    assert_eq!(
        task_of(api, id, "pick").await["status"],
        "open",
        "nothing sent"
    );
    b.type_into("#reason", "Shelf B4 is empty").await;
    b.click("#exception-send").await;
    b.wait_text("#message", "Exception reported").await;
    b.wait_text("#task-exception", "Reported: Shelf B4 is empty")
        .await;
    let t = task_of(api, id, "pick").await;
    assert_eq!(t["status"], "exception");
    assert_eq!(t["exception_reason"], "Shelf B4 is empty");

    // A stale screen: the page shows the task as taken by Bob, then Bob starts it
    // elsewhere; this page's "start" is refused (409) and says why.
    let busy_pick = task_of(api, busy_id, "pick").await["id"].as_i64().unwrap();
    let (s, _) = api
        .post(
            &format!("/v1/tasks/{busy_pick}/assign"),
            json!({"assignee": "Bob"}),
        )
        .await;
    assert_eq!(s, 200);
    b.scan("#scan", busy["name"].as_str().unwrap()).await;
    b.wait_text("#task-summary", "taken by Bob").await;
    b.wait_text("#take", "Take over from Bob").await;
    let (s, _) = api
        .post(&format!("/v1/tasks/{busy_pick}/start"), json!({}))
        .await;
    assert_eq!(s, 200);
    b.click("#start").await;
    let msg = b.wait_text("#message", "Not possible right now").await;
    assert!(msg.contains("in_progress"), "the reason is shown: {msg}");
    // The page re-read the order: it is in progress by Bob now.
    b.wait_text("#task-summary", "in progress by Bob").await;

    // Sign out: the token is gone from the device and the sign-in form is back.
    b.click("#sign-out").await;
    b.wait_displayed("#signin").await;
    assert_eq!(
        b.js("return localStorage.getItem('wharf.warehouse.token')")
            .await,
        Value::Null
    );
    // A wrong token is refused with a plain message.
    b.type_into("#token", "not-a-token").await;
    b.click("#signin-button").await;
    b.wait_text("#message", "Your token was not accepted").await;
    assert!(b.displayed("#signin").await);
    b.quit().await;
    std::fs::remove_dir_all(&dir).ok();
}

// `GET /v1/scan` finds an order by its number (with or without '#'), the channel's order
// id and its tracking number, shows lines, city, state and the open task; it is scoped to
// the merchant (another merchant gets 404), an unknown code is 404 and an empty one 400.
#[tokio::test]
async fn scan_finds_orders_by_number_id_and_tracking_for_their_merchant_only() {
    let ctx = setup(&[], 0).await;
    let api = &ctx.merchant;
    let (id, shopify) = paid_order(&ctx, 51, "MUG-1", 3).await;
    let number = shopify["name"].as_str().unwrap();
    let ext = shopify["id"].to_string();
    for (code, how) in [
        (number.to_string(), "number"),
        (number.trim_start_matches('#').to_string(), "number"),
        (ext.clone(), "external_id"),
    ] {
        let (s, r) = api.get(&format!("/v1/scan?code={}", enc(&code))).await;
        assert_eq!(s, 200, "{code}: {r}");
        let o = &r["orders"][0];
        assert_eq!(r["orders"].as_array().unwrap().len(), 1, "{r}");
        assert_eq!(
            (o["order_id"].as_i64(), o["matched_by"].as_str()),
            (Some(id), Some(how))
        );
        assert_eq!(o["state"], "allocated");
        assert_eq!(o["lines"][0]["sku"], "MUG-1");
        assert_eq!(o["lines"][0]["quantity"], 3);
        assert_eq!(o["city"], shopify["billing_address"]["city"]);
        assert_eq!(o["open_task"]["kind"], "pick");
        assert_eq!(o["open_task"]["status"], "open");
    }
    let (s, _) = ctx
        .other_merchant
        .get(&format!("/v1/scan?code={}", enc(number)))
        .await;
    assert_eq!(s, 404, "another merchant's order is not found");
    let (s, e) = api.get("/v1/scan?code=ZZ-404").await;
    assert_eq!((s, e["error"]["code"].as_str()), (404, Some("not_found")));
    assert_eq!(api.get("/v1/scan?code=%20").await.0, 400);

    // Through the warehouse to a label: the tracking number finds the order.
    let pick = task_of(api, id, "pick").await["id"].as_i64().unwrap();
    for (step, body) in [
        ("assign", json!({"assignee": "Ana"})),
        ("start", json!({})),
        ("complete", json!({})),
    ] {
        let (s, v) = api.post(&format!("/v1/tasks/{pick}/{step}"), body).await;
        assert_eq!(s, 200, "{step}: {v}");
    }
    let pack = task_of(api, id, "pack").await["id"].as_i64().unwrap();
    let parcel =
        json!({"parcel": {"weight_g": 900, "length_mm": 250, "width_mm": 200, "height_mm": 100}});
    for (step, body) in [
        ("assign", json!({"assignee": "Ana"})),
        ("start", json!({})),
        ("complete", parcel),
    ] {
        let (s, v) = api.post(&format!("/v1/tasks/{pack}/{step}"), body).await;
        assert_eq!(s, 200, "{step}: {v}");
    }
    let (s, v) = api
        .post(
            &format!("/v1/orders/{id}/transitions"),
            json!({"to": "labelled", "reason": "label printed", "carrier": "UPS", "tracking_number": "1ZWH0001"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, r) = api.get("/v1/scan?code=1ZWH0001").await;
    assert_eq!(s, 200, "{r}");
    let o = &r["orders"][0];
    assert_eq!(
        (o["order_id"].as_i64(), o["matched_by"].as_str()),
        (Some(id), Some("tracking_number"))
    );
    assert_eq!(
        (o["state"].as_str(), o["carrier"].as_str()),
        (Some("labelled"), Some("UPS"))
    );
    assert!(o["open_task"].is_null(), "no live task after packing: {o}");
    assert_eq!(o["tasks"].as_array().unwrap().len(), 2);
}

// The task boards: the open queue lists untaken tasks with their order numbers; "mine"
// lists one worker's live tasks only; "mine" without a name and an unknown queue are 400.
#[tokio::test]
async fn task_board_lists_the_open_queue_and_one_workers_tasks() {
    let ctx = setup(&[], 0).await;
    let api = &ctx.merchant;
    let (a, sa) = paid_order(&ctx, 61, "MUG-1", 1).await;
    let (b, sb) = paid_order(&ctx, 62, "MUG-1", 1).await;
    let pick_b = task_of(api, b, "pick").await["id"].as_i64().unwrap();
    let (s, _) = api
        .post(
            &format!("/v1/tasks/{pick_b}/assign"),
            json!({"assignee": "Ana"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, open) = api.get("/v1/task-board?queue=open").await;
    assert_eq!(s, 200, "{open}");
    let open = open.as_array().unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["task"]["order_id"].as_i64(), Some(a));
    assert_eq!(open[0]["order_number"], sa["name"]);
    assert_eq!(open[0]["city"], sa["billing_address"]["city"]);
    let (s, mine) = api.get("/v1/task-board?queue=mine&assignee=Ana").await;
    assert_eq!(s, 200, "{mine}");
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["order_number"], sb["name"]);
    assert_eq!(mine[0]["task"]["status"], "assigned");
    let (s, bob) = api.get("/v1/task-board?queue=mine&assignee=Bob").await;
    assert_eq!((s, bob), (200, json!([])));
    assert_eq!(api.get("/v1/task-board?queue=mine").await.0, 400);
    assert_eq!(api.get("/v1/task-board?queue=all").await.0, 400);
    let (s, theirs) = ctx.other_merchant.get("/v1/task-board?queue=open").await;
    assert_eq!((s, theirs), (200, json!([])), "another merchant sees none");
}

// The page and its assets are served without a token, each with a same-origin
// Content-Security-Policy, nosniff, no-referrer and no framing; the HTML has a phone
// viewport and loads its script from a file; the API the page uses is in the OpenAPI
// document.
#[tokio::test]
async fn the_page_is_served_with_its_security_headers() {
    let ctx = setup(&[], 0).await;
    let http = reqwest::Client::new();
    for (path, kind) in [
        ("/warehouse", "text/html"),
        ("/warehouse/app.js", "text/javascript"),
        ("/warehouse/app.css", "text/css"),
        ("/warehouse/icon.svg", "image/svg+xml"),
    ] {
        let r = http
            .get(format!("{}{path}", ctx.wharf.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        let header = |n: &str| {
            h.get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        assert!(header("content-type").starts_with(kind), "{path}");
        let csp = header("content-security-policy");
        assert!(
            csp.contains("default-src 'self'") && csp.contains("script-src 'self';"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "no-referrer");
        assert_eq!(header("x-frame-options"), "DENY");
        if path == "/warehouse" {
            let html = r.text().await.unwrap();
            assert!(html.contains(r#"<meta name="viewport" content="width=device-width"#));
            assert!(html.contains(r#"<script src="/warehouse/app.js" defer></script>"#));
        }
    }
    let (s, doc) = ctx.merchant.get("/v1/openapi.json").await;
    assert_eq!(s, 200);
    for p in ["/v1/scan", "/v1/warehouse/orders/{id}", "/v1/task-board"] {
        assert!(doc["paths"][p]["get"].is_object(), "{p} documented");
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
