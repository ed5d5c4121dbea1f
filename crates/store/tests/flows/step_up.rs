//! The portal's login and step-up without the web layer: the password step, the second
//! factor, a sensitive action allowed for `STEP_UP_TTL` seconds, and "Confirm it is you",
//! whose code goes through the same attempt rules as any validation.

use twofold_core::audit::{Actor, Context};
use twofold_core::identity::Role;
use twofold_core::service::{PasswordLogin, Reason, STEP_UP_TTL, SecondFactor};
use twofold_core::session::{Session, Stage};
use twofold_core::store::User;

use crate::{Flow, PASSWORD, code_at, pairs, typed, wrong_code};

/// Alice in her browser.
fn alice() -> Context {
    Context {
        actor: Actor::User {
            name: "alice".into(),
            role: Role::Client,
        },
        ip: Some("192.0.2.7".into()),
    }
}

async fn session(flow: &Flow, cookie: &str) -> (Session, User) {
    flow.service
        .session(cookie)
        .await
        .unwrap()
        .expect("a live session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_steps_up_and_a_sensitive_action_needs_a_recent_one() {
    let flow = Flow::new().await;
    flow.user("alice").await;
    let device = flow.totp_device("alice").await;
    flow.advance(30);

    // The password step leaves the login waiting for a code.
    let step = flow
        .service
        .login_password(
            &alice(),
            PasswordLogin {
                username: "alice",
                password: PASSWORD,
                next: None,
                device: None,
                user_agent: Some("Firefox"),
                previous: None,
                remember: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(step.stage, Stage::SecondFactor);
    let (pending, user) = session(&flow, &step.cookie).await;
    assert!(!flow.service.stepped_up(&pending));
    let wrong = wrong_code(&device.totp, flow.now());
    let refused = flow
        .service
        .login_second_factor(&alice(), &pending, &user, typed(&wrong), None, false)
        .await
        .unwrap();
    assert!(matches!(
        refused,
        SecondFactor::Refused(Reason::InvalidCode)
    ));
    assert_eq!(flow.failures("alice").await, (1, None));

    // The second factor completes it: a new session, stepped up, and the old one is gone.
    let code = code_at(&device.totp, flow.now());
    let SecondFactor::Done { cookie, .. } = flow
        .service
        .login_second_factor(&alice(), &pending, &user, typed(&code), None, false)
        .await
        .unwrap()
    else {
        panic!("the right code completes the login");
    };
    assert!(flow.service.session(&step.cookie).await.unwrap().is_none());
    assert_eq!(flow.failures("alice").await, (0, None));
    let (full, user) = session(&flow, &cookie).await;
    assert_eq!(full.stage, Stage::Full);
    assert_eq!(full.step_up_at, Some(flow.now()));
    let codes = flow
        .service
        .view_own_backup_codes(&alice(), &full, &user)
        .await
        .unwrap();
    assert_eq!(codes.len(), 10);

    // STEP_UP_TTL seconds later a sensitive action needs "Confirm it is you".
    flow.advance(STEP_UP_TTL);
    let (full, user) = session(&flow, &cookie).await;
    assert!(!flow.service.stepped_up(&full));
    let e = flow
        .service
        .view_own_backup_codes(&alice(), &full, &user)
        .await
        .unwrap_err();
    assert_eq!(e.code, "step_up_required");

    // A wrong password is refused before any code is looked at.
    let mark = flow.audit("alice").await.len();
    let right = code_at(&device.totp, flow.now());
    let e = flow
        .service
        .step_up(
            &alice(),
            &full,
            &user,
            "not the password",
            typed(&right),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_password");
    assert_eq!(flow.failures("alice").await, (0, None));
    assert_eq!(
        flow.audit_since("alice", mark).await,
        pairs(&[("login.failed", "step_up".into())])
    );

    // A wrong code counts towards the lockout like any validation.
    let wrong = wrong_code(&device.totp, flow.now());
    let e = flow
        .service
        .step_up(&alice(), &full, &user, PASSWORD, typed(&wrong), None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_code");
    assert_eq!(flow.failures("alice").await, (1, None));

    // The password and a current code step up, in the store as in the answer.
    let mark = flow.audit("alice").await.len();
    let stepped = flow
        .service
        .step_up(&alice(), &full, &user, PASSWORD, typed(&right), None)
        .await
        .unwrap();
    assert_eq!(stepped.step_up_at, Some(flow.now()));
    assert!(flow.service.stepped_up(&stepped));
    assert_eq!(flow.failures("alice").await, (0, None));
    assert_eq!(
        flow.audit_since("alice", mark).await,
        pairs(&[
            ("2fa.success", format!("method=totp factor={}", device.id)),
            ("login.password", "step_up".into()),
        ])
    );
    let (stored, user) = session(&flow, &cookie).await;
    assert_eq!(stored.step_up_at, Some(flow.now()));
    flow.service
        .view_own_backup_codes(&alice(), &stored, &user)
        .await
        .unwrap();

    // The same code cannot step up twice, and its replay counts nothing.
    let e = flow
        .service
        .step_up(&alice(), &stored, &user, PASSWORD, typed(&right), None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_code");
    assert_eq!(flow.failures("alice").await, (0, None));
}
