//! The audit log: who did what to whom, when and from where. Never a secret or a code.

/// What happened. The names are stable: they are stored and shown in the admin area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    /// A password login succeeded (the second factor may still be pending).
    LoginPassword,
    /// A password login failed.
    LoginFailed,
    /// A second factor (or backup code) was accepted.
    SecondFactorSuccess,
    /// A second factor was refused.
    SecondFactorFailure,
    /// Too many failures locked the user's second factor.
    Lockout,
    /// An admin cleared a lockout.
    Unlock,
    /// A factor was created (unconfirmed).
    FactorEnrolled,
    /// A factor was confirmed.
    FactorConfirmed,
    /// A factor was removed.
    FactorRemoved,
    /// All factors and backup codes of a user were removed by an admin.
    Reset,
    /// A new set of backup codes replaced the old one.
    BackupCodesRegenerated,
    /// The backup codes were shown again.
    BackupCodesViewed,
    /// A user was created.
    UserCreated,
    /// A user's details, role or status changed.
    UserUpdated,
    /// A user's password was set.
    PasswordChanged,
    /// Owner settings changed (only the keys are recorded).
    SettingsChanged,
    /// An API token was created.
    TokenCreated,
    /// An API token was revoked.
    TokenRevoked,
    /// An API token was refused (unknown, revoked or wrong scope).
    TokenRefused,
    /// An email or SMS code was sent.
    CodeSent,
    /// An email or SMS code could not be delivered.
    CodeFailed,
    /// A YubiKey's confirmation was refused because another account holds its public id.
    YubikeyConflict,
    /// An administrator (or an import told to) took a YubiKey's public id from its holder.
    YubikeyReleased,
    /// A browser was remembered after its second factor ("Remember this browser").
    BrowserRemembered,
    /// A remembered browser stood in for the second factor of a sign-in.
    RememberedBrowserUsed,
    /// Remembered browsers were forgotten (one by its user, or all of a user's).
    BrowserForgotten,
    /// A security key's signature counter did not grow: the key may have been cloned. The
    /// sign-in was refused.
    WebauthnCounter,
}

impl AuditEvent {
    /// Every event, for filters.
    pub const ALL: [AuditEvent; 27] = [
        AuditEvent::LoginPassword,
        AuditEvent::LoginFailed,
        AuditEvent::SecondFactorSuccess,
        AuditEvent::SecondFactorFailure,
        AuditEvent::Lockout,
        AuditEvent::Unlock,
        AuditEvent::FactorEnrolled,
        AuditEvent::FactorConfirmed,
        AuditEvent::FactorRemoved,
        AuditEvent::Reset,
        AuditEvent::BackupCodesRegenerated,
        AuditEvent::BackupCodesViewed,
        AuditEvent::UserCreated,
        AuditEvent::UserUpdated,
        AuditEvent::PasswordChanged,
        AuditEvent::SettingsChanged,
        AuditEvent::TokenCreated,
        AuditEvent::TokenRevoked,
        AuditEvent::TokenRefused,
        AuditEvent::CodeSent,
        AuditEvent::CodeFailed,
        AuditEvent::YubikeyConflict,
        AuditEvent::YubikeyReleased,
        AuditEvent::BrowserRemembered,
        AuditEvent::RememberedBrowserUsed,
        AuditEvent::BrowserForgotten,
        AuditEvent::WebauthnCounter,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditEvent::LoginPassword => "login.password",
            AuditEvent::LoginFailed => "login.failed",
            AuditEvent::SecondFactorSuccess => "2fa.success",
            AuditEvent::SecondFactorFailure => "2fa.failure",
            AuditEvent::Lockout => "2fa.lockout",
            AuditEvent::Unlock => "2fa.unlock",
            AuditEvent::FactorEnrolled => "factor.enrolled",
            AuditEvent::FactorConfirmed => "factor.confirmed",
            AuditEvent::FactorRemoved => "factor.removed",
            AuditEvent::Reset => "2fa.reset",
            AuditEvent::BackupCodesRegenerated => "backup_codes.regenerated",
            AuditEvent::BackupCodesViewed => "backup_codes.viewed",
            AuditEvent::UserCreated => "user.created",
            AuditEvent::UserUpdated => "user.updated",
            AuditEvent::PasswordChanged => "user.password_changed",
            AuditEvent::SettingsChanged => "settings.changed",
            AuditEvent::TokenCreated => "token.created",
            AuditEvent::TokenRevoked => "token.revoked",
            AuditEvent::TokenRefused => "token.refused",
            AuditEvent::CodeSent => "code.sent",
            AuditEvent::CodeFailed => "code.failed",
            AuditEvent::YubikeyConflict => "yubikey.conflict",
            AuditEvent::YubikeyReleased => "yubikey.released",
            AuditEvent::BrowserRemembered => "browser.remembered",
            AuditEvent::RememberedBrowserUsed => "browser.remembered_used",
            AuditEvent::BrowserForgotten => "browser.forgotten",
            AuditEvent::WebauthnCounter => "webauthn_counter",
        }
    }
}

/// Who acted: the CLI operator, an API token, a user in the portal, or the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The operator at the command line.
    Cli,
    /// An application with the named API token.
    Token(String),
    /// A user acting in the portal: their username and role (what they may do to others is
    /// decided in `core` from the role: see [`Context::may_manage`]).
    User {
        /// The username.
        name: String,
        /// Their role.
        role: crate::identity::Role,
    },
    /// Twofold itself (for example first-run setup).
    System,
    /// A network device asking the RADIUS server: the client's registered name, and what the
    /// request said of its origin (`nas_identifier=… nas_ip=… calling_station=…`), appended to
    /// the detail of every record it causes.
    Radius {
        /// The client's registered name.
        client: String,
        /// The request's NAS fields, as `key=value` words (empty when it sent none).
        nas: String,
    },
}

impl Actor {
    /// The stored form: `cli`, `token:NAME`, `user:NAME`, `system`.
    pub fn to_stored(&self) -> String {
        match self {
            Actor::Cli => "cli".into(),
            Actor::Token(n) => format!("token:{n}"),
            Actor::User { name, .. } => format!("user:{name}"),
            Actor::System => "system".into(),
            Actor::Radius { client, .. } => format!("radius:{client}"),
        }
    }
}

/// The context of a request: who is acting and from which address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Who acts.
    pub actor: Actor,
    /// The client IP, if the request came over the network.
    pub ip: Option<String>,
}

impl Context {
    /// Whether the caller may act on `target`'s account as an administrator (reset 2FA, unlock,
    /// disable, remove a factor, release a key): owners manage everyone else, admins manage
    /// clients; nobody manages their own account this way (Security Settings, with its
    /// "Confirm it is you", is the way); the operator, Twofold itself and applications with an
    /// admin token manage everyone (their routes already required the admin scope).
    pub fn may_manage(&self, target: &crate::store::User) -> bool {
        use crate::identity::Role;
        match &self.actor {
            Actor::Cli | Actor::System | Actor::Token(_) => true,
            Actor::Radius { .. } => false,
            Actor::User { name, role } => {
                !name.eq_ignore_ascii_case(&target.username)
                    && (*role == Role::Owner || (role.is_staff() && target.role == Role::Client))
            }
        }
    }

    /// Whether the caller may see the admin area (users, audit, settings): admins and owners
    /// among users; what they may do there is [`Context::may_manage`]'s and
    /// [`Context::may_change_settings`]'s to say.
    pub fn may_view_admin(&self) -> bool {
        match &self.actor {
            Actor::Cli | Actor::System | Actor::Token(_) => true,
            Actor::Radius { .. } => false,
            Actor::User { role, .. } => role.is_staff(),
        }
    }

    /// Whether the caller may change the owner's settings: only the owner among users.
    pub fn may_change_settings(&self) -> bool {
        match &self.actor {
            Actor::Cli | Actor::System | Actor::Token(_) => true,
            Actor::Radius { .. } => false,
            Actor::User { role, .. } => *role == crate::identity::Role::Owner,
        }
    }

    /// Refuses unless the caller may manage `target` (a 403 `not_allowed`).
    pub fn require_manage(&self, target: &crate::store::User) -> crate::error::Result<()> {
        if self.may_manage(target) {
            Ok(())
        } else {
            Err(crate::error::Error::forbidden(
                "not_allowed",
                crate::i18n::Text::new("err-manage-admins-owner-only"),
            ))
        }
    }

    /// Refuses unless the caller may change the owner's settings (a 403 `not_allowed`).
    pub fn require_settings(&self) -> crate::error::Result<()> {
        if self.may_change_settings() {
            Ok(())
        } else {
            Err(crate::error::Error::forbidden(
                "not_allowed",
                crate::i18n::Text::new("err-owner-settings-only"),
            ))
        }
    }

    /// The CLI operator on this machine.
    pub fn cli() -> Self {
        Context {
            actor: Actor::Cli,
            ip: None,
        }
    }
}

/// A stored audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Increasing id.
    pub id: i64,
    /// Unix time.
    pub at: i64,
    /// `cli`, `token:NAME`, `user:NAME` or `system`.
    pub actor: String,
    /// The username the event is about, if any.
    pub subject: Option<String>,
    /// The event name ([`AuditEvent::as_str`]).
    pub event: String,
    /// The client IP, if any.
    pub ip: Option<String>,
    /// Extra facts (a method, a factor id, setting keys), never a secret or code.
    pub detail: String,
}

/// A record to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    /// Unix time.
    pub at: i64,
    /// Stored actor.
    pub actor: String,
    /// The username concerned.
    pub subject: Option<String>,
    /// The event.
    pub event: AuditEvent,
    /// The client IP.
    pub ip: Option<String>,
    /// Extra facts.
    pub detail: String,
}

/// Which records to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only events about this username key.
    pub subject: Option<String>,
    /// Only this event name.
    pub event: Option<String>,
    /// Only records with an id below this (for paging back).
    pub before_id: Option<i64>,
    /// At most this many, newest first.
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Role;
    use crate::store::User;

    fn user(role: Role) -> User {
        User {
            id: 1,
            username: crate::identity::Username::parse("target").unwrap(),
            role,
            email: None,
            phone: None,
            password_hash: None,
            disabled: false,
            failed_attempts: 0,
            locked_until: None,
            created_at: 0,
            language: None,
        }
    }

    fn as_user(role: Role) -> Context {
        Context {
            actor: Actor::User {
                name: "actor".into(),
                role,
            },
            ip: None,
        }
    }

    #[test]
    fn owners_manage_everyone_admins_manage_clients() {
        let roles = [Role::Client, Role::Admin, Role::Owner];
        let table: Vec<(Role, Vec<bool>)> = roles
            .iter()
            .map(|a| {
                let ctx = as_user(*a);
                (
                    *a,
                    roles.iter().map(|t| ctx.may_manage(&user(*t))).collect(),
                )
            })
            .collect();
        assert_eq!(
            table,
            [
                (Role::Client, vec![false, false, false]),
                (Role::Admin, vec![true, false, false]),
                (Role::Owner, vec![true, true, true]),
            ]
        );
        for ctx in [
            Context::cli(),
            Context {
                actor: Actor::Token("app".into()),
                ip: None,
            },
        ] {
            assert!(roles.iter().all(|t| ctx.may_manage(&user(*t))));
            assert!(ctx.may_change_settings());
        }
    }

    #[test]
    fn admins_and_owners_see_the_admin_area() {
        assert!(!as_user(Role::Client).may_view_admin());
        assert!(as_user(Role::Admin).may_view_admin());
        assert!(as_user(Role::Owner).may_view_admin());
        assert!(Context::cli().may_view_admin());
    }

    #[test]
    fn only_the_owner_among_users_changes_settings() {
        assert!(!as_user(Role::Client).may_change_settings());
        assert!(!as_user(Role::Admin).may_change_settings());
        assert!(as_user(Role::Owner).may_change_settings());
        let refused = as_user(Role::Admin).require_settings().unwrap_err();
        assert_eq!(
            (refused.kind, refused.code),
            (crate::ErrorKind::Forbidden, "not_allowed")
        );
    }
}
