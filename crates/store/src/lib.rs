//! The Store port of `twofold-core` over sqlx: SQLite and PostgreSQL.
