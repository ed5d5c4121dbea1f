//! The web portal: server-rendered pages for logging in with a second factor, the user's
//! Security Settings and the admin area. HTML lives in `templates/`, assets are embedded.

mod account;
mod admin;
mod duo;
mod enroll;
mod login;
mod offer;
pub(crate) mod page;
mod settings;
mod setup;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::AppState;

const STYLE: &str = include_str!("../../assets/style.css");
const SCRIPT: &str = include_str!("../../assets/app.js");

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(login::home))
        .route(
            "/assets/style.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    STYLE,
                )
                    .into_response()
            }),
        )
        .route(
            "/assets/app.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    SCRIPT,
                )
                    .into_response()
            }),
        )
        .route(
            "/setup/{token}",
            get(setup::setup_form).post(setup::setup_submit),
        )
        .route("/login", get(login::login_form).post(login::login_submit))
        .route(
            "/login/2fa",
            get(login::second_form).post(login::second_submit),
        )
        .route(
            "/login/enroll",
            get(login::enroll_choose).post(login::enroll_start),
        )
        .route("/login/enroll/done", post(login::enroll_done))
        .route(
            "/login/enroll/{id}",
            get(login::enroll_scan).post(login::enroll_confirm),
        )
        .route("/login/enroll/{id}/resend", post(login::enroll_resend))
        .route("/login/2fa/send", post(login::send_code))
        .route("/login/2fa/webauthn", post(login::second_webauthn))
        .route("/login/passkey", post(login::passkey_submit))
        .route("/login/duo", post(duo::duo_start))
        .route("/login/duo/callback", get(duo::duo_callback))
        .route("/login/enroll/{id}/duo", post(duo::enroll_duo))
        .route("/account/security/enroll/{id}/duo", post(account::duo))
        .route(
            "/account/security/enroll/{id}/resend",
            post(account::resend),
        )
        .route("/logout", get(login::logout_page).post(login::logout))
        .route("/account/security", get(account::security))
        .route(
            "/account/security/enroll",
            get(account::choose).post(account::start),
        )
        .route(
            "/account/security/enroll/{id}",
            get(account::scan).post(account::confirm),
        )
        .route(
            "/account/security/factors/{id}/remove",
            post(account::remove),
        )
        .route("/account/security/disable", post(account::disable))
        .route("/account/security/step-up", post(account::step_up))
        .route("/account/security/password", post(account::change_password))
        .route("/account/security/language", post(account::set_language))
        .route("/account/security/sessions/end", post(account::end_session))
        .route(
            "/account/security/sessions/end-all",
            post(account::end_all_sessions),
        )
        .route(
            "/account/security/browsers/forget",
            post(account::forget_browser),
        )
        .route(
            "/account/security/backup-codes/view",
            post(account::view_codes),
        )
        .route(
            "/account/security/backup-codes/new",
            post(account::new_codes),
        )
        .route("/admin", get(admin::home))
        .route("/admin/users", get(admin::users))
        .route("/admin/users/{name}", get(admin::user))
        .route(
            "/admin/users/{name}/reset",
            get(admin::reset_confirm).post(admin::reset),
        )
        .route("/admin/users/{name}/unlock", post(admin::unlock))
        .route("/admin/users/{name}/disable", post(admin::disable))
        .route("/admin/users/{name}/enable", post(admin::enable))
        .route(
            "/admin/users/{name}/factors/{id}/release",
            post(admin::release_yubikey),
        )
        .route(
            "/admin/settings",
            get(settings::settings).post(settings::save_settings),
        )
        .route("/admin/settings/duo-test", post(settings::duo_test))
        .route("/admin/audit", get(admin::audit))
}
