//! Speed of the OTP engine: TOTP generate and verify (window ±1) per algorithm, base32 decoding
//! and Yubico OTP decryption, with raw HMAC-SHA1 in the same run as the floor; WebAuthn
//! assertions (reading the JSON, and the whole check with its signature) per algorithm.
//!
//! `cargo bench -p twofold-otp`. The target: SHA-1 verify ±1 under 2 µs and within 1.2×
//! of three raw HMAC-SHA1 computations.

// Bench code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use twofold_otp::yubico::{AesKey, OtpFields, PrivateId, YubicoOtp};
use twofold_otp::{Algorithm, Digits, Secret, Totp, base32};

const TIME: u64 = 1_700_000_000;

fn raw_hmac_sha1(c: &mut Criterion) {
    let key = [7u8; 20];
    c.bench_function("hmac_sha1/raw (key setup + 8-byte message)", |b| {
        b.iter(|| {
            let mut m = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(black_box(&key)).unwrap();
            m.update(black_box(&TIME.to_be_bytes()));
            m.finalize().into_bytes()
        })
    });
    c.bench_function("hmac_sha1/raw x3", |b| {
        b.iter(|| {
            for i in 0..3u64 {
                let mut m = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(black_box(&key)).unwrap();
                m.update(black_box(&(TIME + i).to_be_bytes()));
                black_box(m.finalize().into_bytes());
            }
        })
    });
}

fn totp(c: &mut Criterion) {
    for (name, alg, len) in [
        ("sha1", Algorithm::Sha1, 20),
        ("sha256", Algorithm::Sha256, 32),
        ("sha512", Algorithm::Sha512, 64),
    ] {
        let secret = Secret::generate_len(len, |b| b.fill(0x5a));
        let t = Totp::new(&secret, alg, Digits::SIX, Totp::DEFAULT_PERIOD);
        let right = t.generate(TIME).unwrap().to_string();
        let wrong = if right == "000000" {
            "000001".to_owned()
        } else {
            "000000".to_owned()
        };
        c.bench_function(&format!("totp/{name}/generate"), |b| {
            b.iter(|| t.generate(black_box(TIME)))
        });
        c.bench_function(&format!("totp/{name}/verify ±1 (right code)"), |b| {
            b.iter(|| t.verify(black_box(&right), black_box(TIME), 1))
        });
        c.bench_function(&format!("totp/{name}/verify ±1 (wrong code)"), |b| {
            b.iter(|| t.verify(black_box(&wrong), black_box(TIME), 1))
        });
        c.bench_function(
            &format!("totp/{name}/new + verify ±1 (from the stored secret)"),
            |b| {
                b.iter(|| {
                    Totp::new(black_box(&secret), alg, Digits::SIX, Totp::DEFAULT_PERIOD).verify(
                        black_box(&wrong),
                        TIME,
                        1,
                    )
                })
            },
        );
    }
}

fn decoding(c: &mut Criterion) {
    let text = base32::encode(&[0xa7; 20], false);
    c.bench_function("base32/decode 32 chars (160 bits)", |b| {
        b.iter(|| base32::decode(black_box(&text)))
    });
    let key = AesKey::from_bytes([9; 16]);
    let otp = OtpFields {
        private_id: PrivateId([1, 2, 3, 4, 5, 6]),
        use_counter_raw: 3,
        timestamp: 0x123456,
        session_counter: 1,
        random: 77,
    }
    .encrypt(&key, &[0x11; 6])
    .to_modhex();
    c.bench_function("yubico/parse + decrypt + crc", |b| {
        b.iter(|| YubicoOtp::parse(black_box(&otp)).and_then(|o| o.decrypt(&key)))
    });
}

/// A WebAuthn assertion from the test vectors (made with Python `cryptography`): reading the
/// browser's JSON, and the whole relying-party check with its signature, per algorithm.
fn webauthn(c: &mut Criterion) {
    use twofold_otp::webauthn::{AssertionResponse, RelyingParty, UserVerification};
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("../src/webauthn/testdata/vectors.json")).unwrap();
    for v in vectors.as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let hex = |k: &str| -> Vec<u8> {
            let t = v[k].as_str().unwrap();
            (0..t.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&t[i..i + 2], 16).unwrap())
                .collect()
        };
        let key = hex("public_key");
        let challenge = hex("assertion_challenge");
        let json = serde_json::to_vec(&v["assertion"]).unwrap();
        let origins = [v["origin"].as_str().unwrap().to_owned()];
        let rp = RelyingParty {
            id: v["rp_id"].as_str().unwrap(),
            origins: &origins,
        };
        let response = AssertionResponse::from_json(&json).unwrap();
        twofold_otp::webauthn::verify_assertion(
            &rp,
            &challenge,
            UserVerification::Preferred,
            &key,
            &response,
        )
        .unwrap();
        c.bench_function(&format!("webauthn/{name}: read the JSON"), |b| {
            b.iter(|| AssertionResponse::from_json(black_box(&json)))
        });
        c.bench_function(&format!("webauthn/{name}: read + verify"), |b| {
            b.iter(|| {
                let r = AssertionResponse::from_json(black_box(&json)).unwrap();
                twofold_otp::webauthn::verify_assertion(
                    &rp,
                    &challenge,
                    UserVerification::Preferred,
                    &key,
                    &r,
                )
            })
        });
    }
}

criterion_group!(benches, raw_hmac_sha1, totp, decoding, webauthn);
criterion_main!(benches);
