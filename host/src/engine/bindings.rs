//! Host-side bindings of the `peregrine:rules` world.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "rule",
});

pub use peregrine::rules::{audit, detection, log, state};
