//! Twofold's domain: who the users are, what factors they hold, what the owner's settings say, and
//! the flows that enrol, confirm, validate and reset second factors.
//!
//! The core does no I/O of its own. It reaches the database through the [`store::Store`] port,
//! reads time through [`clock::Clock`] and randomness through [`crypto::Rng`]; the `store`, `web`
//! and `cli` crates plug real implementations in. Nothing here knows about SQL or HTTP.

pub mod access;
pub mod audit;
pub mod backup;
pub mod clock;
pub mod code;
pub mod crypto;
pub mod delivery;
pub mod duo;
pub mod error;
pub mod factor;
pub mod hashing;
pub mod identity;
pub mod service;
pub mod session;
pub mod settings;
pub mod store;
pub mod token;
pub mod yubico;

pub use error::{Error, ErrorKind, Result};
pub use service::Service;
/// The message catalogues and the choice of a language.
pub use twofold_i18n as i18n;
