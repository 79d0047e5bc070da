//! The glue behind [`crate::export_channel!`]: the `extern "C"` entry points, generic over the
//! author's [`ChannelPlugin`]. Every entry point catches panics: a panic that crossed the
//! `extern "C"` boundary would abort the host.

use crate::abi::{ABI_VERSION, Buffer, Host, PluginVTable, STATUS_ERROR, STATUS_OK, STATUS_PANIC};
use crate::{ChannelPlugin, Message, Outcome};
use std::cell::RefCell;
use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    /// Where the last panic on this thread happened, noted by the hook for `guarded`.
    static PANIC_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Notes where panics happen, and keeps the default hook from printing them on the host's
/// stderr once the host takes plugin logs: the panic reaches the host as an error instead.
/// The hook is the plugin's own (a cdylib carries its own copy of std).
fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
            let _ = PANIC_AT.try_with(|p| p.replace(at));
            if !crate::log::installed() {
                previous(info);
            }
        }));
    });
}

/// The function table of plugin `P`.
pub const fn vtable<P: ChannelPlugin>() -> PluginVTable {
    PluginVTable {
        abi_version: ABI_VERSION,
        describe: describe::<P>,
        create: create::<P>,
        send: send::<P>,
        destroy: destroy::<P>,
        free_buffer,
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

fn into_buffer(bytes: Vec<u8>) -> Buffer {
    let mut bytes = ManuallyDrop::new(bytes);
    Buffer {
        ptr: bytes.as_mut_ptr(),
        len: bytes.len(),
        cap: bytes.capacity(),
    }
}

/// Runs `f`, catching panics, and writes its answer (or error, or panic message) to `out`.
fn guarded(out: *mut Buffer, f: impl FnOnce() -> Result<Vec<u8>, String>) -> i32 {
    let _ = PANIC_AT.try_with(|p| p.take());
    let (status, bytes) = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(bytes)) => (STATUS_OK, bytes),
        Ok(Err(message)) => (STATUS_ERROR, message.into_bytes()),
        Err(payload) => {
            let mut message = panic_message(&*payload);
            if let Some(at) = PANIC_AT.try_with(|p| p.take()).ok().flatten() {
                message = format!("{message} (at {at})");
            }
            // Dropping a payload can itself panic; never let that escape.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            (STATUS_PANIC, message.into_bytes())
        }
    };
    if !out.is_null() {
        // SAFETY: the host passes a pointer to a writable `Buffer` (checked non-null above).
        unsafe { out.write(into_buffer(bytes)) };
    }
    status
}

/// Borrows `len` bytes at `ptr` (empty when null).
///
/// # Safety
/// `ptr` must point to `len` readable bytes that outlive the call.
unsafe fn input<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// serde_json's message without " at line 1 column 17", which means nothing to a user.
pub(crate) fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

unsafe extern "C" fn describe<P: ChannelPlugin>(out: *mut Buffer) -> i32 {
    guarded(out, || serde_json::to_vec(&P::describe()).map_err(|e| e.to_string()))
}

unsafe extern "C" fn create<P: ChannelPlugin>(
    host: *const Host,
    options: *const u8,
    options_len: usize,
    instance: *mut *mut c_void,
    out: *mut Buffer,
) -> i32 {
    guarded(out, || {
        if !host.is_null() {
            // SAFETY: the host passes a valid `Host` for the duration of the call.
            crate::log::install(unsafe { (*host).log });
        }
        install_panic_hook();
        if instance.is_null() {
            return Err("the host passed no place for the instance".into());
        }
        // SAFETY: the host passes `options_len` readable bytes.
        let bytes = unsafe { input(options, options_len) };
        let bytes = if bytes.is_empty() { b"{}".as_slice() } else { bytes };
        let options: P::Options = serde_json::from_slice(bytes).map_err(|e| json_error(&e))?;
        let plugin = P::create(options)?;
        let raw = Box::into_raw(Box::new(plugin)).cast::<c_void>();
        // SAFETY: checked non-null above; the host passes a writable pointer.
        unsafe { instance.write(raw) };
        Ok(Vec::new())
    })
}

unsafe extern "C" fn send<P: ChannelPlugin>(
    instance: *mut c_void,
    message: *const u8,
    message_len: usize,
    out: *mut Buffer,
) -> i32 {
    guarded(out, || {
        if instance.is_null() {
            return Err("send called without an instance".into());
        }
        // SAFETY: `instance` came from `create::<P>` and is not destroyed while sends run.
        let plugin = unsafe { &*instance.cast::<P>() };
        // SAFETY: the host passes `message_len` readable bytes.
        let bytes = unsafe { input(message, message_len) };
        let message: Message =
            serde_json::from_slice(bytes).map_err(|e| format!("the host sent a bad message: {}", json_error(&e)))?;
        let outcome = match plugin.send(&message) {
            Ok(sent) => Outcome::Sent(sent),
            Err(failure) => Outcome::Failed(failure),
        };
        serde_json::to_vec(&outcome).map_err(|e| e.to_string())
    })
}

unsafe extern "C" fn destroy<P: ChannelPlugin>(instance: *mut c_void) {
    if instance.is_null() {
        return;
    }
    let dropped = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `instance` came from `create::<P>` and the host destroys it once.
        drop(unsafe { Box::from_raw(instance.cast::<P>()) });
    }));
    if let Err(payload) = dropped {
        crate::log::error(&format!(
            "panic while destroying the instance: {}",
            panic_message(&*payload)
        ));
        let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    }
}

unsafe extern "C" fn free_buffer(buffer: Buffer) {
    if buffer.ptr.is_null() {
        return;
    }
    // SAFETY: the buffer was made by `into_buffer` from a `Vec<u8>` with these parts, and the
    // host gives each buffer back once.
    drop(unsafe { Vec::from_raw_parts(buffer.ptr, buffer.len, buffer.cap) });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Description, Failure, Sent};

    #[derive(serde::Deserialize)]
    struct Options {
        greeting: String,
    }

    struct Echo {
        greeting: String,
    }

    impl ChannelPlugin for Echo {
        type Options = Options;
        fn describe() -> Description {
            Description {
                name: "echo".into(),
                version: "1".into(),
                medium: Some("email".into()),
                max_in_flight: Some(3),
            }
        }
        fn create(options: Options) -> Result<Self, String> {
            if options.greeting.is_empty() {
                return Err("greeting must not be empty".into());
            }
            Ok(Self {
                greeting: options.greeting,
            })
        }
        fn send(&self, message: &Message) -> Result<Sent, Failure> {
            match message.to.as_str() {
                "panic" => panic!("boom for {}", message.to),
                "busy" => Err(Failure::transient("busy")),
                _ => Ok(Sent {
                    provider_id: Some(format!("{} {}", self.greeting, message.to)),
                    ..Sent::default()
                }),
            }
        }
    }

    const TABLE: PluginVTable = vtable::<Echo>();

    /// Takes a buffer's bytes and frees it through the table, as a host does.
    fn take(buffer: Buffer) -> String {
        // SAFETY: the buffer was just written by the plugin.
        let text = String::from_utf8(unsafe { input(buffer.ptr, buffer.len) }.to_vec()).unwrap();
        // SAFETY: given back once.
        unsafe { (TABLE.free_buffer)(buffer) };
        text
    }

    fn create_with(options: &str) -> (i32, *mut c_void, String) {
        let host = Host {
            abi_version: ABI_VERSION,
            log: None,
        };
        let mut instance = std::ptr::null_mut();
        let mut out = Buffer::empty();
        // SAFETY: valid pointers for the call.
        let status = unsafe { (TABLE.create)(&host, options.as_ptr(), options.len(), &mut instance, &mut out) };
        (status, instance, take(out))
    }

    fn send_to(instance: *mut c_void, to: &str) -> (i32, String) {
        let message = serde_json::to_vec(&Message {
            channel: "hook".into(),
            at: "2025-12-01T10:00:00Z".into(),
            reminder_id: Some(1),
            debtor_id: None,
            to: to.into(),
            subject: None,
            body: "Bonjour".into(),
            html: None,
        })
        .unwrap();
        let mut out = Buffer::empty();
        // SAFETY: a live instance and valid pointers.
        let status = unsafe { (TABLE.send)(instance, message.as_ptr(), message.len(), &mut out) };
        (status, take(out))
    }

    #[test]
    fn the_table_describes_creates_sends_and_destroys() {
        let mut out = Buffer::empty();
        // SAFETY: valid out pointer.
        assert_eq!(unsafe { (TABLE.describe)(&mut out) }, STATUS_OK);
        let description: Description = serde_json::from_str(&take(out)).unwrap();
        assert_eq!(description.max_in_flight, Some(3));

        let (status, instance, _) = create_with(r#"{"greeting":"hi"}"#);
        assert_eq!(status, STATUS_OK);
        let (status, json) = send_to(instance, "+221771234567");
        assert_eq!(status, STATUS_OK);
        let outcome: Outcome = serde_json::from_str(&json).unwrap();
        assert_eq!(
            outcome,
            Outcome::Sent(Sent {
                provider_id: Some("hi +221771234567".into()),
                ..Sent::default()
            })
        );
        let (_, json) = send_to(instance, "busy");
        assert!(json.contains(r#""kind":"transient""#), "{json}");
        // SAFETY: created above, destroyed once.
        unsafe { (TABLE.destroy)(instance) };
    }

    #[test]
    fn a_panic_in_send_comes_back_as_a_status_with_its_message() {
        let (_, instance, _) = create_with(r#"{"greeting":"hi"}"#);
        let (status, message) = send_to(instance, "panic");
        assert_eq!(status, STATUS_PANIC);
        assert!(message.starts_with("boom for panic (at "), "{message}");
        assert!(message.contains("export.rs:"), "{message}");
        let (status, _) = send_to(instance, "+221771234567");
        assert_eq!(status, STATUS_OK, "the instance still works after a panic");
        // SAFETY: created above, destroyed once.
        unsafe { (TABLE.destroy)(instance) };
    }

    #[test]
    fn bad_options_are_an_error_naming_the_problem() {
        let (status, instance, message) = create_with(r#"{"greting":"hi"}"#);
        assert_eq!((status, message.as_str()), (STATUS_ERROR, "missing field `greeting`"));
        assert!(instance.is_null());
        let (status, _, message) = create_with(r#"{"greeting":""}"#);
        assert_eq!((status, message.as_str()), (STATUS_ERROR, "greeting must not be empty"));
    }
}
