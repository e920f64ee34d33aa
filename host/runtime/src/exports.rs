//! A marketplace plugin's `channel` exports, looked up one per call.
//!
//! The generated bindings' `instantiate` loads and type-checks every export of the world
//! on each new instance, where a call uses one of them: a profile of instantiate +
//! `describe` put a tenth of its time there. Here the instance is made from the plain
//! `InstancePre`, and only the export the call runs is looked up (by an index resolved
//! once, when the plugin is loaded) and type-checked. The methods keep the bindings'
//! names and argument types (`call_verify_webhook(store, &headers, &body)`), per contract
//! version, so the call sites read the same for both.

use std::marker::PhantomData;

use wasmtime::component::{
    Component, ComponentExportIndex, ComponentNamedList, Instance, InstancePre, Lift, Lower,
};
use wasmtime::Store;

use crate::state::State;

/// Contract 0.1.0's types.
pub(crate) enum V0_1 {}
/// Contract 0.2.0's types.
pub(crate) enum V0_2 {}

/// The `channel` interface's export indices in one component.
#[derive(Clone, Copy)]
struct ChannelIndices {
    describe: ComponentExportIndex,
    verify_webhook: ComponentExportIndex,
    pull_orders: ComponentExportIndex,
    get_order: ComponentExportIndex,
    confirm_shipment: ComponentExportIndex,
    push_inventory: ComponentExportIndex,
    fetch_settlements: ComponentExportIndex,
}

/// A marketplace plugin's `InstancePre` with its `channel` export indices.
pub(crate) struct ChannelPre<V> {
    pre: InstancePre<State>,
    indices: ChannelIndices,
    version: PhantomData<fn() -> V>,
}

impl<V> ChannelPre<V> {
    /// Resolve the exports of `interface` (e.g. `wharf:connector/channel@0.2.0`) in the
    /// component of `pre`; `Err` names the first one missing.
    pub(crate) fn new(pre: InstancePre<State>, interface: &str) -> wasmtime::Result<Self> {
        let component: &Component = pre.component();
        let iface = component
            .get_export_index(None, interface)
            .ok_or_else(|| wasmtime::format_err!("no export `{interface}`"))?;
        let export = |name: &str| {
            component
                .get_export_index(Some(&iface), name)
                .ok_or_else(|| wasmtime::format_err!("no export `{interface}#{name}`"))
        };
        let indices = ChannelIndices {
            describe: export("describe")?,
            verify_webhook: export("verify-webhook")?,
            pull_orders: export("pull-orders")?,
            get_order: export("get-order")?,
            confirm_shipment: export("confirm-shipment")?,
            push_inventory: export("push-inventory")?,
            fetch_settlements: export("fetch-settlements")?,
        };
        Ok(ChannelPre {
            pre,
            indices,
            version: PhantomData,
        })
    }

    /// A new instance in `store`.
    pub(crate) async fn new_instance(
        &self,
        store: &mut Store<State>,
    ) -> wasmtime::Result<Channel<V>> {
        let instance = self.pre.instantiate_async(store).await?;
        Ok(Channel {
            instance,
            indices: self.indices,
            version: PhantomData,
        })
    }
}

/// One instance's `channel` exports.
pub(crate) struct Channel<V> {
    instance: Instance,
    indices: ChannelIndices,
    version: PhantomData<fn() -> V>,
}

impl<V> Channel<V> {
    /// Look up the export at `index`, check it has the type `P -> R` (every `channel`
    /// function has one result), and call it.
    async fn call<P, R>(
        &self,
        store: &mut Store<State>,
        index: ComponentExportIndex,
        params: P,
    ) -> wasmtime::Result<R>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        (R,): ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let func = self.instance.get_func(&mut *store, index).ok_or_else(|| {
            wasmtime::format_err!("the instance lacks an export its component has")
        })?;
        let (result,) = func
            .typed::<P, (R,)>(&*store)?
            .call_async(&mut *store, params)
            .await?;
        Ok(result)
    }
}

/// The `channel` calls of one contract version, `$wit` its generated types.
macro_rules! channel_calls {
    ($version:ty, $wit:path) => {
        use $wit as wit;

        impl Channel<$version> {
            pub(crate) async fn call_describe(
                &self,
                store: &mut Store<State>,
            ) -> wasmtime::Result<wit::ConnectorInfo> {
                self.call(store, self.indices.describe, ()).await
            }

            pub(crate) async fn call_verify_webhook(
                &self,
                store: &mut Store<State>,
                headers: &[wit::Header],
                body: &[u8],
            ) -> wasmtime::Result<Result<wit::WebhookEvent, wit::ConnectorError>> {
                self.call(store, self.indices.verify_webhook, (headers, body))
                    .await
            }

            pub(crate) async fn call_pull_orders(
                &self,
                store: &mut Store<State>,
                cursor: Option<&str>,
            ) -> wasmtime::Result<Result<wit::Page, wit::ConnectorError>> {
                self.call(store, self.indices.pull_orders, (cursor,)).await
            }

            pub(crate) async fn call_get_order(
                &self,
                store: &mut Store<State>,
                external_id: &str,
            ) -> wasmtime::Result<Result<Option<wit::Order>, wit::ConnectorError>> {
                self.call(store, self.indices.get_order, (external_id,))
                    .await
            }

            pub(crate) async fn call_confirm_shipment(
                &self,
                store: &mut Store<State>,
                shipment: &wit::Shipment,
            ) -> wasmtime::Result<Result<(), wit::ConnectorError>> {
                self.call(store, self.indices.confirm_shipment, (shipment,))
                    .await
            }

            pub(crate) async fn call_push_inventory(
                &self,
                store: &mut Store<State>,
                levels: &[wit::StockLevel],
            ) -> wasmtime::Result<Result<Vec<wit::StockPushResult>, wit::ConnectorError>> {
                self.call(store, self.indices.push_inventory, (levels,))
                    .await
            }

            pub(crate) async fn call_fetch_settlements(
                &self,
                store: &mut Store<State>,
                period_start: i64,
                period_end: i64,
                cursor: Option<&str>,
            ) -> wasmtime::Result<Result<wit::SettlementPage, wit::ConnectorError>> {
                self.call(
                    store,
                    self.indices.fetch_settlements,
                    (period_start, period_end, cursor),
                )
                .await
            }
        }
    };
}

mod v0_1_calls {
    use super::*;
    channel_calls!(V0_1, crate::bindings::v0_1::wit);
}

mod v0_2_calls {
    use super::*;
    channel_calls!(V0_2, crate::bindings::v0_2::wit);
}
