//! Delivery adapters for the Mailer and SmsSender ports of `twofold-core`.
