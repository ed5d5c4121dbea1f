//! Every sealed value, page by page, and resealing by conditional `UPDATE`: a row that changed
//! since it was read keeps its new value.

use std::sync::Arc;

use twofold_core::crypto::Sealed;
use twofold_core::store::{NewRadiusClient, Reseal, SealedKind, SealedRow, Store, StoredValue};

use crate::support::{NOW, enrolled};

async fn all(store: &dyn Store, kind: SealedKind, page: u32) -> Vec<SealedRow> {
    let mut out: Vec<SealedRow> = Vec::new();
    loop {
        let after = out.last().map(|r| r.position.clone());
        let rows = store
            .sealed_page(kind, after.as_deref(), page)
            .await
            .unwrap();
        let n = rows.len();
        out.extend(rows);
        if n < page as usize {
            return out;
        }
    }
}

pub(crate) async fn sealed_values_page_and_reseal_conditionally(store: Arc<dyn Store>) {
    let a = enrolled(store.as_ref(), "seal-a", 1).await;
    let b = enrolled(store.as_ref(), "seal-b", 2).await;
    store
        .put_settings(&[
            (
                "methods.sms.twilio.auth_token".into(),
                StoredValue::Sealed(Sealed(vec![9; 41])),
            ),
            ("codes.ttl_seconds".into(), StoredValue::Plain("300".into())),
        ])
        .await
        .unwrap();
    store
        .insert_radius_client(&NewRadiusClient {
            name: "vpn".into(),
            network: "10.0.0.0/24".into(),
            secret: Sealed(vec![5; 48]),
            allow_missing_message_authenticator: false,
            created_at: NOW,
        })
        .await
        .unwrap();

    // Pages of any size give every row once, in order, with what its context needs.
    let factors = all(store.as_ref(), SealedKind::FactorSecret, 1).await;
    assert_eq!(factors.len(), 2);
    assert_eq!(factors[0].user_id, Some(a.id));
    assert_eq!(factors[1].user_id, Some(b.id));
    assert_eq!(factors[0].sealed, Sealed(vec![1, 2, 3, 1]));
    let codes = all(store.as_ref(), SealedKind::BackupCode, 3).await;
    assert_eq!(codes.len(), 20);
    assert_eq!(
        all(store.as_ref(), SealedKind::BackupCode, 100).await,
        codes
    );
    assert!(
        codes
            .iter()
            .all(|c| c.lookup.is_some() && c.user_id.is_some())
    );
    let settings = all(store.as_ref(), SealedKind::Setting, 10).await;
    assert_eq!(settings.len(), 1, "plain settings are not sealed values");
    assert_eq!(settings[0].key, "methods.sms.twilio.auth_token");
    assert_eq!(
        all(store.as_ref(), SealedKind::RadiusClient, 10)
            .await
            .len(),
        1
    );
    assert!(
        all(store.as_ref(), SealedKind::WsapiClient, 10)
            .await
            .is_empty()
    );

    // Resealing: the rows still as read change; one changed meanwhile does not.
    let reseal = |row: &SealedRow, v: u8| Reseal {
        old: row.clone(),
        sealed: Sealed(vec![v; 44]),
        lookup: row.lookup.as_ref().map(|l| format!("{l}-new")),
    };
    let mut stale = factors[1].clone();
    stale.sealed = Sealed(vec![0; 4]);
    let changed = store
        .reseal(
            SealedKind::FactorSecret,
            &[reseal(&factors[0], 7), reseal(&stale, 7)],
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let now = all(store.as_ref(), SealedKind::FactorSecret, 10).await;
    assert_eq!(now[0].sealed, Sealed(vec![7; 44]));
    assert_eq!(now[1].sealed, factors[1].sealed);

    let changed = store
        .reseal(
            SealedKind::BackupCode,
            &[reseal(&codes[0], 8), reseal(&codes[1], 8)],
        )
        .await
        .unwrap();
    assert_eq!(changed, 2);
    let after = all(store.as_ref(), SealedKind::BackupCode, 100).await;
    assert_eq!(
        after[0].lookup.as_deref(),
        Some(&*format!("{}-new", codes[0].lookup.as_ref().unwrap()))
    );
    assert_eq!(after[0].sealed, Sealed(vec![8; 44]));
    assert_eq!(after[2], codes[2]);
    // Read again by its new lookup: the code is found where a validation looks.
    let lookups: Vec<String> = store
        .backup_codes(a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.lookup)
        .collect();
    assert!(lookups.contains(after[0].lookup.as_ref().unwrap()));

    for kind in [SealedKind::Setting, SealedKind::RadiusClient] {
        let rows = all(store.as_ref(), kind, 10).await;
        assert_eq!(store.reseal(kind, &[reseal(&rows[0], 6)]).await.unwrap(), 1);
        // Twice: the second finds the row changed and leaves it.
        assert_eq!(store.reseal(kind, &[reseal(&rows[0], 5)]).await.unwrap(), 0);
        assert_eq!(
            all(store.as_ref(), kind, 10).await[0].sealed,
            Sealed(vec![6; 44])
        );
    }
    assert_eq!(store.reseal(SealedKind::WsapiClient, &[]).await.unwrap(), 0);
}
