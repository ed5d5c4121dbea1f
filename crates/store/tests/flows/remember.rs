//! Remembered browsers racing what forgets them: a sign-out everywhere, a browser forgotten
//! while the sign-in it let in is under way, remembering turned off and on again. The other
//! writer is played by SQL run between the steps (or by a trigger, inside a step).

use twofold_core::audit::{Actor, Context};
use twofold_core::crypto;
use twofold_core::identity::{Role, Username};
use twofold_core::service::{PasswordLogin, SecondFactor};
use twofold_core::session::Stage;

use crate::{Flow, PASSWORD, code_at};

/// Rae in her browser.
fn rae() -> Context {
    Context {
        actor: Actor::User {
            name: "rae".into(),
            role: Role::Client,
        },
        ip: Some("192.0.2.7".into()),
    }
}

/// A flow with `remember.days` set and Rae, a client with a TOTP factor.
async fn flow() -> (Flow, twofold_otp::Totp) {
    let flow = Flow::new().await;
    flow.set(&[("remember.days", "30")]).await;
    flow.user("rae").await;
    let device = flow.totp_device("rae").await;
    flow.advance(30);
    (flow, device.totp)
}

/// The password step in a browser holding `remember` (a `tf_remember` value); an error when
/// the sign-in is refused.
async fn password(
    flow: &Flow,
    remember: Option<&str>,
) -> Result<(String, Stage), twofold_core::Error> {
    let step = flow
        .service
        .login_password(
            &rae(),
            PasswordLogin {
                username: "rae",
                password: PASSWORD,
                next: None,
                device: None,
                user_agent: Some("Firefox"),
                previous: None,
                remember,
            },
        )
        .await?;
    Ok((step.cookie, step.stage))
}

/// Signs Rae in with a code, "Remember this browser" ticked: the `tf_remember` value given
/// (`None`: nothing remembered).
async fn sign_in_remembered(flow: &Flow, totp: &twofold_otp::Totp) -> Option<String> {
    let (cookie, stage) = password(flow, None).await.unwrap();
    assert_eq!(stage, Stage::SecondFactor);
    let (pending, user) = flow.service.session(&cookie).await.unwrap().unwrap();
    flow.advance(30);
    let code = code_at(totp, flow.now());
    let SecondFactor::Done { remember, .. } = flow
        .service
        .login_second_factor(
            &rae(),
            &pending,
            &user,
            Some(twofold_core::code::Code::parse(&code)),
            None,
            true,
        )
        .await
        .unwrap()
    else {
        panic!("the right code completes the sign-in");
    };
    remember.map(|r| r.cookie)
}

async fn remembered_rows(flow: &Flow) -> i64 {
    flow.count("SELECT COUNT(*) FROM remembered_browsers").await
}

async fn events(flow: &Flow, skip: usize) -> Vec<String> {
    flow.audit_since("rae", skip)
        .await
        .into_iter()
        .map(|(e, _)| e)
        .collect()
}

/// A browser forgotten between the use that let a sign-in in and the check once its session
/// exists: the sign-in is refused, and the use is not audited (it did not happen).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remembered_use_is_audited_only_once_its_sign_in_stands() {
    let (flow, totp) = flow().await;
    let cookie = sign_in_remembered(&flow, &totp).await.expect("remembered");

    let mark = flow.audit("rae").await.len();
    assert_eq!(password(&flow, Some(&cookie)).await.unwrap().1, Stage::Full);
    assert_eq!(
        events(&flow, mark).await,
        ["browser.remembered_used", "login.password"]
    );

    // A sign-out everywhere forgets the browser just as the session is made.
    flow.sql(
        "CREATE TRIGGER forget_meanwhile AFTER INSERT ON sessions BEGIN \
         DELETE FROM remembered_browsers WHERE user_id = NEW.user_id; END",
    )
    .await;
    let mark = flow.audit("rae").await.len();
    let sessions = flow.count("SELECT COUNT(*) FROM sessions").await;
    let e = password(&flow, Some(&cookie)).await.unwrap_err();
    assert_eq!(e.code, "invalid_credentials");
    assert_eq!(
        flow.count("SELECT COUNT(*) FROM sessions").await,
        sessions,
        "the session it let in is dropped"
    );
    assert!(
        events(&flow, mark).await.is_empty(),
        "no use audited: {:?}",
        flow.audit_since("rae", mark).await
    );
}

/// A sign-out everywhere that ends the session between the second factor and the remembering:
/// nothing is remembered (no row, no cookie, no audit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_is_not_remembered_for_a_session_ended_meanwhile() {
    let (flow, totp) = flow().await;
    flow.sql(
        "CREATE TRIGGER end_meanwhile AFTER INSERT ON sessions WHEN NEW.stage = 'full' BEGIN \
         DELETE FROM sessions WHERE id_hash = NEW.id_hash; END",
    )
    .await;
    let mark = flow.audit("rae").await.len();
    assert_eq!(sign_in_remembered(&flow, &totp).await, None);
    assert_eq!(remembered_rows(&flow).await, 0);
    assert!(
        !events(&flow, mark)
            .await
            .contains(&"browser.remembered".to_owned())
    );

    // Without the interference, the same sign-in remembers the browser.
    flow.sql("DROP TRIGGER end_meanwhile").await;
    assert!(sign_in_remembered(&flow, &totp).await.is_some());
    assert_eq!(remembered_rows(&flow).await, 1);
}

/// A browser remembered after a sign-out everywhere forgot the browsers but before it ended
/// the sessions (its session still existed) is forgotten too: the browsers are forgotten again
/// once the sessions have ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_everywhere_forgets_a_browser_remembered_while_it_ran() {
    let (flow, _) = flow().await;
    password(&flow, None).await.unwrap();
    let now = flow.now();
    flow.sql(&format!(
        "CREATE TRIGGER remember_meanwhile BEFORE DELETE ON sessions BEGIN \
         INSERT OR IGNORE INTO remembered_browsers \
         (token_hash, user_id, created_at, last_used_at, expires_at) \
         VALUES ('late', OLD.user_id, {now}, {now}, {}); END",
        now + 86_400
    ))
    .await;
    let out = flow
        .service
        .sign_out_everywhere(&Context::cli(), &Username::parse("rae").unwrap())
        .await
        .unwrap();
    assert_eq!((out.sessions, out.browsers), (1, 1));
    assert_eq!(remembered_rows(&flow).await, 0);
}

/// Remembering turned off forgets every browser, and turned on again forgets every one
/// remembered until then: one that a sign-in still reading the old settings remembered after
/// the purge does not come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_remembering_on_again_revives_none_remembered_while_it_was_off() {
    let (flow, totp) = flow().await;
    let cookie = sign_in_remembered(&flow, &totp).await.expect("remembered");
    flow.set(&[("remember.days", "0")]).await;
    assert_eq!(remembered_rows(&flow).await, 0);

    // The in-flight sign-in's row, written after the purge.
    let now = flow.now();
    flow.sql(&format!(
        "INSERT INTO remembered_browsers (token_hash, user_id, created_at, last_used_at, \
         expires_at) SELECT '{}', id, {now}, {now}, {} FROM users WHERE username_key = 'rae'",
        crypto::token_hash(&cookie),
        now + 30 * 86_400
    ))
    .await;
    flow.advance(5);
    flow.set(&[("remember.days", "30")]).await;
    assert_eq!(remembered_rows(&flow).await, 0);
    assert_eq!(
        password(&flow, Some(&cookie)).await.unwrap().1,
        Stage::SecondFactor,
        "the code is asked"
    );
    let forgotten: Vec<String> = flow
        .service
        .audit_log(&twofold_core::audit::AuditFilter {
            event: Some("browser.forgotten".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.detail)
        .collect();
    assert_eq!(
        forgotten,
        [
            "all users count=1 reason=remember_on",
            "all users count=1 reason=remember_off"
        ]
    );

    // Remembered now, it counts (and a later change of remember.days alone forgets nothing).
    let cookie = sign_in_remembered(&flow, &totp).await.expect("remembered");
    flow.advance(5);
    flow.set(&[("remember.days", "20")]).await;
    assert_eq!(password(&flow, Some(&cookie)).await.unwrap().1, Stage::Full);
}

/// A user keeps their 20 newest remembered browsers: the oldest that gives way to a 21st is
/// forgotten, and audited like any other forgetting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oldest_browser_giving_way_to_a_new_one_is_audited() {
    let (flow, totp) = flow().await;
    let first = sign_in_remembered(&flow, &totp).await.expect("remembered");
    for _ in 1..20 {
        flow.advance(1);
        sign_in_remembered(&flow, &totp).await.expect("remembered");
    }
    assert_eq!(remembered_rows(&flow).await, 20);
    let mark = flow.audit("rae").await.len();
    flow.advance(1);
    sign_in_remembered(&flow, &totp).await.expect("remembered");
    assert_eq!(remembered_rows(&flow).await, 20);
    let since = flow.audit_since("rae", mark).await;
    let forgotten: Vec<&str> = since
        .iter()
        .filter(|(e, _)| e == "browser.forgotten")
        .map(|(_, d)| d.as_str())
        .collect();
    assert_eq!(forgotten.len(), 1, "{since:?}");
    assert!(
        forgotten[0].starts_with("browser=") && forgotten[0].ends_with(" reason=limit max=20"),
        "{since:?}"
    );
    assert_eq!(
        password(&flow, Some(&first)).await.unwrap().1,
        Stage::SecondFactor,
        "the oldest is the one forgotten"
    );
}
