//! Integration tests of the `twofold` binary: the real server started on port 0 with a fresh
//! database (SQLite, and PostgreSQL from `scripts/with-postgres`), driven over HTTP and through the
//! CLI, with codes computed by oathtool as an authenticator app would.

// Test code: a panic is the failure report, and the harness's items are public only to its own
// modules.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod admin_i18n;
mod api;
mod backup;
mod cli;
mod cluster;
mod codes;
mod duo;
mod forward_auth;
mod forward_auth_proxies;
mod hardening;
mod hotp;
mod import;
mod import_pskc;
mod languages;
mod master_key;
mod net;
mod otp_cli;
mod portal;
mod portal_language;
mod radius;
mod radius_malformed;
mod remember;
mod rotation;
mod sms;
mod smtp;
mod support;
mod webauthn;
mod wsapi;
mod yubikey;
