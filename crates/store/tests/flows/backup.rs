//! Backup codes: each works once, in any case and grouping; a replay is refused without
//! counting; input of no code's shape is an error that counts and records nothing.

use twofold_core::service::{Method, Reason, Validation};

use crate::{Flow, pairs, wrong_code};

const BACKUP: Validation = Validation::Accepted(Method::BackupCode);
const REFUSED: Validation = Validation::Rejected(Reason::InvalidCode);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_code_works_once() {
    let flow = Flow::new().await;
    flow.user("alice").await;
    let device = flow.totp_device("alice").await;
    let code = device.backup_codes[3].clone();
    assert_eq!(code.len(), 11, "shown as abcde-fghij: {code}");

    let mark = flow.audit("alice").await.len();
    assert_eq!(flow.check("alice", &code).await, BACKUP);
    assert_eq!(flow.view("alice").await.backup_codes_remaining, 9);
    assert_eq!(
        flow.audit_since("alice", mark).await,
        pairs(&[("2fa.success", "method=backup_code".into())])
    );
    let shown = flow.backup_codes("alice").await;
    let used: Vec<&str> = shown
        .iter()
        .filter(|(_, used)| *used)
        .map(|(c, _)| c.as_str())
        .collect();
    assert_eq!(used, [code.as_str()]);

    // A counted miss, then the used code again: refused, and the count stays.
    let wrong = wrong_code(&device.totp, flow.now());
    assert_eq!(flow.check("alice", &wrong).await, REFUSED);
    assert_eq!(flow.failures("alice").await, (1, None));
    let mark = flow.audit("alice").await.len();
    assert_eq!(flow.check("alice", &code).await, REFUSED);
    assert_eq!(flow.failures("alice").await, (1, None));
    assert_eq!(flow.view("alice").await.backup_codes_remaining, 9);
    assert_eq!(
        flow.audit_since("alice", mark).await,
        pairs(&[("2fa.failure", "reason=already_used counted=false".into())])
    );

    // Another one, typed in capitals with spaces, is accepted and clears the count.
    let typed = device.backup_codes[7].to_uppercase().replace('-', " ");
    assert_eq!(flow.check("alice", &typed).await, BACKUP);
    assert_eq!(flow.failures("alice").await, (0, None));
    assert_eq!(flow.view("alice").await.backup_codes_remaining, 8);

    // A code of the right shape that is no backup code of hers is a counted miss.
    let mark = flow.audit("alice").await.len();
    assert_eq!(flow.check("alice", "zzzzz-zzzzz").await, REFUSED);
    assert_eq!(flow.failures("alice").await, (1, None));
    assert_eq!(
        flow.audit_since("alice", mark).await,
        pairs(&[("2fa.failure", "reason=invalid_code".into())])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_code_is_an_error_that_counts_nothing() {
    let flow = Flow::new().await;
    flow.user("alice").await;
    let device = flow.totp_device("alice").await;
    let wrong = wrong_code(&device.totp, flow.now());
    assert_eq!(flow.check("alice", &wrong).await, REFUSED);
    assert_eq!(flow.failures("alice").await, (1, None));

    let mark = flow.audit("alice").await.len();
    for malformed in ["abc", "12345", "123456789", "abcde-fghi", "abcde-fghij!"] {
        let e = flow.validate("alice", malformed).await.unwrap_err();
        assert_eq!(e.code, "malformed_code", "{malformed}");
    }
    // A backup code where only TOTP was asked for does not fit either.
    let e = crate::validate(
        &flow.service,
        "alice",
        &device.backup_codes[0],
        Some("totp"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "malformed_code");
    assert_eq!(flow.failures("alice").await, (1, None));
    assert_eq!(flow.view("alice").await.backup_codes_remaining, 10);
    assert_eq!(flow.audit_since("alice", mark).await, []);
}
