//! Loading a plugin library and calling its C functions: the version check, the function
//! table, buffers handed back to the plugin, and the log callback. Libraries are never
//! unloaded: an instance or a log call may still point into them.

use rappel_plugin::abi::{self, Buffer, Host, PluginVTable};
use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

/// Why a library cannot be used as a channel plugin.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// No file at the path.
    #[error("{}: no such file (build the plugin, or fix the path)", path.display())]
    Missing {
        /// The path as resolved.
        path: PathBuf,
    },
    /// A file that is not a shared library, or one without the plugin symbols.
    #[error("{} is not a rappel channel plugin: {reason}", path.display())]
    NotAPlugin {
        /// The path.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// A plugin built for another ABI version.
    #[error(
        "{} was built for rappel plugin ABI version {found}, but this rappel speaks ABI version \
         {expected}: rebuild the plugin against rappel-plugin with ABI version {expected}",
        path.display()
    )]
    AbiMismatch {
        /// The path.
        path: PathBuf,
        /// What the plugin reports.
        found: u32,
        /// What this host speaks.
        expected: u32,
    },
}

/// Why a call into the plugin failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The plugin reported an error.
    #[error("{0}")]
    Error(String),
    /// The plugin panicked; its panic was caught inside the plugin.
    #[error("the plugin panicked: {0}")]
    Panic(String),
    /// A status this host does not know.
    #[error("the plugin returned status {status}: {message}")]
    Status {
        /// The status.
        status: i32,
        /// The buffer's text.
        message: String,
    },
}

/// A loaded plugin library.
#[derive(Debug)]
pub struct Library {
    path: PathBuf,
    vtable: &'static PluginVTable,
}

/// Loads `path`, checks its ABI version before anything else, and keeps it loaded for the life
/// of the process.
pub fn load(path: &Path) -> Result<Library, LoadError> {
    if !path.is_file() {
        return Err(LoadError::Missing { path: path.into() });
    }
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let not_a_plugin = |reason: String| LoadError::NotAPlugin {
        path: path.clone(),
        reason,
    };
    // SAFETY: loading runs the library's initialisers. The operator named this file as a
    // plugin in the config; that is the trust decision, as with any plugin system.
    let library = unsafe { libloading::Library::new(&path) }
        .map_err(|e| not_a_plugin(format!("it cannot be loaded as a shared library ({e})")))?;
    // Never unloaded: instances and log calls may point into it until the process ends.
    let library: &'static libloading::Library = Box::leak(Box::new(library));

    // SAFETY: the ABI defines this symbol as `uint32_t (void)`.
    let version = unsafe { library.get::<extern "C" fn() -> u32>(abi::ABI_VERSION_SYMBOL) }
        .map_err(|_| not_a_plugin(format!("it exports no `{}` function", abi::ABI_VERSION_SYMBOL)))?;
    let found = version();
    if found != abi::ABI_VERSION {
        return Err(LoadError::AbiMismatch {
            path,
            found,
            expected: abi::ABI_VERSION,
        });
    }
    // SAFETY: same ABI version, so this symbol is `const RappelPluginVTable *(void)`.
    let table = unsafe { library.get::<extern "C" fn() -> *const PluginVTable>(abi::VTABLE_SYMBOL) }
        .map_err(|_| not_a_plugin(format!("it exports no `{}` function", abi::VTABLE_SYMBOL)))?;
    let table = table();
    // SAFETY: a non-null table lives in the library's static data, which is never unloaded.
    let vtable: &'static PluginVTable =
        unsafe { table.as_ref() }.ok_or_else(|| not_a_plugin("its function table is null".into()))?;
    if vtable.abi_version != abi::ABI_VERSION {
        return Err(LoadError::AbiMismatch {
            path,
            found: vtable.abi_version,
            expected: abi::ABI_VERSION,
        });
    }
    Ok(Library { path, vtable })
}

impl Library {
    /// The library's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Copies a buffer the plugin wrote and gives it back to the plugin.
    fn take(&self, buffer: Buffer) -> String {
        let bytes = if buffer.ptr.is_null() || buffer.len == 0 {
            Vec::new()
        } else {
            // SAFETY: the plugin wrote `len` readable bytes at `ptr`; they live until freed.
            unsafe { std::slice::from_raw_parts(buffer.ptr, buffer.len) }.to_vec()
        };
        // SAFETY: the buffer came from this plugin and is given back once.
        unsafe { (self.vtable.free_buffer)(buffer) };
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn answer(&self, status: i32, buffer: Buffer) -> Result<String, CallError> {
        let text = self.take(buffer);
        match status {
            abi::STATUS_OK => Ok(text),
            abi::STATUS_ERROR => Err(CallError::Error(text)),
            abi::STATUS_PANIC => Err(CallError::Panic(text)),
            status => Err(CallError::Status { status, message: text }),
        }
    }

    /// The plugin's description JSON.
    pub fn describe(&self) -> Result<rappel_plugin::Description, CallError> {
        let mut out = Buffer::empty();
        // SAFETY: `out` is a valid, writable buffer for the call.
        let status = unsafe { (self.vtable.describe)(&mut out) };
        let text = self.answer(status, out)?;
        serde_json::from_str(&text).map_err(|e| CallError::Error(format!("unreadable description ({e}): {text}")))
    }

    /// Creates an instance from the options JSON.
    pub fn create(&self, options: &[u8]) -> Result<Instance, CallError> {
        let host = Host {
            abi_version: abi::ABI_VERSION,
            log: Some(host_log),
        };
        let mut instance: *mut c_void = std::ptr::null_mut();
        let mut out = Buffer::empty();
        // SAFETY: every pointer is valid for the call; `options` holds `options.len()` bytes.
        let status = unsafe { (self.vtable.create)(&host, options.as_ptr(), options.len(), &mut instance, &mut out) };
        self.answer(status, out)?;
        let ptr = NonNull::new(instance).ok_or_else(|| CallError::Error("the plugin created no instance".into()))?;
        Ok(Instance {
            library: Library {
                path: self.path.clone(),
                vtable: self.vtable,
            },
            ptr,
        })
    }
}

/// One plugin instance (one `[channels.NAME]`), destroyed when dropped.
#[derive(Debug)]
pub struct Instance {
    library: Library,
    ptr: NonNull<c_void>,
}

// SAFETY: the ABI requires every function to be callable from any thread and `send` from
// several threads at once on one instance (the SDK's trait is `Send + Sync`).
unsafe impl Send for Instance {}
// SAFETY: as above.
unsafe impl Sync for Instance {}

impl Instance {
    /// The library's path.
    pub fn path(&self) -> &Path {
        &self.library.path
    }

    /// Sends one message JSON; returns the outcome JSON. Blocking: call it from
    /// `spawn_blocking`.
    pub fn send(&self, message: &[u8]) -> Result<String, CallError> {
        let mut out = Buffer::empty();
        // SAFETY: a live instance of this library; `message` holds `message.len()` bytes.
        let status =
            unsafe { (self.library.vtable.send)(self.ptr.as_ptr(), message.as_ptr(), message.len(), &mut out) };
        self.library.answer(status, out)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: created by this library's `create`, destroyed once, and no send is running
        // (they hold a reference to the instance).
        unsafe { (self.library.vtable.destroy)(self.ptr.as_ptr()) };
    }
}

/// Where plugin logs arrive: the host's `tracing`, target `rappel::plugin`, inside the span
/// of the send that called the plugin.
extern "C" fn host_log(level: u32, message: *const u8, len: usize) {
    // A panic must not unwind into the plugin.
    let _ = std::panic::catch_unwind(|| {
        if message.is_null() {
            return;
        }
        // SAFETY: the plugin passes `len` readable bytes, valid during the call.
        let bytes = unsafe { std::slice::from_raw_parts(message, len) };
        let text = String::from_utf8_lossy(bytes);
        match level {
            abi::level::ERROR => tracing::error!(target: "rappel::plugin", "{text}"),
            abi::level::WARN => tracing::warn!(target: "rappel::plugin", "{text}"),
            abi::level::INFO => tracing::info!(target: "rappel::plugin", "{text}"),
            abi::level::DEBUG => tracing::debug!(target: "rappel::plugin", "{text}"),
            _ => tracing::trace!(target: "rappel::plugin", "{text}"),
        }
    });
}
