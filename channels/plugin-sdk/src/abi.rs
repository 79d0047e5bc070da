//! The C ABI itself: the two exported symbols, the function table and the buffer type. This
//! file is the contract between rappel and every plugin; changing it means bumping
//! [`ABI_VERSION`].

use std::ffi::c_void;

/// The version of this ABI. A host refuses a plugin that reports another one.
pub const ABI_VERSION: u32 = 1;

/// The exported function returning the plugin's ABI version:
/// `uint32_t rappel_plugin_abi_version(void)`.
pub const ABI_VERSION_SYMBOL: &str = "rappel_plugin_abi_version";

/// The exported function returning the plugin's function table:
/// `const RappelPluginVTable *rappel_plugin_vtable(void)`.
pub const VTABLE_SYMBOL: &str = "rappel_plugin_vtable";

/// The call succeeded; the output buffer holds the JSON answer.
pub const STATUS_OK: i32 = 0;
/// The call failed; the output buffer holds a UTF-8 message for the operator.
pub const STATUS_ERROR: i32 = 1;
/// The plugin panicked (or threw); the output buffer holds the panic message.
pub const STATUS_PANIC: i32 = 2;

/// Log levels passed to [`HostLogFn`].
pub mod level {
    /// The operator must act.
    pub const ERROR: u32 = 1;
    /// Something was skipped or retried.
    pub const WARN: u32 = 2;
    /// Normal operation.
    pub const INFO: u32 = 3;
    /// Details for debugging.
    pub const DEBUG: u32 = 4;
    /// Very verbose details.
    pub const TRACE: u32 = 5;
}

/// Bytes allocated by the plugin and handed to the host, which gives them back with
/// [`PluginVTable::free_buffer`]. `cap` is the plugin's own bookkeeping: the host must not
/// read or change it. An empty buffer may have a null `ptr`.
#[repr(C)]
#[derive(Debug)]
pub struct Buffer {
    /// The first byte.
    pub ptr: *mut u8,
    /// The number of bytes.
    pub len: usize,
    /// Private to the plugin.
    pub cap: usize,
}

impl Buffer {
    /// A buffer holding nothing.
    pub const fn empty() -> Self {
        Self {
            ptr: std::ptr::null_mut(),
            len: 0,
            cap: 0,
        }
    }
}

/// The host's log function: `level` is one of [`level`], `message` is UTF-8 of `len` bytes,
/// valid only during the call. May be called from any thread.
pub type HostLogFn = extern "C" fn(level: u32, message: *const u8, len: usize);

/// What the host gives the plugin at `create`. The pointer is valid only during the call: the
/// plugin copies what it keeps.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Host {
    /// The ABI version the host speaks.
    pub abi_version: u32,
    /// Where plugin logs go (the host's `tracing`). May be null.
    pub log: Option<HostLogFn>,
}

/// The plugin's function table. Every function may be called from any thread, and `send` from
/// several threads at once on the same instance. No function may let a panic or exception
/// escape.
#[repr(C)]
#[derive(Debug)]
pub struct PluginVTable {
    /// Must equal the value of `rappel_plugin_abi_version`.
    pub abi_version: u32,
    /// Writes the description JSON (see [`crate::Description`]) to `out`. Returns a status.
    pub describe: unsafe extern "C" fn(out: *mut Buffer) -> i32,
    /// Creates an instance from the options JSON (`options`, `options_len` bytes of UTF-8).
    /// On [`STATUS_OK`] writes the instance to `*instance`; otherwise writes the reason to
    /// `out`.
    pub create: unsafe extern "C" fn(
        host: *const Host,
        options: *const u8,
        options_len: usize,
        instance: *mut *mut c_void,
        out: *mut Buffer,
    ) -> i32,
    /// Sends one message (the message JSON, see [`crate::Message`]). On [`STATUS_OK`] `out`
    /// holds the outcome JSON (see [`crate::Outcome`]): a delivery or a classified failure.
    pub send:
        unsafe extern "C" fn(instance: *mut c_void, message: *const u8, message_len: usize, out: *mut Buffer) -> i32,
    /// Frees an instance. Called at most once per instance, after every `send` returned.
    pub destroy: unsafe extern "C" fn(instance: *mut c_void),
    /// Frees a buffer this plugin wrote.
    pub free_buffer: unsafe extern "C" fn(buffer: Buffer),
}
