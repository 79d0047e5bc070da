//! The default queries, taken from `config/examples/postgres/schema.sql` when the crate is
//! compiled: the example schema and the queries that read it cannot drift apart.

/// The example schema, queries included.
pub const EXAMPLE_SCHEMA: &str = include_str!("../../../config/examples/postgres/schema.sql");

/// The text of the schema file between `-- BEGIN rappel default {key}` and its END line.
fn marked(key: &str) -> Option<&'static str> {
    let begin = format!("-- BEGIN rappel default {key}\n");
    let end = format!("-- END rappel default {key}\n");
    let start = EXAMPLE_SCHEMA.find(&begin)? + begin.len();
    let stop = start + EXAMPLE_SCHEMA[start..].find(&end)?;
    Some(EXAMPLE_SCHEMA[start..stop].trim())
}

/// The items query run when `query` is not set: one row per invoice and per manual debt of
/// the example schema, with `paid` the sum of its payments and without the clients'
/// details (they come from [`default_clients_query`]), in no order (the check sorts them).
pub fn default_query() -> &'static str {
    marked("query").expect("schema.sql marks its default query (checked by a test)")
}

/// The clients query run with the default items query: one row per client of the example
/// schema with its name, phone and email.
pub fn default_clients_query() -> &'static str {
    marked("clients_query").expect("schema.sql marks its default clients query (checked by a test)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_queries_are_the_schema_files() {
        let query = default_query();
        assert!(query.starts_with("SELECT i.client_id::text AS debtor_id,"), "{query}");
        assert!(query.ends_with("ON r.debt_id = d.id"), "{query}");
        assert!(!query.contains("ORDER BY"), "rappel sorts: {query}");
        assert!(!query.contains("--"), "{query}");
        assert!(!query.contains("name"), "the clients query gives the names: {query}");
        let clients = default_clients_query();
        assert_eq!(
            clients,
            "SELECT id::text AS debtor_id, name, phone, email\n  FROM clients"
        );
    }
}
