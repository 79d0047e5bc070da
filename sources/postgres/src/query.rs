//! The default query, taken from `config/examples/postgres/schema.sql` when the crate is
//! compiled: the example schema and the query that reads it cannot drift apart.

/// The example schema, query included.
pub const EXAMPLE_SCHEMA: &str = include_str!("../../../config/examples/postgres/schema.sql");

const BEGIN: &str = "-- BEGIN rappel default query\n";
const END: &str = "-- END rappel default query";

/// The query run when `query` is not set: one row per invoice and per manual debt of the
/// example schema, with `paid` the sum of its payments, in no order (the check sorts them).
pub fn default_query() -> &'static str {
    let start = EXAMPLE_SCHEMA.find(BEGIN).map(|i| i + BEGIN.len());
    let end = EXAMPLE_SCHEMA.find(END);
    match (start, end) {
        (Some(start), Some(end)) if start < end => EXAMPLE_SCHEMA[start..end].trim(),
        _ => unreachable!("schema.sql marks its default query (checked by a test)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_query_is_the_schema_files() {
        let query = default_query();
        assert!(query.starts_with("SELECT c.id::text AS debtor_id,"), "{query}");
        assert!(query.ends_with("ON r.debt_id = d.id"), "{query}");
        assert!(!query.contains("ORDER BY"), "rappel sorts: {query}");
        assert!(!query.contains("--"), "{query}");
    }
}
