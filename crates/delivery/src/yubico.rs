//! A client of Yubico validation protocol 2.0, for `methods.yubikey.mode = server`.
