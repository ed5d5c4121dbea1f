//! Sign-ins made for applications behind forward authentication: how far the password takes
//! them, and what a sign-in that went back a step (`resume_sign_in`) may and may not do.

use twofold_core::access::{Access, AccessRules, Redirects, RuleSpec, Target};
use twofold_core::audit::Context;
use twofold_core::service::{ForwardAnswer, PasswordLogin, Resume, STEP_UP_TTL, SecondFactor};
use twofold_core::session::Stage;

use crate::{Flow, PASSWORD, code_at};

const APP: &str = "https://app.example.com/";
const DOCS: &str = "https://app.example.com/docs";

async fn flow() -> Flow {
    let rule = |paths: &[&str], policy: &str| RuleSpec {
        domain: "*.example.com".into(),
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        roles: Vec::new(),
        policy: policy.into(),
    };
    let rules =
        AccessRules::new(&[rule(&["/docs"], "one_factor"), rule(&[], "two_factor")]).unwrap();
    let redirects = Redirects::new("https://auth.example.com", Some("example.com")).unwrap();
    Flow::with_access(Access { rules, redirects }).await
}

async fn sign_in(flow: &Flow, name: &str, next: &str) -> (String, Stage) {
    let step = flow
        .service
        .login_password(
            &Context::cli(),
            PasswordLogin {
                username: name,
                password: PASSWORD,
                next: Some(next),
                device: None,
                user_agent: None,
                previous: None,
                remember: None,
            },
        )
        .await
        .unwrap();
    (step.cookie, step.stage)
}

async fn answer(flow: &Flow, cookie: &str, url: &str) -> ForwardAnswer {
    flow.service
        .forward_auth(Some(cookie), &Target::from_url(url).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_that_went_back_a_step_is_not_a_fresh_step_up() {
    let flow = flow().await;
    flow.user("nell").await;
    // No factor: the password signs her in fully (the docs need no more).
    let (cookie, stage) = sign_in(&flow, "nell", DOCS).await;
    assert_eq!(stage, Stage::Full);
    assert!(matches!(
        answer(&flow, &cookie, DOCS).await,
        ForwardAnswer::Allow(Some(_))
    ));
    assert_eq!(answer(&flow, &cookie, APP).await, ForwardAnswer::SignIn);

    // Much later the app sends her to enrol; enrolling ends the sign-in, but only a code was
    // given now: sensitive actions still want the password.
    flow.advance(STEP_UP_TTL + 60);
    let (session, user) = flow.service.session(&cookie).await.unwrap().unwrap();
    let Resume::Step(step) = flow
        .service
        .resume_sign_in(&session, &user, Some(APP))
        .await
        .unwrap()
    else {
        panic!("a step back");
    };
    assert_eq!(step.stage, Stage::Enroll);
    assert!(
        flow.service.session(&cookie).await.unwrap().is_none(),
        "the old id is gone"
    );
    flow.totp_device("nell").await;
    let (enrolling, user) = flow.service.session(&step.cookie).await.unwrap().unwrap();
    let full = flow
        .service
        .finish_enrollment(&enrolling, &user)
        .await
        .unwrap();
    let (session, _) = flow.service.session(&full).await.unwrap().unwrap();
    assert_eq!(session.stage, Stage::Full);
    assert!(session.two_factor_at.is_some());
    assert!(
        !flow.service.stepped_up(&session),
        "no password was given just now"
    );
    assert!(matches!(
        answer(&flow, &full, APP).await,
        ForwardAnswer::Allow(Some(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_factor_sign_in_reaches_the_docs_only_until_the_second_factor() {
    let flow = flow().await;
    flow.user("dora").await;
    let device = flow.totp_device("dora").await;
    flow.advance(30);
    let (cookie, stage) = sign_in(&flow, "dora", DOCS).await;
    assert_eq!(stage, Stage::OneFactor);
    let (session, user) = flow.service.session(&cookie).await.unwrap().unwrap();
    assert!(!flow.service.stepped_up(&session));
    assert!(matches!(
        answer(&flow, &cookie, DOCS).await,
        ForwardAnswer::Allow(Some(_))
    ));
    assert_eq!(answer(&flow, &cookie, APP).await, ForwardAnswer::SignIn);

    // The app asks for more: the second factor, within minutes of the password, steps up.
    let Resume::Step(step) = flow
        .service
        .resume_sign_in(&session, &user, Some(APP))
        .await
        .unwrap()
    else {
        panic!("a step back");
    };
    assert_eq!(step.stage, Stage::SecondFactor);
    let (pending, user) = flow.service.session(&step.cookie).await.unwrap().unwrap();
    assert_eq!(pending.next.as_deref(), Some(APP));
    let code = code_at(&device.totp, flow.now());
    let done = flow
        .service
        .login_second_factor(
            &Context::cli(),
            &pending,
            &user,
            Some(twofold_core::code::Code::parse(&code)),
            None,
            false,
        )
        .await
        .unwrap();
    let SecondFactor::Done { cookie, next, .. } = done else {
        panic!("signed in");
    };
    assert_eq!(next.as_deref(), Some(APP));
    let (session, _) = flow.service.session(&cookie).await.unwrap().unwrap();
    assert!(flow.service.stepped_up(&session));
    assert!(matches!(
        answer(&flow, &cookie, APP).await,
        ForwardAnswer::Allow(Some(_))
    ));
}
