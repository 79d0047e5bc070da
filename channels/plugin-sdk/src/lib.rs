//! `rappel-plugin`: the stable C ABI between rappel and run-time channel plugins, and the
//! safe side a Rust author uses.
//!
//! A plugin is a shared library (`cdylib`) that exports two functions,
//! `rappel_plugin_abi_version` and `rappel_plugin_vtable` (see [`abi`]); every other exchange
//! is JSON bytes: the plugin's options at `create`, a [`Message`] at `send` and an [`Outcome`]
//! back. A Rust author implements [`ChannelPlugin`] and writes [`export_channel!`]:
//!
//! ```
//! use rappel_plugin::{ChannelPlugin, Description, Failure, Message, Sent};
//!
//! #[derive(serde::Deserialize)]
//! struct Options { prefix: String }
//!
//! struct Shout { prefix: String }
//!
//! impl ChannelPlugin for Shout {
//!     type Options = Options;
//!     fn describe() -> Description {
//!         Description { name: "shout".into(), version: "0.1.0".into(), ..Description::default() }
//!     }
//!     fn create(options: Options) -> Result<Self, String> {
//!         Ok(Self { prefix: options.prefix })
//!     }
//!     fn send(&self, message: &Message) -> Result<Sent, Failure> {
//!         rappel_plugin::log::info(&format!("{}{}", self.prefix, message.body));
//!         Ok(Sent::default())
//!     }
//! }
//!
//! rappel_plugin::export_channel!(Shout);
//! ```
//!
//! Panics inside the trait's methods are caught by the SDK and reported to the host as
//! errors; build plugins with `panic = "unwind"` (the default).

#![warn(missing_docs)]

pub mod abi;
#[doc(hidden)]
pub mod export;
pub mod log;
mod wire;

pub use wire::{Description, Failure, FailureKind, Message, Outcome, Sent};

/// A channel plugin: the one thing a Rust author writes.
///
/// One instance is created per `[channels.NAME]` that names the library; rappel calls
/// [`send`](Self::send) from its blocking thread pool, possibly from several threads at once
/// when `max_in_flight` is above 1. Do blocking I/O freely; do not expect rappel's tokio
/// runtime (build your own if you need one).
pub trait ChannelPlugin: Sized + Send + Sync + 'static {
    /// The channel's `options` table, deserialized from JSON. Use
    /// `#[serde(deny_unknown_fields)]` so that typos are reported.
    type Options: serde::de::DeserializeOwned;

    /// The plugin's name, version and defaults.
    fn describe() -> Description;

    /// Checks the options and builds an instance. The error is shown to the operator at
    /// start-up, with the channel's name and the library's path.
    fn create(options: Self::Options) -> Result<Self, String>;

    /// Hands one message to the provider. Must not retry by itself: classify the failure and
    /// rappel retries transient ones.
    fn send(&self, message: &Message) -> Result<Sent, Failure>;
}

/// Exports `$plugin` (a type implementing [`ChannelPlugin`]) as a rappel channel plugin: the
/// ABI-version function and the function table. Use it once, in a `cdylib` crate.
#[macro_export]
macro_rules! export_channel {
    ($plugin:ty) => {
        /// The ABI version this plugin was built against.
        #[unsafe(no_mangle)]
        pub extern "C" fn rappel_plugin_abi_version() -> u32 {
            $crate::abi::ABI_VERSION
        }

        /// The plugin's function table.
        #[unsafe(no_mangle)]
        pub extern "C" fn rappel_plugin_vtable() -> *const $crate::abi::PluginVTable {
            static VTABLE: $crate::abi::PluginVTable = $crate::export::vtable::<$plugin>();
            &VTABLE
        }
    };
}
