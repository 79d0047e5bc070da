//! rappel source `http`: debt items from a JSON API, read page by page at every check.
//!
//! Each page is a JSON document holding an array of items (at `items_pointer`); pages
//! follow each other by next links or page numbers. Values are found in each item by JSON
//! pointers (`[source.fields]`). An item that cannot be read is reported as `page 2 item 5`
//! and the others are still used. Tokens and passwords never appear in messages, logs or
//! `Debug` output.
#![warn(missing_docs)]

mod address;
mod amount;
mod config;

mod fetch;
mod fields;
mod item;
mod source;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

pub use address::ApiUrl;
pub use config::{
    CurrencyCode, DEFAULT_MAX_PAGE_BYTES, DEFAULT_MAX_PAGE_ITEMS, DefaultKind, HttpConfig, Pagination, Pointer,
};
pub use fields::FieldPointers;
pub use source::HttpSource;

use fetch::{Auth, Fetcher};
use rappel_core::Source;
use rappel_core::config::ConfigError;
use rappel_core::registry::BuildContext;
use source::{Pages, Settings};
use std::time::Duration;

/// The `kind` of this source in `[source]`.
pub const KIND: &str = "http";

/// The most `retries` allowed.
const MAX_RETRIES: u32 = 10;

/// Builds the source from its `[source]` table (a [`rappel_core::registry::SourceFactory`]).
/// Errors name the key: `source.next_pointer: …`. The API is only called by `load`.
pub fn build(ctx: &BuildContext<'_>) -> Result<Box<dyn Source>, ConfigError> {
    build_with_backoff(ctx, Duration::from_millis(500))
}

/// [`build`] with the first wait before a retry (tests shorten it).
pub(crate) fn build_with_backoff(ctx: &BuildContext<'_>, backoff: Duration) -> Result<Box<dyn Source>, ConfigError> {
    let config: HttpConfig = ctx.component.parse()?;
    let auth = match (config.bearer_token, config.username, config.password) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(ctx.error(
                "bearer_token",
                "set either bearer_token or username and password, not both",
            ));
        }
        (Some(token), None, None) if token.is_empty() => {
            return Err(ctx.error("bearer_token", "is empty (is its ${VARIABLE} set?)"));
        }
        (Some(token), None, None) => Auth::Bearer(token),
        (None, Some(username), Some(password)) => Auth::Basic { username, password },
        (None, Some(_), None) => return Err(ctx.error("password", "is missing: username is set")),
        (None, None, Some(_)) => return Err(ctx.error("username", "is missing: password is set")),
        (None, None, None) => Auth::None,
    };
    if config.retries > MAX_RETRIES {
        return Err(ctx.error("retries", format!("is {}, at most {MAX_RETRIES}", config.retries)));
    }
    if config.max_pages == 0 {
        return Err(ctx.error("max_pages", "must be at least 1"));
    }
    if config.max_page_bytes == 0 {
        return Err(ctx.error("max_page_bytes", "must be at least 1"));
    }
    if config.max_page_items == 0 {
        return Err(ctx.error("max_page_items", "must be at least 1"));
    }
    let only_for = |key: &str, set: bool, (mode, written): (Pagination, &str)| {
        if set && config.pagination != mode {
            return Err(ctx.error(key, format!("is only used with pagination = \"{written}\"")));
        }
        Ok(())
    };
    let (next_link, page) = ((Pagination::NextLink, "next_link"), (Pagination::Page, "page"));
    only_for("next_pointer", config.next_pointer.is_some(), next_link)?;
    only_for("page_param", config.page_param.is_some(), page)?;
    only_for("first_page", config.first_page.is_some(), page)?;
    let pages = match config.pagination {
        Pagination::None => Pages::One,
        Pagination::NextLink => Pages::NextLink {
            pointer: config.next_pointer.unwrap_or_else(|| Pointer("/next".into())),
        },
        Pagination::Page => {
            let param = config.page_param.unwrap_or_else(|| "page".into());
            if param.trim().is_empty() {
                return Err(ctx.error("page_param", "is empty"));
            }
            Pages::Numbered {
                param,
                first: config.first_page.unwrap_or(1),
            }
        }
    };
    let dates = rappel_core::dates::DateFormat::new(config.date_format.as_deref().unwrap_or("%Y-%m-%d"))
        .map_err(|e| ctx.error("date_format", e))?;
    let timeout = config.timeout.0;
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("rappel/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ctx.error("", format!("cannot set up the HTTP client: {e}")))?;
    Ok(Box::new(HttpSource::new(Settings {
        url: config.url.0,
        fetcher: Fetcher {
            client,
            auth,
            timeout,
            retries: config.retries,
            backoff,
            max_page_bytes: config.max_page_bytes,
        },
        items_pointer: config.items_pointer,
        pages,
        max_pages: config.max_pages,
        max_page_items: config.max_page_items,
        fields: config.fields,
        dates,
        currency: config.currency.0,
        default_kind: config.default_kind.map(|k| k.0),
    })))
}
