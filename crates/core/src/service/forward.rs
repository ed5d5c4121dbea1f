//! Forward authentication: a reverse proxy asks whether a request to an application behind it
//! may pass, and the answer comes from the portal session the browser sent along and the
//! `[[access]]` rules. A sign-in made for such an application goes as far as its rule asks.

use super::Service;
use super::login::{ENROLL_TTL, LoginStep, PENDING_TTL};
use crate::access::{Policy, Target};
use crate::crypto;
use crate::error::Result;
use crate::identity::Role;
use crate::session::{Session, Stage};
use crate::store::User;

/// Who passes, for the `Remote-*` headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The username as given.
    pub username: String,
    /// Their email address, if any.
    pub email: Option<String>,
    /// Their role.
    pub role: Role,
}

/// The answer to a reverse proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardAnswer {
    /// The request passes; with the signed-in user unless a `bypass` rule let it through.
    Allow(Option<Identity>),
    /// The visitor must sign in (or go further: the second factor, an enrolment) first.
    SignIn,
    /// Signed in, but not allowed.
    Deny,
}

/// What the login page does with a browser that is already signed in.
#[derive(Debug, Clone)]
pub enum Resume {
    /// The session is enough for where it wants to go.
    Enough,
    /// The session went back a step (the second factor, an enrolment) with a new id.
    Step(LoginStep),
    /// The sign-in is still at this step (its session unchanged).
    Continue(Stage),
}

impl Service {
    /// Where a sign-in (or sign-out) may send the browser: the checked `next=`, or `None`.
    pub fn next_target(&self, next: &str) -> Option<String> {
        self.access.redirects.checked(next)
    }

    /// The answer for a request to an application behind the proxy. It costs the session's
    /// lookup at most (a `bypass` or `deny` rule that does not depend on the role costs none),
    /// and writes nothing but a session's last use, at most once a minute.
    pub async fn forward_auth(
        &self,
        session_cookie: Option<&str>,
        target: &Target,
    ) -> Result<ForwardAnswer> {
        match self.access.rules.policy(target, None) {
            Policy::Bypass => return Ok(ForwardAnswer::Allow(None)),
            // No rule for roles comes first: the same for everyone.
            Policy::Deny => return Ok(ForwardAnswer::Deny),
            Policy::OneFactor | Policy::TwoFactor => {}
        }
        let Some(cookie) = session_cookie else {
            return Ok(ForwardAnswer::SignIn);
        };
        let Some((session, user)) = self.session(cookie).await? else {
            return Ok(ForwardAnswer::SignIn);
        };
        if !session.stage.is_lasting() {
            return Ok(ForwardAnswer::SignIn);
        }
        let identity = || Identity {
            username: user.username.as_str().to_owned(),
            email: user.email.clone(),
            role: user.role,
        };
        Ok(match self.access.rules.policy(target, Some(user.role)) {
            Policy::Deny => ForwardAnswer::Deny,
            Policy::Bypass | Policy::OneFactor => ForwardAnswer::Allow(Some(identity())),
            Policy::TwoFactor => {
                if self.two_factor_done(&session).await? {
                    ForwardAnswer::Allow(Some(identity()))
                } else if self.second_step(&session, &user).await?.is_some() {
                    ForwardAnswer::SignIn
                } else {
                    // Nothing they can do would pass it: no method to enrol.
                    ForwardAnswer::Deny
                }
            }
        })
    }

    /// The session passed a second factor, or need not have: 2FA is switched off server-wide.
    async fn two_factor_done(&self, session: &Session) -> Result<bool> {
        if session.stage != Stage::Full {
            return Ok(false);
        }
        Ok(session.two_factor_at.is_some() || !self.settings_cached().await?.twofactor_enabled())
    }

    /// The step a signed-in user goes back to for a `two_factor` rule: the second factor when
    /// they have one, an enrolment when they could set one up, else `None`.
    async fn second_step(&self, session: &Session, user: &User) -> Result<Option<Stage>> {
        if session.stage == Stage::OneFactor {
            return Ok(Some(Stage::SecondFactor));
        }
        let settings = self.settings_cached().await?;
        if self.view_of(user.clone()).await?.has_2fa {
            return Ok(Some(Stage::SecondFactor));
        }
        // Only what the portal's enrolment offers counts: a method added by administrators
        // alone (HOTP) would leave the user at a page with nothing to choose.
        let can_enrol = super::offers::ENROLLABLE
            .iter()
            .any(|k| settings.method_available(*k, user.role));
        Ok(can_enrol.then_some(Stage::Enroll))
    }

    /// The policy the sign-in's `next=` meets for this user (`None`: the portal's own pages).
    pub(super) fn policy_for_next(&self, next: Option<&str>, role: Role) -> Option<Policy> {
        next.and_then(|n| self.access.policy_for_next(n, role))
    }

    /// The login page met a browser that is signed in already. When its session is not enough
    /// for `next` (an application's `two_factor` rule, or the portal itself after a one-factor
    /// sign-in), the session goes back to the step that is missing, with a new id and `next`
    /// saved; otherwise the browser just goes on.
    pub async fn resume_sign_in(
        &self,
        session: &Session,
        user: &User,
        next: Option<&str>,
    ) -> Result<Resume> {
        let wanted = self.policy_for_next(next, user.role);
        let step = match session.stage {
            Stage::SecondFactor | Stage::Enroll => Some(session.stage),
            Stage::OneFactor => match wanted {
                Some(Policy::Bypass | Policy::OneFactor | Policy::Deny) => None,
                Some(Policy::TwoFactor) | None => Some(Stage::SecondFactor),
            },
            Stage::Full => match wanted {
                Some(Policy::TwoFactor) if !self.two_factor_done(session).await? => {
                    self.second_step(session, user).await?
                }
                _ => None,
            },
        };
        let Some(stage) = step else {
            return Ok(Resume::Enough);
        };
        if stage == session.stage {
            return Ok(Resume::Continue(stage));
        }
        let now = self.now();
        let cookie = crypto::random_token(self.rng.as_ref(), "", 32);
        let new = Session {
            id_hash: crypto::token_hash(&cookie),
            stage,
            created_at: now,
            expires_at: now
                + if stage == Stage::Enroll {
                    ENROLL_TTL
                } else {
                    PENDING_TTL
                },
            next: next.map(str::to_owned),
            last_seen_at: now,
            step_up_at: None,
            two_factor_at: None,
            ..session.clone()
        };
        if !self.store.replace_session(&session.id_hash, &new).await? {
            return Ok(Resume::Enough);
        }
        Ok(Resume::Step(LoginStep { cookie, stage }))
    }
}
