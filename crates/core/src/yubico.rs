//! The port to Yubico validation servers (`methods.yubikey.mode = server`).
