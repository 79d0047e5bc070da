//! The `[source]` keys of `kind = "http"`, as plain data; their doc comments are the user
//! documentation.

use crate::address::ApiUrl;
use crate::fields::FieldPointers;
use rappel_core::config::Interval;
pub use rappel_core::config::{CurrencyCode, DefaultKind};
use rappel_core::secret::Secret;
use serde::Deserialize;
use std::time::Duration;

/// `[source]` with `kind = "http"`: debt items read from a JSON API, page by page, at every
/// check. Each page is a JSON document holding an array of items; each item is one invoice
/// or manual debt.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// The first page, e.g. `"https://erp.example.sn/api/debts?status=open"`. Required.
    /// Credentials do not belong in it: use `bearer_token` or `username` + `password`.
    pub url: ApiUrl,
    /// A token sent as `Authorization: Bearer …` with every request (optional). Keep it
    /// out of the file with `${VAR}`; it is never shown in messages or logs.
    #[serde(default)]
    pub bearer_token: Option<Secret>,
    /// The user for HTTP basic authentication (optional; needs `password`).
    #[serde(default)]
    pub username: Option<String>,
    /// The password for HTTP basic authentication (needs `username`).
    #[serde(default)]
    pub password: Option<Secret>,
    /// How long one request may take, answer included (default `"30s"`).
    #[serde(default = "default_timeout")]
    pub timeout: Interval,
    /// How many times a request is tried again after a 5xx or 429 answer or a failed
    /// connection (default `3`, at most 10), waiting 0.5 s, 1 s, 2 s… or what the server's
    /// `Retry-After` asks (up to 60 s).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Where the array of items is in each page, as a JSON pointer (default `"/items"`;
    /// `""` when the page itself is the array, `"/data/debts"` for a nested one).
    #[serde(default = "default_items_pointer")]
    pub items_pointer: Pointer,
    /// How to get the next page: `"none"` (the default: one page holds everything),
    /// `"next_link"` (each page gives the next page's URL, see `next_pointer`) or `"page"`
    /// (a page number in the query string, see `page_param`; the last page is the first
    /// with no items).
    #[serde(default)]
    pub pagination: Pagination,
    /// With `pagination = "next_link"`: where the next page's URL is in each page, as a
    /// JSON pointer (default `"/next"`). The URL may be relative to the page; `null`, `""`
    /// or no value means the last page. It must stay on the server of `url`.
    #[serde(default)]
    pub next_pointer: Option<Pointer>,
    /// With `pagination = "page"`: the query parameter of the page number (default `"page"`).
    #[serde(default)]
    pub page_param: Option<String>,
    /// With `pagination = "page"`: the number of the first page (default `1`).
    #[serde(default)]
    pub first_page: Option<u64>,
    /// A safety bound: reading fails when the API has more pages than this (default `10000`).
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    /// A safety bound: the largest page accepted, in bytes (default `33554432`, 32 MiB). The
    /// answer is read piece by piece and reading stops as soon as it passes the bound.
    #[serde(default = "default_max_page_bytes")]
    pub max_page_bytes: u64,
    /// A safety bound: the most items one page may hold (default `100000`). Reading fails
    /// on a page with more: the API is not paging as configured.
    #[serde(default = "default_max_page_items")]
    pub max_page_items: usize,
    /// The currency of the amounts (ISO 4217 code, default `"XOF"`), used when an item has
    /// no currency.
    #[serde(default)]
    pub currency: CurrencyCode,
    /// How due dates are written, in strftime notation (default `"%Y-%m-%d"`; e.g.
    /// `"%d/%m/%Y"`). ISO dates (`2025-11-20`) are always accepted.
    #[serde(default)]
    pub date_format: Option<String>,
    /// The kind of items that do not say (`"invoice"` or `"manual"`). Without it, every item
    /// must have a kind.
    #[serde(default)]
    pub default_kind: Option<DefaultKind>,
    /// `[source.fields]`: where each value is inside an item, as JSON pointers, when not
    /// at the standard place (`/debtor_id`, `/name`, …).
    #[serde(default)]
    pub fields: FieldPointers,
}

fn default_timeout() -> Interval {
    Interval(Duration::from_secs(30))
}

fn default_retries() -> u32 {
    3
}

fn default_items_pointer() -> Pointer {
    Pointer("/items".into())
}

fn default_max_pages() -> u32 {
    10_000
}

/// The default of `max_page_bytes`: 32 MiB.
pub const DEFAULT_MAX_PAGE_BYTES: u64 = 32 << 20;

/// The default of `max_page_items`.
pub const DEFAULT_MAX_PAGE_ITEMS: usize = 100_000;

fn default_max_page_bytes() -> u64 {
    DEFAULT_MAX_PAGE_BYTES
}

fn default_max_page_items() -> usize {
    DEFAULT_MAX_PAGE_ITEMS
}

/// How the API splits its list into pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pagination {
    /// One page holds every item.
    #[default]
    None,
    /// Each page gives the URL of the next one.
    NextLink,
    /// Pages are numbered in a query parameter.
    Page,
}

/// A JSON pointer (RFC 6901): `""` for the whole document, or `/a/0/b`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Pointer(pub String);

impl TryFrom<String> for Pointer {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        if text.is_empty() || text.starts_with('/') {
            Ok(Self(text))
        } else {
            Err(format!(
                "{text:?} is not a JSON pointer: write \"/{text}\" (a pointer starts with \"/\"; \"\" is the whole document)"
            ))
        }
    }
}

impl std::fmt::Display for Pointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iso_currency::Currency;
    use rappel_core::ItemKind;
    use rappel_core::config::{ComponentConfig, ConfigError};

    fn parse(body: &str) -> Result<HttpConfig, ConfigError> {
        let component = ComponentConfig {
            key: "source".into(),
            kind: "http".into(),
            options: body.parse().expect("test TOML parses"),
        };
        component.parse()
    }

    #[test]
    fn defaults() {
        let c = parse("url = \"https://erp.example.sn/api/debts\"").unwrap();
        assert_eq!(c.url.shown(), "https://erp.example.sn/api/debts");
        assert_eq!(c.bearer_token, None);
        assert_eq!((c.username, c.password), (None, None));
        assert_eq!(c.timeout.0, Duration::from_secs(30));
        assert_eq!(c.retries, 3);
        assert_eq!(c.items_pointer, Pointer("/items".into()));
        assert_eq!(c.pagination, Pagination::None);
        assert_eq!((c.next_pointer, c.page_param, c.first_page), (None, None, None));
        assert_eq!(c.max_pages, 10_000);
        assert_eq!(c.max_page_bytes, 32 * 1024 * 1024);
        assert_eq!(c.max_page_items, 100_000);
        assert_eq!(c.currency, CurrencyCode(Currency::XOF));
        assert_eq!((c.date_format, c.default_kind), (None, None));
        assert_eq!(c.fields, FieldPointers::default());
        assert_eq!(parse("").unwrap_err().to_string(), "source: missing field `url`");
    }

    #[test]
    fn every_key_parses_and_secrets_stay_hidden() {
        let c = parse(
            r#"
            url = "http://127.0.0.1:8080/debts?status=open"
            bearer_token = "t0k3n-s3cret"
            timeout = "5s"
            retries = 1
            items_pointer = ""
            pagination = "next_link"
            next_pointer = "/links/next"
            max_pages = 50
            currency = "eur"
            date_format = "%d/%m/%Y"
            default_kind = "manual"
            [fields]
            debtor_id = "/client/id"
            amount = "/montant"
            "#,
        )
        .unwrap();
        assert_eq!(c.bearer_token.as_ref().map(Secret::expose), Some("t0k3n-s3cret"));
        assert_eq!(c.timeout.0, Duration::from_secs(5));
        assert_eq!(c.items_pointer, Pointer(String::new()));
        assert_eq!(c.pagination, Pagination::NextLink);
        assert_eq!(c.next_pointer, Some(Pointer("/links/next".into())));
        assert_eq!(c.default_kind, Some(DefaultKind(ItemKind::Manual)));
        assert_eq!(c.fields.debtor_id, Some(Pointer("/client/id".into())));
        assert!(!format!("{c:?}").contains("s3cret"), "{c:?}");
        let c = parse("url = \"http://h/x\"\npagination = \"page\"\npage_param = \"p\"\nfirst_page = 0\nusername = \"u\"\npassword = \"pa55\"").unwrap();
        assert_eq!(
            (c.pagination, c.page_param.as_deref(), c.first_page),
            (Pagination::Page, Some("p"), Some(0))
        );
        assert!(!format!("{c:?}").contains("pa55"), "{c:?}");
    }

    #[test]
    fn errors_name_the_key_and_what_was_expected() {
        let err = |body: &str| parse(&format!("url = \"http://h/x\"\n{body}")).unwrap_err().to_string();
        assert!(
            err("token = \"x\"")
                .starts_with("source.token: unknown field `token`, expected one of `url`, `bearer_token`")
        );
        assert_eq!(
            err("pagination = \"cursor\""),
            "source.pagination: unknown variant `cursor`, expected one of `none`, `next_link`, `page`"
        );
        assert_eq!(
            err("items_pointer = \"data\""),
            r#"source.items_pointer: "data" is not a JSON pointer: write "/data" (a pointer starts with "/"; "" is the whole document)"#
        );
        assert_eq!(
            err("currency = \"FCFA\""),
            r#"source.currency: "FCFA" is not an ISO 4217 currency code such as "XOF""#
        );
        assert!(err("[fields]\nmontant = \"/m\"").starts_with("source.fields.montant: unknown field `montant`"));
        assert_eq!(
            parse("url = \"ftp://u:pa55@h/x\"").unwrap_err().to_string(),
            "source.url: \"ftp://h/x\" is not an http:// or https:// URL"
        );
    }
}
