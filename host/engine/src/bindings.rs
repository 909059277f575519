//! Host-side bindings of the `peregrine:rules` world.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "rule",
});

pub use self::peregrine::rules::{audit, detection, log, settings, state};
