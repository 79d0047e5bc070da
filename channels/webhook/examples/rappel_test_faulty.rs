//! A test plugin for rappel's end-to-end tests: appends each message to a file, and panics
//! inside `send` for the recipients listed in `panic_for`. Not a channel to use.

use rappel_plugin::{ChannelPlugin, Description, Failure, Message, Sent};
use std::io::Write;
use std::sync::Mutex;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    path: String,
    #[serde(default)]
    panic_for: Vec<String>,
}

struct Faulty {
    options: Options,
    lock: Mutex<()>,
}

impl ChannelPlugin for Faulty {
    type Options = Options;

    fn describe() -> Description {
        Description {
            name: "faulty".into(),
            version: "0".into(),
            medium: Some("sms".into()),
            max_in_flight: None,
        }
    }

    fn create(options: Options) -> Result<Self, String> {
        Ok(Self {
            options,
            lock: Mutex::new(()),
        })
    }

    fn send(&self, message: &Message) -> Result<Sent, Failure> {
        if self.options.panic_for.contains(&message.to) {
            panic!("test plugin refuses {}", message.to);
        }
        rappel_plugin::log::info(&format!("faulty plugin writes reminder {:?}", message.reminder_id));
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.options.path)
            .map_err(|e| Failure::transient(e.to_string()))?;
        let line = serde_json::to_string(message).map_err(|e| Failure::permanent(e.to_string()))?;
        writeln!(file, "{line}").map_err(|e| Failure::transient(e.to_string()))?;
        Ok(Sent {
            provider_id: Some(format!("faulty-{}", message.reminder_id.unwrap_or_default())),
            ..Sent::default()
        })
    }
}

rappel_plugin::export_channel!(Faulty);
