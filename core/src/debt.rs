//! Debt items as sources produce them, and debtors as the planner sees them.

use chrono::NaiveDate;
use iso_currency::Currency;
use rayon::prelude::*;
use serde::Serialize;
use std::hash::BuildHasher as _;

/// An invoice or a hand-recorded debt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// An invoice (`invoice`).
    Invoice,
    /// A manual debt (`manual`).
    Manual,
}

impl ItemKind {
    /// Reads `invoice` or `manual` (also `facture`, `manuelle`), case-insensitive.
    pub fn parse(text: &str) -> Option<Self> {
        // Every accepted word is ASCII, and nothing else lowercases to one: comparing without
        // case spares a lowercased copy of each row's kind.
        let text = text.trim();
        let is = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(text));
        if is(&["invoice", "facture"]) {
            Some(Self::Invoice)
        } else if is(&["manual", "manuelle", "manuel", "debt"]) {
            Some(Self::Manual)
        } else {
            None
        }
    }
}

/// One invoice or manual debt, as read from a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebtItem {
    /// The source's client identifier.
    pub debtor_id: String,
    /// The client's name as it should appear in the message.
    pub name: String,
    /// The phone number as written in the source (normalised later).
    pub phone: Option<String>,
    /// The email address, if any.
    pub email: Option<String>,
    /// Invoice or manual debt.
    pub kind: ItemKind,
    /// The invoice number or debt reference.
    pub reference: String,
    /// The due date.
    pub due_date: NaiveDate,
    /// The amount owed in minor units.
    pub amount_minor: i64,
    /// The amount already paid on this item, in minor units.
    pub paid_minor: i64,
    /// The item's currency.
    pub currency: Currency,
    /// Where the item came from (`debts.csv line 14`), for messages about it.
    pub origin: String,
}

impl DebtItem {
    /// What [`SortedGrouping`] leaves where it took an item: no text (nothing allocated),
    /// nothing owed.
    fn taken() -> Self {
        Self {
            debtor_id: String::new(),
            name: String::new(),
            phone: None,
            email: None,
            kind: ItemKind::Invoice,
            reference: String::new(),
            due_date: NaiveDate::MIN,
            amount_minor: 0,
            paid_minor: 0,
            currency: Currency::XOF,
            origin: String::new(),
        }
    }

    /// What is still owed on this item (never below zero).
    pub fn remaining_minor(&self) -> i64 {
        (self.amount_minor - self.paid_minor).max(0)
    }

    /// Whether the item counts as overdue on `today`: due date + grace before today and
    /// something left to pay.
    pub fn is_overdue(&self, today: NaiveDate, grace_days: u32) -> bool {
        let limit = self.due_date + chrono::Days::new(u64::from(grace_days));
        limit < today && self.remaining_minor() > 0
    }

    /// Whole days since the due date on `today` (0 when not yet due).
    pub fn days_overdue(&self, today: NaiveDate) -> i64 {
        (today - self.due_date).num_days().max(0)
    }

    /// An [`origin`](Self::origin) such as `debts.csv line 14`: `prefix` then `number`.
    /// Sources write one for every row; `format!` took about 1,000 instructions for it, this
    /// about a tenth.
    pub fn origin_at(prefix: &str, number: u64) -> String {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(number);
        let mut origin = String::with_capacity(prefix.len() + digits.len());
        origin.push_str(prefix);
        origin.push_str(digits);
        origin
    }
}

/// Debt items in the order they were read, held in chunks of a fixed size: growing never
/// copies what was already read (a doubling `Vec` holds a million items twice for a moment),
/// and consuming them (`into_iter`, as grouping does) frees each chunk once it has been left.
/// Each item's client is numbered as it arrives (grouping's first step), while the source is
/// still reading the next ones.
#[derive(Debug, Clone, Default)]
pub struct DebtItems {
    /// Every chunk but the last is full.
    chunks: Vec<Vec<DebtItem>>,
    clients: Clients,
}

/// The clients of [`DebtItems`], numbered from 0 in the order of their first item.
#[derive(Clone, Default)]
struct Clients {
    /// Client numbers, found by the hash of the client's id, kept beside each number: growing
    /// the table then moves numbers without reading every client's id again from its first
    /// item (three reads far apart in memory per client, which made growing cost more than
    /// all the lookups).
    table: hashbrown::HashTable<Numbered>,
    hasher: foldhash::fast::RandomState,
    /// Each client's first item.
    first: Vec<usize>,
    /// Each client's number of items.
    counts: Vec<usize>,
    /// Each client's last item.
    last: Vec<usize>,
    /// Each item's client (one entry per item: its length is the items').
    of_item: Vec<usize>,
}

/// A client's number, the hash of its id and, when it is short, the id itself.
#[derive(Clone, Copy)]
struct Numbered {
    hash: u64,
    client: usize,
    id: ShortId,
}

/// A client id of up to [`ShortId::MAX`] bytes, kept in the table beside its number: most
/// ids (`C000123`, a database key written as text) are then compared without reading the
/// client's first item, two reads far apart in memory (the item, then its id) for each of
/// a million items.
#[derive(Clone, Copy)]
struct ShortId {
    /// The id's length, or [`ShortId::LONG`] for an id too long to be kept.
    len: u8,
    bytes: [u8; ShortId::MAX],
}

impl ShortId {
    const MAX: usize = 15;
    const LONG: u8 = u8::MAX;

    fn new(id: &str) -> Self {
        let mut short = Self {
            len: Self::LONG,
            bytes: [0; Self::MAX],
        };
        if let Some(bytes) = short.bytes.get_mut(..id.len()) {
            bytes.copy_from_slice(id.as_bytes());
            short.len = id.len() as u8;
        }
        short
    }

    /// Whether `id` is this one; `None` when both are too long to be kept (the caller
    /// compares the whole ids).
    fn matches(&self, id: &str) -> Option<bool> {
        match self.bytes.get(..usize::from(self.len)) {
            Some(kept) => Some(kept == id.as_bytes()),
            None if id.len() <= Self::MAX => Some(false),
            None => None,
        }
    }
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients").field("count", &self.first.len()).finish()
    }
}

impl PartialEq for DebtItems {
    fn eq(&self, other: &Self) -> bool {
        // The numbering follows from the items.
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for DebtItems {}

impl DebtItems {
    /// Items per chunk.
    const CHUNK: usize = 4096;

    /// No items.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `item` after the others.
    pub fn push(&mut self, item: DebtItem) {
        let Self { chunks, clients } = self;
        let index = clients.of_item.len();
        let id_at = |index: usize| chunks[index / Self::CHUNK][index % Self::CHUNK].debtor_id.as_str();
        let id = item.debtor_id.as_str();
        let hash = clients.hasher.hash_one(id);
        let client = match clients.table.entry(
            hash,
            |known| {
                known.hash == hash
                    && known
                        .id
                        .matches(id)
                        .unwrap_or_else(|| id_at(clients.first[known.client]) == id)
            },
            |known| known.hash,
        ) {
            hashbrown::hash_table::Entry::Occupied(known) => {
                let client = known.get().client;
                clients.counts[client] += 1;
                clients.last[client] = index;
                client
            }
            hashbrown::hash_table::Entry::Vacant(new) => {
                let client = clients.first.len();
                new.insert(Numbered {
                    hash,
                    client,
                    id: ShortId::new(id),
                });
                clients.first.push(index);
                clients.counts.push(1);
                clients.last.push(index);
                client
            }
        };
        clients.of_item.push(client);
        match chunks.last_mut() {
            Some(chunk) if chunk.len() < Self::CHUNK => chunk.push(item),
            _ => {
                let mut chunk = Vec::with_capacity(Self::CHUNK);
                chunk.push(item);
                chunks.push(chunk);
            }
        }
    }

    /// How many items.
    pub fn len(&self) -> usize {
        self.clients.of_item.len()
    }

    /// Calls `visit` with each client's first item, the clients in the order of their first
    /// item: where a source that reads the clients' details apart gives them once per
    /// client. `visit` must not change the item's `debtor_id` (the clients are numbered by
    /// it); debug builds check.
    pub fn for_each_first_item(&mut self, mut visit: impl FnMut(&mut DebtItem)) {
        let mut firsts = self.clients.first.iter().copied().peekable();
        for (index, item) in self.chunks.iter_mut().flatten().enumerate() {
            if firsts.next_if_eq(&index).is_some() {
                #[cfg(debug_assertions)]
                let id = item.debtor_id.clone();
                visit(item);
                #[cfg(debug_assertions)]
                assert_eq!(item.debtor_id, id, "for_each_first_item changed a client's id");
            }
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items in order.
    pub fn iter(&self) -> impl Iterator<Item = &DebtItem> {
        self.chunks.iter().flatten()
    }

    /// The item at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&DebtItem> {
        self.chunks.get(index / Self::CHUNK)?.get(index % Self::CHUNK)
    }
}

impl std::ops::Index<usize> for DebtItems {
    type Output = DebtItem;

    fn index(&self, index: usize) -> &DebtItem {
        match self.get(index) {
            Some(item) => item,
            None => panic!("item {index} of {}", self.len()),
        }
    }
}

impl Extend<DebtItem> for DebtItems {
    fn extend<I: IntoIterator<Item = DebtItem>>(&mut self, items: I) {
        for item in items {
            self.push(item);
        }
    }
}

impl FromIterator<DebtItem> for DebtItems {
    fn from_iter<I: IntoIterator<Item = DebtItem>>(items: I) -> Self {
        let mut all = Self::new();
        all.extend(items);
        all
    }
}

impl From<Vec<DebtItem>> for DebtItems {
    fn from(items: Vec<DebtItem>) -> Self {
        items.into_iter().collect()
    }
}

impl IntoIterator for DebtItems {
    type Item = DebtItem;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<DebtItem>>>;

    /// The items in order; each chunk is freed as soon as its last item has been taken.
    fn into_iter(self) -> Self::IntoIter {
        self.chunks.into_iter().flatten()
    }
}

impl<'a> IntoIterator for &'a DebtItems {
    type Item = &'a DebtItem;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<DebtItem>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.iter().flatten()
    }
}

/// A client and all of their items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debtor {
    /// The source's client identifier.
    pub id: String,
    /// The name used in messages.
    pub name: String,
    /// The phone number as written in the source.
    pub phone: Option<String>,
    /// The email address.
    pub email: Option<String>,
    /// The currency of all the debtor's items.
    pub currency: Currency,
    /// Every item of the debtor, in source order.
    pub items: Vec<DebtItem>,
}

impl Debtor {
    /// The items overdue on `today`.
    pub fn overdue_items(&self, today: NaiveDate, grace_days: u32) -> impl Iterator<Item = &DebtItem> {
        self.items.iter().filter(move |i| i.is_overdue(today, grace_days))
    }

    /// The sum still owed on overdue items.
    pub fn overdue_minor(&self, today: NaiveDate, grace_days: u32) -> i64 {
        self.overdue_items(today, grace_days)
            .map(DebtItem::remaining_minor)
            .sum()
    }

    /// The sum still owed on all items, due or not.
    pub fn balance_minor(&self) -> i64 {
        self.items.iter().map(DebtItem::remaining_minor).sum()
    }
}

/// An item that could not join its debtor (e.g. a second currency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupingError {
    /// Where the item came from.
    pub origin: String,
    /// The debtor.
    pub debtor_id: String,
    /// Why it was left out.
    pub reason: String,
}

/// Groups items per debtor, in order of the debtor's first item. The first non-empty name,
/// phone and email win; they move from the items to their debtor (an item's are empty
/// afterwards). An item in another currency than the debtor's first item is refused: one
/// message cannot add up two currencies. The items' chunks are freed as they are grouped, so
/// the items are never held twice.
pub fn group_by_debtor(items: impl Into<DebtItems>) -> (Vec<Debtor>, Vec<GroupingError>) {
    let mut grouping = Grouping::new(items.into(), usize::MAX);
    grouping.next_clients().unwrap_or_default()
}

/// [`group_by_debtor`] a few clients at a time, in order: each call to
/// [`Grouping::next_clients`] reads items until the next clients have all of theirs. When a
/// client's items are near each other in the source, as in most exports, the first clients
/// are complete long before the last item is read, and a check can decide for them while the
/// next ones are grouped.
#[derive(Debug)]
pub struct Grouping {
    /// The items not read yet, with their clients.
    items: std::iter::Zip<std::iter::Flatten<std::vec::IntoIter<Vec<DebtItem>>>, std::vec::IntoIter<usize>>,
    /// Each client's number of items, to allocate its list once.
    counts: Vec<usize>,
    /// Clients handed out at a time.
    block: usize,
    /// For each block of clients, the last item of any client in it or in a block before.
    complete_after: Vec<usize>,
    /// The clients being grouped: numbers `handed..handed + open.len()`.
    open: std::collections::VecDeque<Debtor>,
    handed: usize,
    /// Items read.
    read: usize,
    errors: Vec<GroupingError>,
}

impl Grouping {
    /// Groups `items`, `block` clients at a time.
    pub fn new(items: DebtItems, block: usize) -> Self {
        let DebtItems { chunks, clients } = items;
        let Clients {
            counts, last, of_item, ..
        } = clients;
        let block = block.max(1);
        let mut complete_after: Vec<usize> = last
            .chunks(block)
            .map(|lasts| lasts.iter().copied().max().unwrap_or(0))
            .collect();
        for b in 1..complete_after.len() {
            complete_after[b] = complete_after[b].max(complete_after[b - 1]);
        }
        // Every client at once for a whole grouping: one allocation, at its size.
        let open = std::collections::VecDeque::with_capacity(block.min(counts.len()));
        Self {
            items: chunks.into_iter().flatten().zip(of_item),
            counts,
            block,
            complete_after,
            open,
            handed: 0,
            read: 0,
            errors: Vec::new(),
        }
    }

    /// How many clients there are.
    pub fn clients(&self) -> usize {
        self.counts.len()
    }

    /// The next clients, in order of their first item, each with all of its items, and the
    /// items refused since the last call (which include every refused item of these clients);
    /// `None` after the last clients.
    pub fn next_clients(&mut self) -> Option<(Vec<Debtor>, Vec<GroupingError>)> {
        if self.handed == self.counts.len() {
            return None;
        }
        let complete_after = *self.complete_after.get(self.handed / self.block)?;
        while self.read <= complete_after {
            let Some((item, client)) = self.items.next() else {
                break;
            };
            self.read += 1;
            self.add(item, client);
        }
        let n = self.block.min(self.counts.len() - self.handed);
        self.handed += n;
        let clients = if n == self.open.len() {
            Vec::from(std::mem::take(&mut self.open))
        } else {
            self.open.drain(..n).collect()
        };
        Some((clients, std::mem::take(&mut self.errors)))
    }

    fn add(&mut self, item: DebtItem, client: usize) {
        // A client is handed out only after its last item: the ones read are still open.
        match self.open.get_mut(client - self.handed) {
            Some(debtor) => debtor.join(item, &mut self.errors),
            // Clients are numbered in order of their first item: this is the next one.
            None => self.open.push_back(Debtor::from_first(item, self.counts[client])),
        }
    }
}

impl Debtor {
    /// A client from its first item, with room for `count` items.
    fn from_first(mut item: DebtItem, count: usize) -> Self {
        let mut debtor = Debtor {
            id: item.debtor_id.clone(),
            name: std::mem::take(&mut item.name),
            phone: item.phone.take(),
            email: item.email.take(),
            currency: item.currency,
            items: Vec::with_capacity(count),
        };
        debtor.items.push(item);
        debtor
    }

    /// Adds a later item of this client: its details fill the ones still empty (the first
    /// non-empty value wins); an item in another currency is refused into `errors`.
    fn join(&mut self, mut item: DebtItem, errors: &mut Vec<GroupingError>) {
        if item.currency != self.currency {
            errors.push(GroupingError {
                origin: std::mem::take(&mut item.origin),
                reason: format!(
                    "currency {} differs from the client's other items in {}",
                    item.currency.code(),
                    self.currency.code()
                ),
                debtor_id: item.debtor_id,
            });
            return;
        }
        fill(&mut self.phone, item.phone.take());
        fill(&mut self.email, item.email.take());
        if self.name.is_empty() {
            self.name = std::mem::take(&mut item.name);
        } else {
            item.name = String::new();
        }
        self.items.push(item);
    }
}

/// [`group_by_debtor`] then [`sort_by_client`], a few clients at a time: the clients are
/// sorted by id first (only their ids, on every core), then each call to
/// [`SortedGrouping::next_clients`] takes the next clients' items from wherever they are
/// among the items read and sorts them. A check decides for the first clients while the
/// next ones are grouped, instead of grouping a million items on one core first.
#[derive(Debug)]
pub struct SortedGrouping {
    /// The items read; an item taken by its client leaves [`DebtItem::taken`] in its place.
    chunks: Vec<Vec<DebtItem>>,
    /// The clients' numbers, sorted by id.
    order: std::vec::IntoIter<usize>,
    /// Client `c`'s items are `members[start[c]..start[c + 1]]`, in source order.
    start: Vec<usize>,
    members: Vec<usize>,
    block: usize,
}

impl SortedGrouping {
    /// Groups `items`, `block` clients at a time, in order of their ids.
    pub fn new(items: DebtItems, block: usize) -> Self {
        // Each id's first 8 bytes (big-endian, zero-padded) beside it: most comparisons are
        // settled without reading the ids, and in the same byte order.
        let mut keys: Vec<(u64, &str, usize)> = items
            .clients
            .first
            .iter()
            .enumerate()
            .map(|(client, &first)| {
                let id = items[first].debtor_id.as_str();
                let mut head = [0_u8; 8];
                let n = id.len().min(8);
                head[..n].copy_from_slice(&id.as_bytes()[..n]);
                (u64::from_be_bytes(head), id, client)
            })
            .collect();
        keys.par_sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let order: Vec<usize> = keys.into_iter().map(|(_, _, client)| client).collect();

        let DebtItems { chunks, clients } = items;
        let Clients { counts, of_item, .. } = clients;
        let mut start = Vec::with_capacity(counts.len() + 1);
        start.push(0);
        let mut total = 0;
        for count in &counts {
            total += count;
            start.push(total);
        }
        // Where each client's next item goes, from its start.
        let mut next = counts;
        let clients = next.len();
        next.copy_from_slice(&start[..clients]);
        let mut members = vec![0; of_item.len()];
        for (item, &client) in of_item.iter().enumerate() {
            members[next[client]] = item;
            next[client] += 1;
        }
        Self {
            chunks,
            order: order.into_iter(),
            start,
            members,
            block: block.max(1),
        }
    }

    /// How many clients there are.
    pub fn clients(&self) -> usize {
        self.start.len() - 1
    }

    /// The next clients by id, each with all of its items sorted by due date then reference
    /// (as [`sort_by_client`]), and the items of these clients that were refused; `None` after
    /// the last clients.
    pub fn next_clients(&mut self) -> Option<(Vec<Debtor>, Vec<GroupingError>)> {
        let Self {
            chunks,
            order,
            start,
            members,
            block,
            ..
        } = self;
        let mut errors = Vec::new();
        let debtors: Vec<Debtor> = order
            .by_ref()
            .take(*block)
            .map(|client| {
                let mut items = members[start[client]..start[client + 1]].iter().map(|&index| {
                    std::mem::replace(
                        &mut chunks[index / DebtItems::CHUNK][index % DebtItems::CHUNK],
                        DebtItem::taken(),
                    )
                });
                let first = items.next().expect("a client is numbered at its first item");
                let mut debtor = Debtor::from_first(first, start[client + 1] - start[client]);
                for item in items {
                    debtor.join(item, &mut errors);
                }
                sort_items(&mut debtor);
                debtor
            })
            .collect();
        (!debtors.is_empty()).then_some((debtors, errors))
    }
}

/// Sorts clients by id and each client's items by due date, then reference: the order of
/// `ORDER BY debtor_id, due_date, reference` (byte order, as PostgreSQL's "C" collation).
pub fn sort_by_client(debtors: &mut [Debtor]) {
    debtors.par_sort_unstable_by(|a, b| a.id.cmp(&b.id));
    debtors.par_iter_mut().for_each(sort_items);
}

/// Sorts a client's items by due date, then reference (items alike keep their order).
fn sort_items(debtor: &mut Debtor) {
    debtor
        .items
        .sort_by(|a, b| (a.due_date, &a.reference).cmp(&(b.due_date, &b.reference)));
}

fn fill(slot: &mut Option<String>, value: Option<String>) {
    if slot.as_deref().is_none_or(str::is_empty) && value.as_deref().is_some_and(|v| !v.is_empty()) {
        *slot = value;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn first_items_are_each_clients_first_in_the_order_of_the_clients() {
        let mut items = DebtItems::new();
        // Across chunks too: client "c" first appears in the second chunk.
        for n in 0..DebtItems::CHUNK + 2 {
            let debtor = match n {
                1 => "b",
                n if n == DebtItems::CHUNK + 1 => "c",
                _ => "a",
            };
            items.push(item(debtor, &format!("R{n}"), "2025-01-01", 100, 0));
        }
        items.for_each_first_item(|first| first.name = format!("first of {}", first.debtor_id));
        let named: Vec<(&str, &str)> = items
            .iter()
            .filter(|i| !i.name.starts_with("Client"))
            .map(|i| (i.reference.as_str(), i.name.as_str()))
            .collect();
        let last = format!("R{}", DebtItems::CHUNK + 1);
        assert_eq!(
            named,
            [
                ("R0", "first of a"),
                ("R1", "first of b"),
                (last.as_str(), "first of c")
            ]
        );
    }

    #[test]
    fn origins_name_the_place_and_the_number() {
        assert_eq!(DebtItem::origin_at("debts.csv line ", 14), "debts.csv line 14");
        assert_eq!(DebtItem::origin_at("query row ", 0), "query row 0");
        assert_eq!(DebtItem::origin_at("", u64::MAX), u64::MAX.to_string());
    }

    #[test]
    fn item_kinds_are_read_in_any_case_and_only_as_whole_words() {
        for text in ["invoice", " Facture ", "INVOICE", "fAcTuRe"] {
            assert_eq!(ItemKind::parse(text), Some(ItemKind::Invoice), "{text:?}");
        }
        for text in ["manual", "Manuelle", "MANUEL", " debt\t"] {
            assert_eq!(ItemKind::parse(text), Some(ItemKind::Manual), "{text:?}");
        }
        // Not a kind: empty, a prefix, a longer word, letters that only look alike.
        for text in [
            "",
            "invoic",
            "invoices",
            "avoir",
            "facturé",
            "\u{0130}nvoice",
            "manua\u{212A}",
        ] {
            assert_eq!(ItemKind::parse(text), None, "{text:?}");
        }
    }

    pub(crate) fn item(debtor: &str, reference: &str, due: &str, amount: i64, paid: i64) -> DebtItem {
        DebtItem {
            debtor_id: debtor.into(),
            name: format!("Client {debtor}"),
            phone: Some("771234567".into()),
            email: None,
            kind: ItemKind::Invoice,
            reference: reference.into(),
            due_date: due.parse().unwrap(),
            amount_minor: amount,
            paid_minor: paid,
            currency: Currency::XOF,
            origin: format!("test {reference}"),
        }
    }

    #[test]
    fn overdue_needs_due_date_plus_grace_before_today_and_a_balance() {
        let today: NaiveDate = "2025-11-21".parse().unwrap();
        assert!(item("1", "A", "2025-11-20", 100, 0).is_overdue(today, 0));
        assert!(!item("1", "A", "2025-11-21", 100, 0).is_overdue(today, 0));
        assert!(!item("1", "A", "2025-11-20", 100, 0).is_overdue(today, 1));
        assert!(!item("1", "A", "2025-11-20", 100, 100).is_overdue(today, 0));
        assert!(!item("1", "A", "2025-11-20", 100, 150).is_overdue(today, 0));
    }

    #[test]
    fn items_keep_their_order_across_chunks() {
        let n = DebtItems::CHUNK * 2 + 3;
        let all: DebtItems = (0..n)
            .map(|i| item(&(i % 7).to_string(), &i.to_string(), "2025-11-01", 1, 0))
            .collect();
        assert_eq!(all.len(), n);
        assert_eq!(all[DebtItems::CHUNK].reference, DebtItems::CHUNK.to_string());
        assert_eq!(all[n - 1].reference, (n - 1).to_string());
        assert!(all.get(n).is_none());
        let references = |items: Vec<&DebtItem>| {
            items
                .iter()
                .map(|i| i.reference.parse::<usize>().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(references(all.iter().collect()), (0..n).collect::<Vec<_>>());
        let (debtors, errors) = group_by_debtor(all);
        assert!(errors.is_empty());
        assert_eq!(debtors.len(), 7);
        let of_3 = references(debtors[3].items.iter().collect());
        assert_eq!(of_3, (0..n).filter(|i| i % 7 == 3).collect::<Vec<_>>());
    }

    #[test]
    fn thousands_of_interleaved_clients_group_as_a_plain_map_would() {
        // Enough clients that the table numbering them grows several times as items arrive.
        let ids: Vec<String> = (0..20_000_usize).map(|i| format!("c{}", (i * 7919) % 3001)).collect();
        let all: DebtItems = ids
            .iter()
            .enumerate()
            .map(|(i, id)| item(id, &i.to_string(), "2025-11-01", 1, 0))
            .collect();
        let mut expected: Vec<(&str, Vec<String>)> = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for (i, id) in ids.iter().enumerate() {
            let at = *seen.entry(id.as_str()).or_insert_with(|| {
                expected.push((id.as_str(), Vec::new()));
                expected.len() - 1
            });
            expected[at].1.push(i.to_string());
        }
        let (debtors, errors) = group_by_debtor(all);
        assert!(errors.is_empty());
        let got: Vec<(&str, Vec<String>)> = debtors
            .iter()
            .map(|d| (d.id.as_str(), d.items.iter().map(|i| i.reference.clone()).collect()))
            .collect();
        assert_eq!(got.len(), 3001);
        assert_eq!(got, expected);
    }

    #[test]
    fn ids_kept_in_the_table_and_ids_too_long_for_it_are_told_apart() {
        // Lengths from 1 to 39 bytes, around the 15 kept in the table; the long ones share
        // their first 15 bytes (zeros), so only their whole ids tell them apart.
        let id = |n: usize| format!("{n:0>width$}", width = n % 40);
        let ids: Vec<String> = (0..6_000_usize).map(|i| id((i * 7919) % 997)).collect();
        let all: DebtItems = ids
            .iter()
            .enumerate()
            .map(|(i, id)| item(id, &i.to_string(), "2025-11-01", 1, 0))
            .collect();
        let (debtors, errors) = group_by_debtor(all);
        assert!(errors.is_empty());
        assert_eq!(debtors.len(), 997);
        for debtor in &debtors {
            assert!(debtor.items.iter().all(|i| i.debtor_id == debtor.id), "{}", debtor.id);
            let expected = ids.iter().filter(|i| **i == debtor.id).count();
            assert_eq!(debtor.items.len(), expected, "{}", debtor.id);
        }
        assert!(debtors.iter().any(|d| d.id.len() == ShortId::MAX));
        assert!(debtors.iter().any(|d| d.id.len() == ShortId::MAX + 1));
    }

    /// Every client and refusal a grouping hands out `block` clients at a time, checking
    /// that each call gives a full block (the last one the rest of `clients`).
    fn in_blocks(
        block: usize,
        clients: usize,
        mut next: impl FnMut() -> Option<(Vec<Debtor>, Vec<GroupingError>)>,
    ) -> (Vec<Debtor>, Vec<GroupingError>) {
        let (mut debtors, mut errors) = (Vec::new(), Vec::new());
        while let Some((handed, refused)) = next() {
            assert_eq!(handed.len(), block.min(clients - debtors.len()), "block {block}");
            debtors.extend(handed);
            errors.extend(refused);
        }
        (debtors, errors)
    }

    #[test]
    fn grouping_a_few_clients_at_a_time_gives_the_same_clients_and_refusals() {
        // Clients 0-99 in turn, every item of client 7 after the first in another currency.
        let items = || -> DebtItems {
            (0..2_000_usize)
                .map(|i| {
                    let mut it = item(&(i % 100).to_string(), &i.to_string(), "2025-11-01", 1, 0);
                    if i % 100 == 7 && i > 7 {
                        it.currency = Currency::EUR;
                    }
                    it
                })
                .collect()
        };
        let (all, all_errors) = group_by_debtor(items());
        assert_eq!(all_errors.len(), 19);
        for block in [1, 3, 64, 100, 4096] {
            let mut grouping = Grouping::new(items(), block);
            assert_eq!(grouping.clients(), 100);
            let (debtors, errors) = in_blocks(block, 100, || grouping.next_clients());
            assert_eq!(debtors, all, "block {block}");
            assert_eq!(errors, all_errors, "block {block}");
        }
    }

    #[test]
    fn sorted_grouping_a_few_clients_at_a_time_gives_the_clients_sorted_whole() {
        // Ids that share their first 8 bytes and ids shorter than 8 bytes, items in no order
        // of due date or reference, details found on a later item, a second currency.
        let items = || -> DebtItems {
            (0..3_000_usize)
                .map(|i| {
                    let client = (i * 7919) % 211;
                    let id = match client % 3 {
                        0 => format!("client-0{client}"),
                        1 => format!("{client}"),
                        _ => format!("client-0{client:0>20}"),
                    };
                    let day = 1 + (i * 31) % 28;
                    let mut it = item(&id, &format!("R{}", (i * 13) % 50), &format!("2025-10-{day:02}"), 1, 0);
                    if i < 211 {
                        (it.name, it.phone) = (String::new(), None);
                    }
                    if client == 5 && i > 1_000 {
                        it.currency = Currency::EUR;
                    }
                    it
                })
                .collect()
        };
        let (mut all, mut all_errors) = group_by_debtor(items());
        sort_by_client(&mut all);
        assert!(!all_errors.is_empty());
        all_errors.sort_by(|a, b| a.origin.cmp(&b.origin));
        for block in [1, 3, 64, 211, 4096] {
            let mut grouping = SortedGrouping::new(items(), block);
            assert_eq!(grouping.clients(), 211);
            let (debtors, mut errors) = in_blocks(block, 211, || grouping.next_clients());
            assert_eq!(debtors, all, "block {block}");
            errors.sort_by(|a, b| a.origin.cmp(&b.origin));
            assert_eq!(errors, all_errors, "block {block}");
        }
    }

    #[test]
    fn a_client_is_handed_out_only_once_its_last_item_is_read() {
        // Client "a" has items at the start and at the very end: nothing can be handed out
        // before the last item, and then every client is complete.
        let items: DebtItems = [("a", "1"), ("b", "2"), ("c", "3"), ("a", "4")]
            .iter()
            .map(|(d, r)| item(d, r, "2025-11-01", 1, 0))
            .collect();
        let mut grouping = Grouping::new(items, 1);
        let (first, _) = grouping.next_clients().unwrap();
        assert_eq!(first[0].items.len(), 2);
        let rest: Vec<_> = std::iter::from_fn(|| grouping.next_clients()).collect();
        assert_eq!(rest.len(), 2);
        assert!(grouping.next_clients().is_none());
    }

    #[test]
    fn sorting_by_client_orders_ids_bytewise_then_items_by_due_date_and_reference() {
        let (mut debtors, _) = group_by_debtor(vec![
            item("2", "B", "2025-10-01", 1, 0),
            item("10", "Z", "2025-09-01", 1, 0),
            item("2", "A", "2025-10-01", 1, 0),
            item("1", "X", "2025-11-01", 1, 0),
            item("2", "C", "2025-09-15", 1, 0),
        ]);
        sort_by_client(&mut debtors);
        let order: Vec<(&str, Vec<&str>)> = debtors
            .iter()
            .map(|d| (d.id.as_str(), d.items.iter().map(|i| i.reference.as_str()).collect()))
            .collect();
        // As PostgreSQL's `ORDER BY debtor_id, due_date, reference` in the "C" collation.
        assert_eq!(order, [("1", vec!["X"]), ("10", vec!["Z"]), ("2", vec!["C", "A", "B"])]);
    }

    #[test]
    fn the_first_non_empty_contact_wins_and_items_keep_their_order() {
        let mut a = item("1", "A", "2025-11-20", 1, 0);
        (a.name, a.phone, a.email) = (String::new(), Some(String::new()), None);
        let mut b = item("1", "B", "2025-11-20", 2, 0);
        (b.name, b.phone, b.email) = ("Awa".into(), Some("77 111 11 11".into()), Some("a@x.sn".into()));
        let mut c = item("1", "C", "2025-11-20", 3, 0);
        (c.name, c.phone, c.email) = ("Awa Diop".into(), Some("77 222 22 22".into()), Some("b@x.sn".into()));
        let mut eur = item("1", "D", "2025-11-20", 4, 0);
        eur.currency = Currency::EUR;
        let mut eur2 = eur.clone();
        (eur2.reference, eur2.origin) = ("E".into(), "test E".into());
        let (debtors, errors) = group_by_debtor(vec![a, b, eur, c, eur2]);
        let d = &debtors[0];
        assert_eq!(
            (d.name.as_str(), d.phone.as_deref(), d.email.as_deref()),
            ("Awa", Some("77 111 11 11"), Some("a@x.sn"))
        );
        let refs: Vec<&str> = d.items.iter().map(|i| i.reference.as_str()).collect();
        assert_eq!(refs, ["A", "B", "C"]);
        let origins: Vec<&str> = errors.iter().map(|e| e.origin.as_str()).collect();
        assert_eq!(origins, ["test D", "test E"], "errors in the book's order");
    }

    #[test]
    fn groups_in_first_seen_order_and_refuses_a_second_currency() {
        let mut eur = item("1", "C", "2025-01-01", 5, 0);
        eur.currency = Currency::EUR;
        let (debtors, errors) = group_by_debtor(vec![
            item("2", "A", "2025-01-01", 5, 0),
            item("1", "B", "2025-01-01", 7, 2),
            item("2", "D", "2025-01-01", 1, 0),
            eur,
        ]);
        assert_eq!(debtors.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["2", "1"]);
        assert_eq!(debtors[0].items.len(), 2);
        assert_eq!(debtors[1].balance_minor(), 5);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].reason.contains("EUR"));
    }
}
