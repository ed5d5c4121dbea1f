//! The audit log.

use async_trait::async_trait;

use crate::audit::{AuditFilter, AuditRecord, NewAudit};

use super::StoreResult;

/// The audit log.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends an audit record.
    async fn insert_audit(&self, record: &NewAudit) -> StoreResult<()>;
    /// Lists audit records, newest first.
    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>>;
}
