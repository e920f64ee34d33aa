//! Host implementations of the contract's own imports, one thin module per interface
//! (wasi:* imports are provided by wasmtime-wasi and wasmtime-wasi-http).

mod config;
mod log;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::wharf::connector;
use crate::state::State;

/// Add `wharf:connector/config` and `wharf:connector/log` to the linker.
pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    connector::config::add_to_linker::<State, HasSelf<State>>(linker, |s| s)?;
    connector::log::add_to_linker::<State, HasSelf<State>>(linker, |s| s)?;
    Ok(())
}
