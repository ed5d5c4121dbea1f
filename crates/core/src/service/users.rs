//! Users: creation, lookup, changes, passwords, unlock and the admin reset.

use super::Service;
use crate::audit::{AuditEvent, Context};
use crate::error::{Error, Result};
use crate::factor::Factor;
use crate::i18n::Text;
use crate::identity::{Email, PhoneNumber, Role, Username};
use crate::store::{NewUser, StoreError, User, UserPatch, UserQuery};

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;
/// The longest password accepted (Argon2 takes any length; this bounds the work per request).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// A user to create, as given by a caller. `Debug` hides the password.
#[derive(Clone, Default)]
pub struct NewUserRequest<'a> {
    /// Username.
    pub username: &'a str,
    /// Role (default client).
    pub role: Option<&'a str>,
    /// Email address.
    pub email: Option<&'a str>,
    /// Phone number.
    pub phone: Option<&'a str>,
    /// Password.
    pub password: Option<&'a str>,
}

/// Changes to a user, as given by a caller; `Some("")` clears email or phone.
#[derive(Debug, Clone, Default)]
pub struct UserChanges<'a> {
    /// New email.
    pub email: Option<&'a str>,
    /// New phone.
    pub phone: Option<&'a str>,
    /// New role.
    pub role: Option<&'a str>,
    /// Disable (true) or enable (false).
    pub disabled: Option<bool>,
}

/// A user with their factors, as shown to admins and applications.
#[derive(Debug, Clone)]
pub struct UserView {
    /// The user.
    pub user: User,
    /// Their factors, pending ones included.
    pub factors: Vec<Factor>,
    /// Unused backup codes.
    pub backup_codes_remaining: i64,
    /// Whether they have a usable factor (the definition of "has 2FA").
    pub has_2fa: bool,
    /// Whether the second factor is locked now.
    pub locked: bool,
}

impl std::fmt::Debug for NewUserRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUserRequest")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("email", &self.email)
            .field("phone", &self.phone)
            .field("password", &self.password.map(|_| "[redacted]"))
            .finish()
    }
}

fn parse_role(text: &str) -> Result<Role> {
    text.parse()
        .map_err(|_| Error::invalid("invalid_role", Text::new("err-role-invalid")))
}

fn parse_email(text: &str) -> Result<Email> {
    Email::parse(text).map_err(|e| Error::invalid("invalid_email", e.text()))
}

fn parse_phone(text: &str) -> Result<PhoneNumber> {
    PhoneNumber::parse(text).map_err(|e| Error::invalid("invalid_phone", e.text()))
}

/// `None`: leave as is; `Some(None)`: clear (given as empty text); `Some(Some(v))`: set.
fn clearable(v: Option<&str>) -> Option<Option<&str>> {
    v.map(|s| if s.trim().is_empty() { None } else { Some(s) })
}

/// Checks a new password against the rules (`invalid_password`): [`Service::set_password`]
/// checks it before the user is looked up, and an edge that parses the username first checks
/// it before, to answer in the same order.
pub fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&n) {
        return Err(Error::invalid(
            "invalid_password",
            Text::new("err-password-length")
                .arg("min", MIN_PASSWORD_LEN)
                .arg("max", MAX_PASSWORD_LEN),
        ));
    }
    Ok(())
}

impl Service {
    /// Creates a user. Everything is checked before anything is written.
    pub async fn create_user(&self, ctx: &Context, req: &NewUserRequest<'_>) -> Result<User> {
        let username = Username::parse(req.username)
            .map_err(|e| Error::invalid("invalid_username", e.text()))?;
        let role = req
            .role
            .map(parse_role)
            .transpose()?
            .unwrap_or(Role::Client);
        let email = req
            .email
            .filter(|e| !e.trim().is_empty())
            .map(parse_email)
            .transpose()?;
        let phone = req
            .phone
            .filter(|p| !p.trim().is_empty())
            .map(parse_phone)
            .transpose()?;
        let password_hash = match req.password {
            Some(p) => {
                check_password(p)?;
                Some(self.passwords.hash(self.rng.clone(), p).await?)
            }
            None => None,
        };
        let new = NewUser {
            username,
            role,
            email: email.map(|e| e.as_str().to_owned()),
            phone: phone.map(|p| p.as_str().to_owned()),
            password_hash,
            created_at: self.now(),
        };
        let user = match self.store.insert_user(&new).await {
            Ok(u) => u,
            Err(StoreError::Conflict(_)) => {
                return Err(Error::conflict("user_exists", Text::new("err-user-exists")));
            }
            Err(e) => return Err(e.into()),
        };
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::UserCreated,
            format!("role={role}"),
        )
        .await;
        Ok(user)
    }

    /// Finds a user by name (case-insensitive).
    pub async fn user(&self, username: &Username) -> Result<User> {
        self.user_by_name(username).await
    }

    /// A user with factors and backup-code count.
    pub async fn user_view(&self, username: &Username) -> Result<UserView> {
        let user = self.user_by_name(username).await?;
        self.view_of(user).await
    }

    pub(crate) async fn view_of(&self, user: User) -> Result<UserView> {
        let settings = self.settings().await?;
        let factors = self.store.factors_of(user.id).await?;
        let backup_codes_remaining = self.store.unused_backup_codes(user.id).await?;
        let has_2fa = settings.twofactor_enabled()
            && factors
                .iter()
                .any(|f| f.confirmed && settings.method_available(f.kind(), user.role));
        let locked = user.is_locked(self.now());
        Ok(UserView {
            user,
            factors,
            backup_codes_remaining,
            has_2fa,
            locked,
        })
    }

    /// Sets a user's own language (`None`: follow the browser's). The user's own choice, from
    /// Security Settings: it also picks the language of their emails and SMS.
    pub async fn set_language(&self, user: &User, lang: Option<crate::i18n::Lang>) -> Result<User> {
        let patch = UserPatch {
            language: Some(lang.map(|l| l.tag().to_owned())),
            ..UserPatch::default()
        };
        self.store
            .update_user(user.id, &patch)
            .await?
            .ok_or_else(Error::no_user)
    }

    /// Lists users.
    pub async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>> {
        Ok(self.store.list_users(query).await?)
    }

    /// Counts users (of a role, or all).
    pub async fn count_users(&self, role: Option<Role>) -> Result<i64> {
        Ok(self.store.count_users(role).await?)
    }

    /// Changes email, phone, role or the disabled flag.
    pub async fn update_user(
        &self,
        ctx: &Context,
        username: &Username,
        changes: &UserChanges<'_>,
    ) -> Result<User> {
        let user = self.user_by_name(username).await?;
        ctx.require_manage(&user)?;
        let patch = UserPatch {
            email: clearable(changes.email)
                .map(|v| {
                    v.map(|e| parse_email(e).map(|e| e.as_str().to_owned()))
                        .transpose()
                })
                .transpose()?,
            phone: clearable(changes.phone)
                .map(|v| {
                    v.map(|p| parse_phone(p).map(|p| p.as_str().to_owned()))
                        .transpose()
                })
                .transpose()?,
            role: changes.role.map(parse_role).transpose()?,
            disabled: changes.disabled,
            language: None,
        };
        let updated = self
            .store
            .update_user(user.id, &patch)
            .await?
            .ok_or_else(Error::no_user)?;
        let mut what = Vec::new();
        if patch.email.is_some() {
            what.push("email");
        }
        if patch.phone.is_some() {
            what.push("phone");
        }
        if let Some(r) = patch.role {
            what.push(if r == Role::Owner {
                "role=owner"
            } else if r == Role::Admin {
                "role=admin"
            } else {
                "role=client"
            });
        }
        if let Some(d) = patch.disabled {
            what.push(if d { "disabled" } else { "enabled" });
        }
        self.audit(
            ctx,
            Some(&updated.username),
            AuditEvent::UserUpdated,
            what.join(","),
        )
        .await;
        if patch.disabled == Some(true) {
            self.store.delete_user_devices(updated.id).await?;
            self.end_all_sessions(ctx, &updated, "disabled").await?;
        }
        // A browser was remembered under the rules of the role it was remembered for
        // (`remember.admins`): a new role starts without any.
        if patch.role.is_some_and(|r| r != user.role) {
            self.forget_all_browsers(ctx, &updated, "role_changed")
                .await?;
        }
        Ok(updated)
    }

    /// Sets a user's password.
    pub async fn set_password(
        &self,
        ctx: &Context,
        username: &Username,
        password: &str,
    ) -> Result<()> {
        check_password(password)?;
        let user = self.user_by_name(username).await?;
        let hash = self.passwords.hash(self.rng.clone(), password).await?;
        self.store.set_password(user.id, &hash).await?;
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::PasswordChanged,
            String::new(),
        )
        .await;
        // Whoever signed in with the old password is signed out, and the browsers that signed
        // in with it lose their device cookies.
        self.store.delete_user_devices(user.id).await?;
        self.end_all_sessions(ctx, &user, "password_changed").await
    }

    /// Clears a second-factor lockout.
    pub async fn unlock(&self, ctx: &Context, username: &Username) -> Result<()> {
        let user = self.user_by_name(username).await?;
        ctx.require_manage(&user)?;
        self.store.unlock(user.id).await?;
        self.audit(ctx, Some(&user.username), AuditEvent::Unlock, String::new())
            .await;
        Ok(())
    }

    /// "Reset user secret": removes every factor and backup code and clears the lockout.
    pub async fn reset_2fa(&self, ctx: &Context, username: &Username) -> Result<()> {
        let user = self.user_by_name(username).await?;
        ctx.require_manage(&user)?;
        self.reset_2fa_of(ctx, &user).await
    }

    /// Removes every factor and backup code of `user` and ends their sessions, with no check
    /// of who asks (the user turning their own 2FA off, or an admin allowed to).
    pub(crate) async fn reset_2fa_of(&self, ctx: &Context, user: &User) -> Result<()> {
        self.store.reset_user(user.id).await?;
        self.audit(ctx, Some(&user.username), AuditEvent::Reset, String::new())
            .await;
        self.end_all_sessions(ctx, user, "2fa_reset").await
    }
}
