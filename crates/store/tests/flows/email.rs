//! Email codes: the enrolment's code confirms the factor, a login code works once and only
//! while it lives, and sends are spaced.

use twofold_core::factor::FactorKind;
use twofold_core::service::{Method, Reason, SEND_GAP, Validation};

use crate::{Flow, code_in, pairs};

const EMAIL: Validation = Validation::Accepted(Method::Factor(FactorKind::Email));
const REFUSED: Validation = Validation::Rejected(Reason::InvalidCode);

/// The code of the last email sent, which must have gone to alice.
fn last_code(flow: &Flow) -> String {
    let sent = flow.outbox.emails();
    let message = sent.last().expect("an email");
    assert_eq!(message.to, "alice@example.com");
    code_in(&message.text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_code_confirms_the_factor_and_a_login_code_works_once() {
    let flow = Flow::new().await;
    flow.set(&[
        ("methods.email.active", "true"),
        ("methods.email.clients", "true"),
    ])
    .await;
    flow.user("alice").await;

    // Enrolling sends the verification code, which confirms the factor.
    let enrollment = flow.enroll("alice", FactorKind::Email).await.unwrap();
    let id = enrollment.factor.id.to_string();
    assert_eq!(
        enrollment.sent.expect("a code was sent").to,
        "a•••@example.com"
    );
    assert_eq!(flow.outbox.emails().len(), 1);
    let verification = last_code(&flow);
    assert_eq!(
        flow.validate("alice", &verification).await.unwrap(),
        Validation::Rejected(Reason::NotEnrolled),
        "a pending factor logs nobody in"
    );
    let confirmed = flow.confirm("alice", &id, &verification).await.unwrap();
    assert!(confirmed.factor.confirmed);
    assert_eq!(confirmed.backup_codes.map(|c| c.len()), Some(10));

    // Another code cannot be sent within SEND_GAP seconds of the last.
    let e = flow.send_email_code("alice").await.unwrap_err();
    assert_eq!(e.code, "throttled");
    assert_eq!(flow.outbox.emails().len(), 1);

    // A login code: accepted once.
    flow.advance(SEND_GAP);
    let mark = flow.audit("alice").await.len();
    flow.send_email_code("alice").await.unwrap();
    assert_eq!(flow.outbox.emails().len(), 2);
    let code = last_code(&flow);
    assert_eq!(flow.check("alice", &code).await, EMAIL);
    assert_eq!(flow.failures("alice").await, (0, None));
    assert_eq!(
        flow.audit_since("alice", mark).await,
        pairs(&[
            ("code.sent", format!("kind=email factor={id}")),
            ("2fa.success", format!("method=email factor={id}")),
        ])
    );
    // The same code again: it is gone, and matches nothing.
    assert_eq!(flow.check("alice", &code).await, REFUSED);
    assert_eq!(flow.failures("alice").await, (1, None));

    // A code past its lifetime (`codes.ttl_seconds`, 600 by default) is refused.
    flow.advance(SEND_GAP);
    flow.send_email_code("alice").await.unwrap();
    let late = last_code(&flow);
    flow.advance(600);
    assert_eq!(flow.check("alice", &late).await, REFUSED);
    assert_eq!(flow.failures("alice").await, (2, None));

    // A wrong try leaves a live code usable.
    flow.send_email_code("alice").await.unwrap();
    let code = last_code(&flow);
    let wrong = if code == "111111" { "222222" } else { "111111" };
    assert_eq!(flow.check("alice", wrong).await, REFUSED);
    assert_eq!(flow.check("alice", &code).await, EMAIL);
    assert_eq!(flow.failures("alice").await, (0, None));
}
