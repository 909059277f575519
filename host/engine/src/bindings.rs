//! Host-side bindings of the current `peregrine:rules` world (`wit/rules.wit`); the
//! previous world's differences are in [`super::previous`].

wasmtime::component::bindgen!({
    path: "../../wit/rules.wit",
    world: "rule",
});

pub use self::peregrine::rules::{audit, detection, log, runtime, settings, state};
