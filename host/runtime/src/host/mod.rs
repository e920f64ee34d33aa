//! Host implementations of the contract's own imports, one thin module per interface
//! (wasi:* imports are provided by wasmtime-wasi and wasmtime-wasi-http).

mod config;
mod log;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::{v0_1, v0_2};
use crate::state::State;

/// Add `wharf:connector/config` and `wharf:connector/log` of every supported contract
/// version to the linker (`config@0.1.0` and `config@0.2.0` are distinct imports; both
/// are backed by the same implementation).
pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    v0_1::wharf::connector::config::add_to_linker::<State, HasSelf<State>>(linker, |s| s)?;
    v0_1::wharf::connector::log::add_to_linker::<State, HasSelf<State>>(linker, |s| s)?;
    v0_2::wharf::connector::config::add_to_linker::<State, HasSelf<State>>(linker, |s| s)?;
    v0_2::wharf::connector::log::add_to_linker::<State, HasSelf<State>>(linker, |s| s)?;
    Ok(())
}
