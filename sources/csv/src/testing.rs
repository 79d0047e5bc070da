//! Test helpers: a temporary folder with a config file next to the CSV files, as a user
//! would lay them out.

use rappel_core::config::Config;
use rappel_core::registry::BuildContext;
use rappel_core::{RejectedRow, Source, SourceBatch, SourceError};
use std::path::PathBuf;

pub(crate) fn no_env(_: &str) -> Option<String> {
    None
}

/// A folder holding `rappel.toml` (not written: only its folder matters) and CSV files.
pub(crate) struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.path(name), bytes).expect("the test file is written");
    }

    fn build(&self, source_body: &str) -> Result<Box<dyn Source>, String> {
        let text = format!("[channels.sms]\nkind = \"console\"\n[source]\nkind = \"csv\"\n{source_body}\n");
        let config = Config::parse(&text, &self.path("rappel.toml"), &no_env).expect("the config parses");
        let ctx = BuildContext {
            config: &config,
            component: &config.source,
            name: "source",
            stdout_is_data: false,
        };
        crate::build(&ctx).map_err(|e| e.to_string())
    }

    /// The error `build` gives for this `[source]` body.
    pub(crate) fn build_err(&self, source_body: &str) -> String {
        self.build(source_body).err().expect("the config is refused")
    }

    /// The source for `debts.csv` with more `[source]` keys.
    pub(crate) fn source(&self, more_keys: &str) -> Box<dyn Source> {
        self.build(&format!("path = \"debts.csv\"\n{more_keys}"))
            .expect("the source builds")
    }

    /// Loads `debts.csv` after writing `bytes` into it.
    pub(crate) fn load(&self, bytes: &[u8], more_keys: &str) -> Result<SourceBatch, SourceError> {
        self.write("debts.csv", bytes);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        runtime.block_on(self.source(more_keys).load())
    }

    /// Loads a file that must be readable.
    pub(crate) fn batch(&self, bytes: &[u8], more_keys: &str) -> SourceBatch {
        self.load(bytes, more_keys).expect("the file is read")
    }
}

/// An error and its causes, as the binary prints them (`{:#}`).
pub(crate) fn chain(error: &SourceError) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// The rejected rows as `origin: reason`, and the debtor each names.
pub(crate) fn rejections(batch: &SourceBatch) -> Vec<(String, Option<String>)> {
    batch
        .rejected
        .iter()
        .map(|r: &RejectedRow| (r.to_string(), r.debtor_id.clone()))
        .collect()
}
