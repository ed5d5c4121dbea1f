//! The SQL of [`AuditLog`](twofold_core::store::AuditLog).

/// Implements [`AuditLog`](twofold_core::store::AuditLog) for `$store`, a store type of the
/// invoking module (next to the `shared` module `impl_shared!` made there).
macro_rules! impl_audit {
    (store = $store:ident $(,)?) => {
        mod audit {
            use twofold_core::audit::{AuditFilter, AuditRecord, NewAudit};
            use twofold_core::store::StoreResult;
            use $crate::rows::{AuditRow, backend, limit};
            use $crate::sql;

            #[async_trait::async_trait]
            impl twofold_core::store::AuditLog for super::$store {
                async fn insert_audit(&self, record: &NewAudit) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    if let Some(hot) = self.hot() {
                        return hot.insert_audit(record);
                    }
                    sqlx::query(sql::INSERT_AUDIT)
                        .bind(record.at)
                        .bind(&record.actor)
                        .bind(&record.subject)
                        .bind(record.event.as_str())
                        .bind(&record.ip)
                        .bind(&record.detail)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
                    // Only the filters in use become conditions, so each shape of query can use
                    // its index (`$1 IS NULL OR …` would hide it from both planners).
                    let mut sql = String::from(
                        "SELECT id, at, actor, subject, event, ip, detail FROM audit WHERE 1 = 1",
                    );
                    let mut n = 0;
                    let mut next = || {
                        n += 1;
                        n
                    };
                    if filter.subject.is_some() {
                        sql.push_str(&format!(" AND lower(subject) = lower(${})", next()));
                    }
                    if filter.event.is_some() {
                        sql.push_str(&format!(" AND event = ${}", next()));
                    }
                    if filter.before_id.is_some() {
                        sql.push_str(&format!(" AND id < ${}", next()));
                    }
                    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", next()));
                    let mut q = sqlx::query_as::<_, AuditRow>(&sql);
                    if let Some(subject) = &filter.subject {
                        q = q.bind(subject);
                    }
                    if let Some(event) = &filter.event {
                        q = q.bind(event);
                    }
                    if let Some(before) = filter.before_id {
                        q = q.bind(before);
                    }
                    let rows = q
                        .bind(limit(filter.limit))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(rows.into_iter().map(AuditRecord::from).collect())
                }
            }
        }
    };
}
pub(crate) use impl_audit;
