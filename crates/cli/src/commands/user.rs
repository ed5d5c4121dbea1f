//! `twofold user …`: manage users from the operator's shell.

use std::io::BufRead;

use clap::{Args, Subcommand};
use serde::Serialize;
use twofold_core::audit::Context;
use twofold_core::duo::AuthOutcome;
use twofold_core::service::{
    NewUserRequest, UserChanges, UserView, check_password, parse_username,
};
use twofold_core::store::{User, UserQuery};

use crate::config::Config;
use crate::exit::Failure;
use crate::setup;

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user.
    Add {
        /// Username: 1–64 letters, digits and . _ @ + -
        name: String,
        /// Role.
        #[arg(long, value_parser = ["client", "admin", "owner"], default_value = "client")]
        role: String,
        /// Email address.
        #[arg(long, value_name = "E")]
        email: Option<String>,
        /// Phone number (E.164, e.g. +15550100).
        #[arg(long, value_name = "P")]
        phone: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List(ListArgs),
    /// Show one user with their factors.
    Show {
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password (read from the first line of standard input).
    SetPassword {
        name: String,
        /// Required: the password is read from standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Remove all factors and backup codes of a user ("reset user secret").
    #[command(name = "reset-2fa")]
    Reset2fa { name: String },
    /// Clear a second-factor lockout.
    Unlock { name: String },
    /// Disable a user: no logins, no validations.
    Disable { name: String },
    /// Enable a disabled user.
    Enable { name: String },
    /// Send a Duo push to the user (Auth API: preauth, then push) and print allow, deny: MESSAGE
    /// or timeout; exit 1 unless allowed.
    TestDuo { name: String },
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Only usernames or emails containing this text.
    #[arg(long)]
    search: Option<String>,
}

#[derive(Serialize)]
struct UserJson<'a> {
    username: &'a str,
    role: &'a str,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    disabled: bool,
    locked_until: Option<i64>,
    created_at: i64,
}

impl<'a> From<&'a User> for UserJson<'a> {
    fn from(u: &'a User) -> Self {
        UserJson {
            username: &u.username,
            role: u.role.as_str(),
            email: u.email.as_deref(),
            phone: u.phone.as_deref(),
            disabled: u.disabled,
            locked_until: u.locked_until,
            created_at: u.created_at,
        }
    }
}

#[derive(Serialize)]
struct FactorJson<'a> {
    id: &'a str,
    kind: &'a str,
    label: &'a str,
    confirmed: bool,
    created_at: i64,
    last_used_at: Option<i64>,
}

#[derive(Serialize)]
struct ShowJson<'a> {
    #[serde(flatten)]
    user: UserJson<'a>,
    locked: bool,
    has_2fa: bool,
    factors: Vec<FactorJson<'a>>,
    backup_codes_remaining: i64,
}

fn show_json(v: &UserView) -> ShowJson<'_> {
    ShowJson {
        user: UserJson::from(&v.user),
        locked: v.locked,
        has_2fa: v.has_2fa,
        factors: v
            .factors
            .iter()
            .map(|f| FactorJson {
                id: f.id.as_str(),
                kind: f.kind().as_str(),
                label: &f.label,
                confirmed: f.confirmed,
                created_at: f.created_at,
                last_used_at: f.last_used_at,
            })
            .collect(),
        backup_codes_remaining: v.backup_codes_remaining,
    }
}

/// Reads one line from stdin (without its line ending).
pub(crate) fn read_secret_line() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::value(format_args!("cannot read standard input: {e}")))?;
    let trimmed = line.trim_end_matches(['\n', '\r']).to_owned();
    if trimmed.is_empty() {
        return Err(Failure::value("no password on standard input"));
    }
    Ok(trimmed)
}

fn to_json<T: Serialize>(v: &T) -> Result<String, Failure> {
    serde_json::to_string_pretty(v).map_err(|e| Failure::value(format_args!("json: {e}")))
}

pub(crate) async fn run(config: &Config, command: UserCommand) -> Result<(), Failure> {
    let ctx = Context::cli();
    // Read stdin before touching the database, so a missing password changes nothing.
    let password = match &command {
        UserCommand::Add {
            password_stdin: true,
            ..
        }
        | UserCommand::SetPassword { .. } => Some(read_secret_line()?),
        _ => None,
    };
    let service = setup::service(config).await?;
    match command {
        UserCommand::Add {
            name,
            role,
            email,
            phone,
            ..
        } => {
            let req = NewUserRequest {
                username: &name,
                role: Some(&role),
                email: email.as_deref(),
                phone: phone.as_deref(),
                password: password.as_deref(),
            };
            let user = service.create_user(&ctx, &req).await?;
            println!("created {} ({})", user.username, user.role);
        }
        UserCommand::List(args) => {
            let mut users = Vec::new();
            let mut offset = 0;
            loop {
                let page = service
                    .list_users(&UserQuery {
                        search: args.search.clone(),
                        offset,
                        limit: 500,
                    })
                    .await?;
                let n = page.len();
                users.extend(page);
                if n < 500 {
                    break;
                }
                offset += 500;
            }
            if args.json {
                let list: Vec<UserJson<'_>> = users.iter().map(UserJson::from).collect();
                println!("{}", to_json(&list)?);
            } else {
                for u in &users {
                    let flags = [
                        if u.disabled { "disabled" } else { "" },
                        if u.is_locked(service.now()) {
                            "locked"
                        } else {
                            ""
                        },
                    ]
                    .iter()
                    .filter(|f| !f.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(",");
                    println!(
                        "{}\t{}\t{}\t{flags}",
                        u.username,
                        u.role,
                        u.email.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        UserCommand::Show { name, json } => {
            let v = service.user_view(&parse_username(&name)?).await?;
            if json {
                println!("{}", to_json(&show_json(&v))?);
            } else {
                let u = &v.user;
                println!("username: {}", u.username);
                println!("role: {}", u.role);
                println!("email: {}", u.email.as_deref().unwrap_or("-"));
                println!("phone: {}", u.phone.as_deref().unwrap_or("-"));
                println!("disabled: {}", u.disabled);
                println!("locked: {}", v.locked);
                println!("2fa: {}", if v.has_2fa { "on" } else { "off" });
                println!("backup codes left: {}", v.backup_codes_remaining);
                for f in &v.factors {
                    let state = if f.confirmed { "confirmed" } else { "pending" };
                    println!("factor {} {} {:?} {state}", f.id, f.kind(), f.label);
                }
            }
        }
        UserCommand::SetPassword { name, .. } => {
            let password = password.unwrap_or_default();
            // The password is judged before the name, as the flow does.
            check_password(&password)?;
            service
                .set_password(&ctx, &parse_username(&name)?, &password)
                .await?;
            println!("password set for {name}");
        }
        UserCommand::Reset2fa { name } => {
            service.reset_2fa(&ctx, &parse_username(&name)?).await?;
            println!("removed all factors and backup codes of {name}");
        }
        UserCommand::Unlock { name } => {
            service.unlock(&ctx, &parse_username(&name)?).await?;
            println!("unlocked {name}");
        }
        UserCommand::Disable { name } => {
            service
                .update_user(
                    &ctx,
                    &parse_username(&name)?,
                    &UserChanges {
                        disabled: Some(true),
                        ..Default::default()
                    },
                )
                .await?;
            println!("disabled {name}");
        }
        UserCommand::Enable { name } => {
            service
                .update_user(
                    &ctx,
                    &parse_username(&name)?,
                    &UserChanges {
                        disabled: Some(false),
                        ..Default::default()
                    },
                )
                .await?;
            println!("enabled {name}");
        }
        UserCommand::TestDuo { name } => {
            // Preauth, then a push through the Auth API; the answer is the user's.
            match service.duo_test_push(&parse_username(&name)?).await? {
                AuthOutcome::Allow => println!("allow"),
                AuthOutcome::Deny(msg) => {
                    println!("deny: {msg}");
                    return Err(Failure::value("Duo did not allow the login"));
                }
                AuthOutcome::Timeout => {
                    println!("timeout");
                    return Err(Failure::value("the push was not answered in time"));
                }
            }
        }
    }
    Ok(())
}
