//! TOTP: enrolment and confirmation, a right code, its replay, the next step, the window and
//! the drift a factor learns.

use twofold_core::factor::FactorKind;
use twofold_core::service::{Method, Reason, Validation};

use crate::{Flow, code_at, code_of_step, pairs, step_at, wrong_code};

const TOTP: Validation = Validation::Accepted(Method::Factor(FactorKind::Totp));
const REFUSED: Validation = Validation::Rejected(Reason::InvalidCode);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_stores_the_confirming_step_and_the_backup_codes() {
    let flow = Flow::new().await;
    flow.user("alice").await;
    let before = flow.view("alice").await;
    assert!(!before.has_2fa);

    let device = flow.totp_device("alice").await;

    let view = flow.view("alice").await;
    assert!(view.has_2fa);
    assert_eq!(view.factors.len(), 1);
    assert!(view.factors[0].confirmed);
    assert_eq!(device.backup_codes.len(), 10);
    assert_eq!(view.backup_codes_remaining, 10);
    // The confirming code's step is consumed, with no drift (the app's clock is right).
    let data = flow.totp_data("alice", &device.id).await;
    assert_eq!(data.last_step, Some(step_at(&device.totp, flow.now())));
    assert_eq!(data.drift, 0);
    let events: Vec<(String, String)> = flow
        .audit_since("alice", 0)
        .await
        .into_iter()
        .filter(|(e, _)| e.starts_with("factor."))
        .collect();
    assert_eq!(
        events,
        pairs(&[
            ("factor.enrolled", format!("kind=totp factor={}", device.id)),
            (
                "factor.confirmed",
                format!("kind=totp factor={}", device.id)
            ),
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_works_once_and_its_replay_counts_nothing() {
    let flow = Flow::new().await;
    flow.user("alice").await;
    let device = flow.totp_device("alice").await;
    let confirming = code_at(&device.totp, flow.now());

    // The confirmation took this step: the same code again is a replay, refused uncounted.
    let mark = flow.audit("alice").await.len();
    assert_eq!(flow.check("alice", &confirming).await, REFUSED);
    assert_eq!(flow.failures("alice").await, (0, None));
    assert_eq!(
        flow.audit_since("alice", mark).await,
        pairs(&[("2fa.failure", "reason=already_used counted=false".into())])
    );

    // The next step is accepted, and stored as the last one.
    flow.advance(30);
    let code = code_at(&device.totp, flow.now());
    let mark = flow.audit("alice").await.len();
    assert_eq!(flow.check("alice", &code).await, TOTP);
    assert_eq!(
        flow.audit_since("alice", mark).await,
        pairs(&[("2fa.success", format!("method=totp factor={}", device.id))])
    );
    let data = flow.totp_data("alice", &device.id).await;
    assert_eq!(data.last_step, Some(step_at(&device.totp, flow.now())));
    let used_at = flow.view("alice").await.factors[0].last_used_at;
    assert_eq!(used_at, Some(flow.now()));

    // A wrong code counts once.
    let wrong = wrong_code(&device.totp, flow.now());
    assert_eq!(flow.check("alice", &wrong).await, REFUSED);
    assert_eq!(flow.failures("alice").await, (1, None));

    // The accepted code again, a few seconds later in the same step: refused, and the count
    // stays where the wrong code left it.
    flow.advance(5);
    let mark = flow.audit("alice").await.len();
    assert_eq!(flow.check("alice", &code).await, REFUSED);
    assert_eq!(flow.failures("alice").await, (1, None));
    assert_eq!(
        flow.audit_since("alice", mark).await,
        pairs(&[("2fa.failure", "reason=already_used counted=false".into())])
    );

    // Thirty seconds on, the next code is accepted and the count goes back to 0.
    flow.advance(30);
    assert_eq!(
        flow.check("alice", &code_at(&device.totp, flow.now()))
            .await,
        TOTP
    );
    assert_eq!(flow.failures("alice").await, (0, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_bounds_the_steps_and_the_learned_drift_moves_it() {
    let flow = Flow::new().await;
    flow.user("alice").await;
    let device = flow.totp_device("alice").await;
    flow.advance(30);
    let now = step_at(&device.totp, flow.now());

    // `totp.window` is 1 by default: two steps ahead is outside it, a counted miss.
    let mark = flow.audit("alice").await.len();
    let ahead = code_of_step(&device.totp, now + 2);
    assert_eq!(flow.check("alice", &ahead).await, REFUSED);
    assert_eq!(flow.failures("alice").await, (1, None));
    assert_eq!(
        flow.audit_since("alice", mark).await,
        pairs(&[("2fa.failure", "reason=invalid_code".into())])
    );
    assert_eq!(flow.totp_data("alice", &device.id).await.drift, 0);

    // One step ahead is inside: accepted, and the factor learns that its app runs a step ahead.
    let next = code_of_step(&device.totp, now + 1);
    assert_eq!(flow.check("alice", &next).await, TOTP);
    let data = flow.totp_data("alice", &device.id).await;
    assert_eq!((data.last_step, data.drift), (Some(now + 1), 1));
    assert_eq!(flow.failures("alice").await, (0, None));

    // A step later the app is two ahead of the server: outside the window around the current
    // step, inside the window around the learned drift.
    flow.advance(30);
    let now = step_at(&device.totp, flow.now());
    let two_ahead = code_of_step(&device.totp, now + 2);
    assert_eq!(flow.check("alice", &two_ahead).await, TOTP);
    let data = flow.totp_data("alice", &device.id).await;
    assert_eq!((data.last_step, data.drift), (Some(now + 2), 2));

    // Steps behind the last accepted one are replays now, even inside the window.
    let mark = flow.audit("alice").await.len();
    let current = code_of_step(&device.totp, now + 1);
    assert_eq!(flow.check("alice", &current).await, REFUSED);
    assert_eq!(flow.failures("alice").await, (0, None));
    assert_eq!(
        flow.audit_since("alice", mark).await,
        pairs(&[("2fa.failure", "reason=already_used counted=false".into())])
    );
}
