//! First run: the one-time setup link that creates the owner account.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use twofold_core::ErrorKind;

use super::page::{
    self, Anonymous, CsrfForm, PRE_COOKIE, Page, Visitor, redirect, render, set_cookie, with_cookie,
};
use crate::AppState;
use crate::error::PageError;

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    page: Page,
    csrf: String,
    username: String,
    email: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct SetupForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
}

fn setup_gone() -> Response {
    let lang = crate::lang::current();
    page::message(
        StatusCode::NOT_FOUND,
        &lang.t("setup-link-title"),
        &lang.t("setup-link-gone"),
        Some(("/login", &lang.t("login-title"))),
    )
}

pub(crate) async fn setup_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    if !state.service.setup_token_usable(&token).await? {
        return Ok(setup_gone());
    }
    let (csrf, new_pre) = visitor.pre_csrf(&state);
    let page = Page {
        title: crate::lang::current().t("setup-title"),
        ..Page::default()
    };
    let resp = render(
        StatusCode::OK,
        &SetupPage {
            page,
            csrf,
            username: String::new(),
            email: String::new(),
        },
    );
    Ok(match new_pre {
        Some(v) => with_cookie(resp, &set_cookie(PRE_COOKIE, &v, state.secure_cookies)),
        None => resp,
    })
}

pub(crate) async fn setup_submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    CsrfForm { visitor, form, .. }: CsrfForm<Anonymous, SetupForm>,
) -> Result<Response, PageError> {
    // The token that was just accepted (tokens are a function of their binding).
    let (csrf, _) = visitor.pre_csrf(&state);
    let again = |error: String, status: StatusCode| {
        let page = Page {
            title: crate::lang::current().t("setup-title"),
            error: Some(error),
            ..Page::default()
        };
        render(
            status,
            &SetupPage {
                page,
                csrf: csrf.clone(),
                username: form.username.clone(),
                email: form.email.clone(),
            },
        )
    };
    if form.password != form.password2 {
        return Ok(again(
            crate::lang::current().t("setup-password-mismatch"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let email = Some(form.email.as_str()).filter(|e| !e.trim().is_empty());
    match state
        .service
        .create_owner(&token, form.username.trim(), &form.password, email)
        .await
    {
        Ok(_) => Ok(redirect("/login?notice=owner_created")),
        Err(e) if e.code == "setup_token" => Ok(setup_gone()),
        Err(e) if e.kind == ErrorKind::Internal => Err(PageError::Internal),
        Err(e) => Ok(again(
            crate::lang::text(&e.message),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
    }
}
