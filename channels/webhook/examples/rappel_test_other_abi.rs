//! A test plugin for rappel's end-to-end tests: a library built against another version of
//! the plugin ABI, which rappel must refuse before calling anything else.
// A hand-written export, as a plugin built by another SDK version would have.
#![allow(unsafe_code)]

/// The ABI version this library claims.
#[unsafe(no_mangle)]
pub extern "C" fn rappel_plugin_abi_version() -> u32 {
    rappel_plugin::abi::ABI_VERSION + 1
}

/// Never called by a correct host: the version check comes first.
#[unsafe(no_mangle)]
pub extern "C" fn rappel_plugin_vtable() -> *const u8 {
    std::process::abort()
}
