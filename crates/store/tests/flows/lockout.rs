//! Lockout: `lockout.max_failures` counted misses lock the second factor for `lockout.seconds`,
//! a right code is refused until the lock ends, and a lockout within a day of the last lasts
//! twice as long.

use twofold_core::factor::FactorKind;
use twofold_core::service::{Method, Reason, Validation};

use crate::{Device, Flow, code_at, pairs, wrong_code};

const TOTP: Validation = Validation::Accepted(Method::Factor(FactorKind::Totp));
const REFUSED: Validation = Validation::Rejected(Reason::InvalidCode);
const LOCKED: Validation = Validation::Rejected(Reason::Locked);

/// Three wrong codes: the first two counted, the third counted and locking. Returns the end of
/// the lock, checked against `seconds`.
async fn lock_out(flow: &Flow, device: &Device, seconds: i64) -> i64 {
    let mark = flow.audit("alice").await.len();
    let emails = flow.outbox.emails().len();
    for count in 1..=2 {
        let wrong = wrong_code(&device.totp, flow.now());
        assert_eq!(flow.check("alice", &wrong).await, REFUSED);
        let (counted, until) = flow.failures("alice").await;
        assert_eq!(counted, count);
        // Not locked (an earlier lock that ended may still be on the row).
        assert!(until.is_none_or(|t| t <= flow.now()), "{until:?}");
    }
    // The attempt that reaches the threshold is answered like any miss; the lock applies
    // from the next one, and the count starts over.
    let wrong = wrong_code(&device.totp, flow.now());
    assert_eq!(flow.check("alice", &wrong).await, REFUSED);
    let until = flow.now() + seconds;
    assert_eq!(flow.failures("alice").await, (0, Some(until)));
    assert!(flow.view("alice").await.locked);
    assert_eq!(
        flow.audit_since("alice", mark).await,
        pairs(&[
            ("2fa.failure", "reason=invalid_code".into()),
            ("2fa.failure", "reason=invalid_code".into()),
            ("2fa.failure", "reason=invalid_code".into()),
            ("2fa.lockout", format!("until={until}")),
        ])
    );
    // The user is told by email.
    let sent = flow.outbox.emails();
    assert_eq!(sent.len(), emails + 1);
    let notice = sent.last().unwrap();
    assert_eq!(notice.to, "alice@example.com");
    assert!(notice.subject.contains("locked"), "{}", notice.subject);
    until
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_lock_until_the_lock_ends_and_a_second_lock_lasts_twice_as_long() {
    let flow = Flow::new().await;
    flow.set(&[("lockout.max_failures", "3"), ("lockout.seconds", "900")])
        .await;
    flow.user("alice").await;
    let device = flow.totp_device("alice").await;
    flow.advance(30);

    let until = lock_out(&flow, &device, 900).await;

    // Locked: even a right code is refused, counting nothing and consuming nothing.
    let right = code_at(&device.totp, flow.now());
    let mark = flow.audit("alice").await.len();
    assert_eq!(flow.check("alice", &right).await, LOCKED);
    assert_eq!(flow.failures("alice").await, (0, Some(until)));
    assert_eq!(
        flow.audit_since("alice", mark).await,
        pairs(&[("2fa.failure", "reason=locked".into())])
    );

    // A second before the end it still is.
    flow.advance(until - 1 - flow.now());
    assert_eq!(
        flow.check("alice", &code_at(&device.totp, flow.now()))
            .await,
        LOCKED
    );

    // At its end a right code gets in.
    flow.advance(1);
    assert_eq!(
        flow.check("alice", &code_at(&device.totp, flow.now()))
            .await,
        TOTP
    );
    assert_eq!(flow.failures("alice").await, (0, Some(until)));
    assert!(!flow.view("alice").await.locked);

    // The next lockout within a day lasts twice as long.
    flow.advance(60);
    let second = lock_out(&flow, &device, 1800).await;
    flow.advance(second - flow.now());
    assert_eq!(
        flow.check("alice", &code_at(&device.totp, flow.now()))
            .await,
        TOTP
    );

    // A day after the last one, a lockout starts from `lockout.seconds` again.
    flow.advance(24 * 3600);
    lock_out(&flow, &device, 900).await;
    let lockouts: Vec<String> = flow
        .audit_since("alice", 0)
        .await
        .into_iter()
        .filter(|(e, _)| e == "2fa.lockout")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(lockouts.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_right_code_before_the_threshold_clears_the_count() {
    let flow = Flow::new().await;
    flow.set(&[("lockout.max_failures", "3")]).await;
    flow.user("alice").await;
    let device = flow.totp_device("alice").await;
    flow.advance(30);
    for count in 1..=2 {
        let wrong = wrong_code(&device.totp, flow.now());
        assert_eq!(flow.check("alice", &wrong).await, REFUSED);
        assert_eq!(flow.failures("alice").await, (count, None));
    }
    assert_eq!(
        flow.check("alice", &code_at(&device.totp, flow.now()))
            .await,
        TOTP
    );
    assert_eq!(flow.failures("alice").await, (0, None));
    // Two more misses do not reach the threshold: the earlier ones no longer count.
    for count in 1..=2 {
        let wrong = wrong_code(&device.totp, flow.now());
        assert_eq!(flow.check("alice", &wrong).await, REFUSED);
        assert_eq!(flow.failures("alice").await, (count, None));
    }
    assert!(
        !flow
            .audit_since("alice", 0)
            .await
            .iter()
            .any(|(e, _)| e == "2fa.lockout")
    );
}
