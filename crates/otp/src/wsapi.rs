//! Yubico validation protocol 2.0 (`/wsapi/2.0/verify`): requests, answers and their signatures.
