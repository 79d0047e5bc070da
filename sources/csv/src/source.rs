//! The live source: the checked settings, read again at every check on a blocking thread.

use crate::reader::{self, Settings};
use async_trait::async_trait;
use rappel_core::{Source, SourceBatch, SourceError};
use std::sync::Arc;

/// Debt items from a CSV file, built by [`crate::build`] from a [`crate::CsvConfig`].
#[derive(Debug, Clone)]
pub struct CsvSource {
    settings: Arc<Settings>,
}

impl CsvSource {
    pub(crate) fn new(settings: Settings) -> Self {
        Self {
            settings: Arc::new(settings),
        }
    }
}

#[async_trait]
impl Source for CsvSource {
    fn describe(&self) -> String {
        format!("csv {}", self.settings.path.display())
    }

    /// Ready when the file can be opened.
    async fn ping(&self) -> Result<(), SourceError> {
        let path = &self.settings.path;
        tokio::fs::File::open(path)
            .await
            .map(drop)
            .map_err(|e| SourceError::with(format!("cannot read {}", path.display()), e))
    }

    async fn load(&self) -> Result<SourceBatch, SourceError> {
        let settings = Arc::clone(&self.settings);
        tokio::task::spawn_blocking(move || reader::read(&settings))
            .await
            .map_err(|e| SourceError::with(format!("reading {} stopped", self.settings.path.display()), e))?
    }
}
