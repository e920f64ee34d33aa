//! The HTTP API: one router per resource, merged here, plus the OpenAPI document generated
//! from the handlers' annotations (so it cannot drift from the code).

pub mod accounting;
pub mod after_sales;
pub mod auth;
pub mod consent;
pub mod costs;
pub mod fulfillment;
pub mod health;
pub mod hooks;
pub mod installations;
pub mod inventory;
pub mod jobs;
pub mod metrics;
pub mod notifications;
pub mod orders;
pub mod plugins;
pub mod reconciliation;
pub mod revenue;
pub mod scan;
pub mod settlements;
pub mod shipping;
pub mod sla;
pub mod task_board;
pub mod tasks;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{ApiError, AppState};

#[derive(OpenApi)]
#[openapi(
    info(title = "Wharf admin API", description = "Plugins, installations, orders, inventory, fulfillment (state machine, warehouse tasks, SLAs), shipping (carrier rules, waybills, labels, tracking), after-sales tickets, settlements and reconciliation, revenue, jobs and webhook ingress."),
    paths(
        health::health,
        hooks::receive,
        plugins::upload, plugins::list, plugins::show, plugins::capabilities,
        installations::create, installations::list, installations::show, installations::enable,
        installations::disable, installations::pull_now, installations::logs,
        consent::consent_again,
        orders::list, orders::show,
        jobs::list, jobs::show, jobs::redrive,
        inventory::create_sku, inventory::list_skus, inventory::show_sku, inventory::sku_events,
        inventory::set_stock, inventory::adjust_stock, inventory::import_stock,
        inventory::create_listing, inventory::list_listings, inventory::delete_listing,
        inventory::put_rule, inventory::list_rules, inventory::delete_rule,
        inventory::stock_settings, inventory::set_stock_settings, inventory::push_now,
        inventory::oversold, inventory::unmapped,
        fulfillment::show, fulfillment::transitions, fulfillment::transition, fulfillment::review,
        tasks::list, tasks::show, tasks::assign, tasks::start, tasks::complete, tasks::exception,
        scan::scan, scan::show, task_board::board,
        sla::list_rules, sla::put_rules, sla::escalations,
        notifications::show, notifications::put,
        settlements::import, settlements::run_import, settlements::show_rule, settlements::put_rule,
        reconciliation::report, reconciliation::variances_csv, reconciliation::variances_xlsx,
        reconciliation::summary_csv, reconciliation::summary_xlsx,
        reconciliation::show_settings, reconciliation::put_settings,
        revenue::revenue, costs::list, costs::put,
        accounting::show_settings, accounting::put_settings,
        accounting::create, accounting::list, accounting::show,
        metrics::metrics,
        shipping::show_rules, shipping::put_rules, shipping::show_settings, shipping::put_settings,
        shipping::waybill, shipping::cancel, shipping::label, shipping::shipments, shipping::ship,
        shipping::tracking,
        after_sales::list, after_sales::show, after_sales::assign, after_sales::start,
        after_sales::resolve, after_sales::reject, after_sales::note,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(hooks::router())
        .merge(plugins::router())
        .merge(installations::router())
        .merge(consent::router())
        .merge(orders::router())
        .merge(jobs::router())
        .merge(inventory::router())
        .merge(fulfillment::router())
        .merge(tasks::router())
        .merge(scan::router())
        .merge(task_board::router())
        .merge(crate::warehouse::router())
        .merge(sla::router())
        .merge(notifications::router())
        .merge(settlements::router())
        .merge(reconciliation::router())
        .merge(revenue::router())
        .merge(costs::router())
        .merge(accounting::router())
        .merge(metrics::router())
        .merge(shipping::router())
        .merge(after_sales::router())
        .route(
            "/v1/openapi.json",
            get(|| async { Json(ApiDoc::openapi()) }),
        )
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
