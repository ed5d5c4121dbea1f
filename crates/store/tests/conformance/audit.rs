//! The audit log.

use std::sync::Arc;

use twofold_core::audit::{AuditEvent, AuditFilter, NewAudit};
use twofold_core::store::Store;

use crate::support::NOW;

pub(crate) async fn audit_filters_newest_first(store: Arc<dyn Store>) {
    assert!(
        store
            .list_audit(&AuditFilter {
                limit: 10,
                ..AuditFilter::default()
            })
            .await
            .unwrap()
            .is_empty()
    );
    for i in 0..30 {
        let (subject, event) = match i % 3 {
            0 => (Some("alice".to_owned()), AuditEvent::SecondFactorSuccess),
            1 => (Some("Bob".to_owned()), AuditEvent::SecondFactorFailure),
            _ => (None, AuditEvent::SettingsChanged),
        };
        store
            .insert_audit(&NewAudit {
                at: NOW + i,
                actor: if i % 2 == 0 {
                    "cli".into()
                } else {
                    "token:app".into()
                },
                subject,
                event,
                ip: (i % 5 == 0).then(|| "192.0.2.7".to_owned()),
                detail: format!("n={i}"),
            })
            .await
            .unwrap();
    }
    let list = |subject: Option<&str>, event: Option<&str>, before_id, limit| {
        let store = store.clone();
        let filter = AuditFilter {
            subject: subject.map(str::to_owned),
            event: event.map(str::to_owned),
            before_id,
            limit,
        };
        async move { store.list_audit(&filter).await.unwrap() }
    };

    let all = list(None, None, None, 100).await;
    assert_eq!(all.len(), 30);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    let newest = &all[0];
    assert_eq!(newest.at, NOW + 29);
    assert_eq!(newest.actor, "token:app");
    assert_eq!(newest.subject, None);
    assert_eq!(newest.event, "settings.changed");
    assert_eq!(newest.ip, None);
    assert_eq!(newest.detail, "n=29");
    assert_eq!(all[29].ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(all[29].subject.as_deref(), Some("alice"));

    let page = list(None, None, None, 7).await;
    assert_eq!(page, all[..7]);
    let next = list(None, None, Some(page[6].id), 7).await;
    assert_eq!(next, all[7..14]);

    let alice = list(Some("alice"), None, None, 100).await;
    assert_eq!(alice.len(), 10);
    assert!(
        alice
            .iter()
            .all(|r| r.subject.as_deref() == Some("alice") && r.event == "2fa.success")
    );
    // Subjects are matched by username key.
    assert_eq!(list(Some("bob"), None, None, 100).await.len(), 10);
    assert_eq!(list(Some("carol"), None, None, 100).await.len(), 0);

    let settings = list(None, Some("settings.changed"), None, 3).await;
    assert_eq!(settings.len(), 3);
    assert_eq!(settings[0].detail, "n=29");
    assert_eq!(settings[2].detail, "n=23");
    let both = list(Some("alice"), Some("2fa.success"), Some(alice[2].id), 100).await;
    assert_eq!(both, alice[3..]);
    assert!(
        list(Some("alice"), Some("2fa.failure"), None, 100)
            .await
            .is_empty()
    );
}
