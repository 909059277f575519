//! The capabilities the host offers a rule, with in-memory stand-ins for native tests.

/// Log lines, attributed to the rule by the host.
pub mod log {
    pub use crate::bindings::peregrine::rules::log::Level;

    pub fn log(level: Level, message: &str) {
        #[cfg(target_arch = "wasm32")]
        crate::bindings::peregrine::rules::log::log(level, message);
        #[cfg(not(target_arch = "wasm32"))]
        eprintln!("[{level:?}] {message}");
    }

    pub fn debug(message: &str) {
        log(Level::Debug, message)
    }

    pub fn info(message: &str) {
        log(Level::Info, message)
    }

    pub fn warn(message: &str) {
        log(Level::Warn, message)
    }
}

/// A key-value store private to the rule; it outlives module reloads.
pub mod state {
    pub use crate::bindings::peregrine::rules::state::StateError;

    #[cfg(not(target_arch = "wasm32"))]
    thread_local! {
        static MEMORY: std::cell::RefCell<std::collections::HashMap<String, Vec<u8>>> =
            Default::default();
    }

    pub fn get(key: &str) -> Option<Vec<u8>> {
        #[cfg(target_arch = "wasm32")]
        return crate::bindings::peregrine::rules::state::get(key);
        #[cfg(not(target_arch = "wasm32"))]
        MEMORY.with(|m| m.borrow().get(key).cloned())
    }

    pub fn set(key: &str, value: &[u8]) -> Result<(), StateError> {
        #[cfg(target_arch = "wasm32")]
        return crate::bindings::peregrine::rules::state::set(key, value);
        #[cfg(not(target_arch = "wasm32"))]
        MEMORY.with(|m| {
            m.borrow_mut().insert(key.to_string(), value.to_vec());
            Ok(())
        })
    }

    pub fn delete(key: &str) {
        #[cfg(target_arch = "wasm32")]
        crate::bindings::peregrine::rules::state::delete(key);
        #[cfg(not(target_arch = "wasm32"))]
        MEMORY.with(|m| {
            m.borrow_mut().remove(key);
        })
    }

    /// Whether `key` is set.
    pub fn contains(key: &str) -> bool {
        get(key).is_some()
    }

    /// Forgets everything (native tests only: each test starts from an empty store).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn clear() {
        MEMORY.with(|m| m.borrow_mut().clear())
    }
}

/// The operator's settings for rules (`--rule-setting NAME=VALUE`), read only.
pub mod settings {
    #[cfg(not(target_arch = "wasm32"))]
    thread_local! {
        static MEMORY: std::cell::RefCell<std::collections::BTreeMap<String, String>> =
            Default::default();
    }

    /// The value of setting `name`, if the operator gave one.
    pub fn get(name: &str) -> Option<String> {
        #[cfg(target_arch = "wasm32")]
        return crate::bindings::peregrine::rules::settings::get(name);
        #[cfg(not(target_arch = "wasm32"))]
        MEMORY.with(|m| m.borrow().get(name).cloned())
    }

    /// Setting `name` parsed as a number, or `default` when it is not given or not a
    /// number (a bad value is logged once per call, so the operator sees it).
    pub fn number(name: &str, default: f64) -> f64 {
        match get(name) {
            None => default,
            Some(text) => text.trim().parse().unwrap_or_else(|_| {
                crate::log::warn(&format!(
                    "setting {name}={text:?} is not a number; using {default}"
                ));
                default
            }),
        }
    }

    /// Sets a setting (native tests only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn set(name: &str, value: &str) {
        MEMORY.with(|m| {
            m.borrow_mut().insert(name.to_string(), value.to_string());
        })
    }

    /// Forgets every setting (native tests only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn clear() {
        MEMORY.with(|m| m.borrow_mut().clear())
    }
}
