//! Concurrent validations: one right code sent twenty times at once is accepted once, and
//! twenty wrong codes at once lock the user after no more counted failures than the threshold.

use std::sync::Arc;

use twofold_core::Service;
use twofold_core::factor::FactorKind;
use twofold_core::service::{Method, Reason, Validation};

use crate::{Flow, code_at, wrong_code};

/// Sends each code in its own task, all at once, and collects the answers.
async fn all_at_once(service: &Arc<Service>, codes: Vec<String>) -> Vec<Validation> {
    let start = Arc::new(tokio::sync::Barrier::new(codes.len()));
    let mut tasks = tokio::task::JoinSet::new();
    for code in codes {
        let service = service.clone();
        let start = start.clone();
        tasks.spawn(async move {
            start.wait().await;
            crate::validate(&service, "alice", &code, None)
                .await
                .unwrap()
        });
    }
    tasks.join_all().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_right_code_sent_twenty_times_at_once_is_accepted_once() {
    let flow = Flow::new().await;
    flow.user("alice").await;
    let device = flow.totp_device("alice").await;
    flow.advance(30);
    let code = code_at(&device.totp, flow.now());
    let mark = flow.audit("alice").await.len();

    let answers = all_at_once(&flow.service, vec![code; 20]).await;

    let accepted = answers
        .iter()
        .filter(|a| **a == Validation::Accepted(Method::Factor(FactorKind::Totp)))
        .count();
    let refused = answers
        .iter()
        .filter(|a| **a == Validation::Rejected(Reason::InvalidCode))
        .count();
    assert_eq!((accepted, refused), (1, 19), "{answers:?}");
    // The losers were genuine codes: nothing counted.
    assert_eq!(flow.failures("alice").await, (0, None));
    let records = flow.audit_since("alice", mark).await;
    assert_eq!(records.len(), 20);
    let successes = records.iter().filter(|(e, _)| e == "2fa.success").count();
    assert_eq!(successes, 1);
    for (event, detail) in records.iter().filter(|(e, _)| e != "2fa.success") {
        assert_eq!(event, "2fa.failure");
        assert!(detail.contains("counted=false"), "{detail}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_wrong_codes_at_once_lock_after_the_threshold() {
    let flow = Flow::new().await;
    flow.set(&[("lockout.max_failures", "3")]).await;
    flow.user("alice").await;
    let device = flow.totp_device("alice").await;
    flow.advance(30);
    let wrong = wrong_code(&device.totp, flow.now());
    let mark = flow.audit("alice").await.len();

    let answers = all_at_once(&flow.service, vec![wrong; 20]).await;

    assert!(
        answers.iter().all(|a| matches!(a, Validation::Rejected(_))),
        "{answers:?}"
    );
    let (count, until) = flow.failures("alice").await;
    assert_eq!(until, Some(flow.now() + 900), "locked for lockout.seconds");
    assert_eq!(count, 0, "a lock starts the count over");
    let records = flow.audit_since("alice", mark).await;
    let counted = records
        .iter()
        .filter(|(e, d)| e == "2fa.failure" && d == "reason=invalid_code")
        .count();
    // A lock needs the threshold's counted failures, and nothing is counted past it.
    assert_eq!(counted, 3, "{records:?}");
    let lockouts = records.iter().filter(|(e, _)| e == "2fa.lockout").count();
    assert_eq!(lockouts, 1, "{records:?}");
    // Every other answer counted nothing.
    for (event, detail) in &records {
        assert!(
            event == "2fa.lockout"
                || detail == "reason=invalid_code"
                || detail == "reason=locked"
                || detail.contains("counted=false"),
            "{event} {detail}"
        );
    }
    // And the lock holds for a right code.
    assert_eq!(
        flow.check("alice", &code_at(&device.totp, flow.now()))
            .await,
        Validation::Rejected(Reason::Locked)
    );
}
