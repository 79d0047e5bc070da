//! The live source: the pages read one after the other (next links or page numbers), the
//! items of each turned into debt items, within the `max_pages` bound.

use crate::address;
use crate::config::{Pagination, Pointer};
use crate::fetch::Fetcher;
use crate::fields::FieldPointers;
use crate::item::{ItemParser, type_name};
use async_trait::async_trait;
use iso_currency::Currency;
use rappel_core::dates::DateFormat;
use rappel_core::{ItemKind, Source, SourceBatch, SourceError};
use reqwest::Url;
use serde_json::Value;
use std::collections::HashMap;

/// How the next page is found, with its settings.
#[derive(Debug)]
pub(crate) enum Pages {
    One,
    NextLink { pointer: Pointer },
    Numbered { param: String, first: u64 },
}

/// Everything needed to read the API, checked when the source was built.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) url: Url,
    pub(crate) fetcher: Fetcher,
    pub(crate) items_pointer: Pointer,
    pub(crate) pages: Pages,
    pub(crate) max_pages: u32,
    pub(crate) max_page_items: usize,
    pub(crate) fields: FieldPointers,
    pub(crate) dates: DateFormat,
    pub(crate) currency: Currency,
    pub(crate) default_kind: Option<ItemKind>,
}

impl Settings {
    /// The pagination mode, as written in the config.
    pub(crate) fn pagination(&self) -> Pagination {
        match self.pages {
            Pages::One => Pagination::None,
            Pages::NextLink { .. } => Pagination::NextLink,
            Pages::Numbered { .. } => Pagination::Page,
        }
    }
}

/// Debt items from a JSON API, built by [`crate::build`] from a [`crate::HttpConfig`].
#[derive(Debug)]
pub struct HttpSource {
    settings: Settings,
}

impl HttpSource {
    pub(crate) fn new(settings: Settings) -> Self {
        Self { settings }
    }

    /// The URL of numbered page `number` (`first_page`, `first_page + 1`, …).
    fn numbered(&self, param: &str, number: u64) -> Url {
        let mut url = self.settings.url.clone();
        let others: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(name, _)| name != param)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(others)
            .append_pair(param, &number.to_string());
        url
    }

    /// The next page's URL from a page's next link; `None` on the last page.
    fn next_link(&self, body: &Value, pointer: &Pointer, url: &Url, at: &str) -> Result<Option<Url>, SourceError> {
        let link = match body.pointer(&pointer.0) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(link)) if link.trim().is_empty() => return Ok(None),
            Some(Value::String(link)) => link.trim(),
            Some(other) => {
                return Err(SourceError::msg(format!(
                    "{at}: next_pointer {pointer} is {}, expected a URL or null",
                    type_name(other)
                )));
            }
        };
        let next = url
            .join(link)
            .map_err(|e| SourceError::with(format!("{at}: the next link {link:?} is not a URL"), e))?;
        if next.origin() != self.settings.url.origin() {
            return Err(SourceError::msg(format!(
                "{at}: the next link goes to another server ({}): refused, so that the credentials are not sent there",
                address::shown(&next)
            )));
        }
        Ok(Some(next))
    }
}

/// The items array of a page; the error says what was there instead.
fn items<'a>(body: &'a Value, pointer: &Pointer, at: &str) -> Result<&'a Vec<Value>, SourceError> {
    let found = match body.pointer(&pointer.0) {
        Some(Value::Array(items)) => return Ok(items),
        Some(other) => describe(other),
        None => format!("nothing there; the page is {}", describe(body)),
    };
    let wanted = if pointer.0.is_empty() {
        "the page to be an array of items (items_pointer = \"\")".to_string()
    } else {
        format!("an array of items at items_pointer {pointer}")
    };
    Err(SourceError::msg(format!("{at}: expected {wanted}, found {found}")))
}

/// `an object with keys data, next`, `a string`: a value, for messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Object(map) if map.is_empty() => "an empty object".into(),
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().take(10).map(String::as_str).collect();
            let more = if map.len() > 10 { ", …" } else { "" };
            format!("an object with keys {}{more}", keys.join(", "))
        }
        other => type_name(other).into(),
    }
}

#[async_trait]
impl Source for HttpSource {
    fn describe(&self) -> String {
        format!("http {}", address::shown(&self.settings.url))
    }

    async fn load(&self) -> Result<SourceBatch, SourceError> {
        let s = &self.settings;
        let parser = ItemParser {
            fields: &s.fields,
            dates: &s.dates,
            currency: s.currency,
            default_kind: s.default_kind,
        };
        let mut url = match &s.pages {
            Pages::Numbered { param, first } => self.numbered(param, *first),
            Pages::One | Pages::NextLink { .. } => s.url.clone(),
        };
        let mut seen: HashMap<Url, u32> = HashMap::new();
        let mut batch = SourceBatch::default();
        let mut page = 1_u32;
        loop {
            let at = format!("page {page} ({})", address::shown(&url));
            let body = s.fetcher.page(&url, page).await?;
            let list = items(&body, &s.items_pointer, &at)?;
            if list.len() > s.max_page_items {
                return Err(SourceError::msg(format!(
                    "{at}: the page has {} items, more than max_page_items = {}: is the API paging as \
                     configured (pagination)? raise max_page_items if its pages really are that large",
                    list.len(),
                    s.max_page_items
                )));
            }
            batch.add(
                list.iter()
                    .enumerate()
                    .map(|(index, item)| parser.parse(item, format!("page {page} item {}", index + 1))),
            );
            tracing::debug!(page, url = %address::shown(&url), items = list.len(), "read page");
            seen.insert(url.clone(), page);
            let next = match &s.pages {
                Pages::One => None,
                Pages::NextLink { pointer } => self.next_link(&body, pointer, &url, &at)?,
                Pages::Numbered { .. } if list.is_empty() => None,
                Pages::Numbered { param, first } => Some(self.numbered(param, first + u64::from(page))),
            };
            let Some(next) = next else { break };
            if let Some(earlier) = seen.get(&next) {
                return Err(SourceError::msg(format!(
                    "{at}: the next link leads back to page {earlier} ({}): the API's pages go round in a circle",
                    address::shown(&next)
                )));
            }
            if page >= s.max_pages {
                return Err(SourceError::msg(format!(
                    "{at}: stopped after max_pages = {} pages, and the API still has more ({}); \
                     raise max_pages if the API really has that many pages",
                    s.max_pages,
                    address::shown(&next)
                )));
            }
            url = next;
            page += 1;
        }
        tracing::debug!(
            url = %address::shown(&s.url),
            pagination = ?s.pagination(),
            pages = page,
            items = batch.items.len(),
            rejected = batch.rejected.len(),
            "read HTTP source"
        );
        Ok(batch)
    }
}
