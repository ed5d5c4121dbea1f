//! Cross-checks against independent implementations, run as the tools a user or phone would:
//! `oathtool` (OATH Toolkit) for HOTP/TOTP, `zbarimg` (ZBar) reading our QR codes, and the PyPI
//! `yubiotp` package for Yubico OTP tokens. `./scripts/test` installs all three.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroU64;
use std::path::PathBuf;
use std::process::Command;

use proptest::prelude::*;
use twofold_otp::base32;
use twofold_otp::yubico::{AesKey, OtpFields, PrivateId, YubicoError, YubicoOtp};
use twofold_otp::{Algorithm, Digits, Hotp, KeyUri, Secret, Totp};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e}; ./scripts/test installs the tools the tests use")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

fn alg_name(a: Algorithm) -> &'static str {
    match a {
        Algorithm::Sha1 => "sha1",
        Algorithm::Sha256 => "sha256",
        Algorithm::Sha512 => "sha512",
    }
}

fn oathtool_totp(secret: &[u8], alg: Algorithm, digits: u8, period: u64, time: u64) -> String {
    run(Command::new("oathtool")
        .arg(format!("--totp={}", alg_name(alg)))
        .args(["-b", "-d", &digits.to_string(), "-s", &format!("{period}s")])
        .arg(format!("-N@{time}"))
        .arg(base32::encode(secret, true)))
}

fn oathtool_hotp(secret: &[u8], digits: u8, counter: u64) -> String {
    run(Command::new("oathtool")
        .args([
            "--hotp",
            "-b",
            "-d",
            &digits.to_string(),
            "-c",
            &counter.to_string(),
        ])
        .arg(base32::encode(secret, true)))
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ]
}

fn time() -> impl Strategy<Value = u64> {
    // Now-ish, past 2038 and 2106, and far future up to what oathtool's time_t takes.
    prop_oneof![
        1_600_000_000u64..2_000_000_000,
        2_147_483_000u64..2_147_484_000,
        4_294_967_000u64..4_294_968_000,
        1u64 << 40..1u64 << 62,
        Just(i64::MAX as u64),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn totp_matches_oathtool(
        secret in proptest::collection::vec(any::<u8>(), 1..=64),
        alg in algorithm(),
        digits in 6u8..=8,
        period in prop_oneof![Just(1u64), Just(15), Just(30), Just(60), Just(3600), 1u64..100_000],
        time in time(),
    ) {
        let totp = Totp::new(
            &Secret::from_bytes(secret.clone()).unwrap(),
            alg,
            Digits::new(digits.into()).unwrap(),
            NonZeroU64::new(period).unwrap(),
        );
        let ours = totp.generate(time).unwrap().to_string();
        prop_assert_eq!(&ours, &oathtool_totp(&secret, alg, digits, period, time));
        prop_assert_eq!(totp.verify(&ours, time, 0).map(|m| m.step), Some(time / period));
    }

    #[test]
    fn hotp_matches_oathtool(
        secret in proptest::collection::vec(any::<u8>(), 1..=64),
        digits in 6u8..=8,
        counter in prop_oneof![0u64..1000, any::<u64>()],
    ) {
        let hotp = Hotp::new(&Secret::from_bytes(secret.clone()).unwrap(), Algorithm::Sha1, Digits::new(digits.into()).unwrap());
        let ours = hotp.generate(counter).to_string();
        prop_assert_eq!(&ours, &oathtool_hotp(&secret, digits, counter));
        prop_assert_eq!(hotp.verify_range(&ours, counter..=counter), Some(counter));
    }

    /// A code made at step t verifies at every time whose window holds t, and at no other
    /// (unless, by a one-in-a-million chance, another step in the window has the same code: then
    /// the earliest such step is the answer).
    #[test]
    fn window_accepts_exactly_its_steps(
        secret in proptest::collection::vec(any::<u8>(), 10..=32),
        step in 1000u64..1u64 << 40,
        window in 0u64..=5,
        delta in -8i64..=8,
    ) {
        let totp = Totp::new(&Secret::from_bytes(secret).unwrap(), Algorithm::Sha1, Digits::SIX, Totp::DEFAULT_PERIOD);
        let code = totp.generate_step(step).to_string();
        let current = step.checked_add_signed(delta).unwrap();
        let time = current * 30 + 7;
        let lo = current - window;
        let expected = (lo..=current + window).find(|s| totp.generate_step(*s).to_string() == code);
        if delta.unsigned_abs() <= window {
            prop_assert!(expected.is_some());
        }
        let got = totp.verify(&code, time, window);
        prop_assert_eq!(got.map(|m| m.step), expected);
        if let Some(m) = got {
            prop_assert_eq!(m.offset, m.step as i64 - current as i64);
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("twofold-otp-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn qr_pgm_reads_back_with_zbarimg() {
    let secrets = [
        Secret::generate(|b| b.fill(0xa5)),
        Secret::generate_len(32, |b| b.fill(3)),
    ];
    let accounts = ["alice@example.com", "Ünïcødé user", "x"];
    for (i, (secret, account)) in secrets.iter().cycle().zip(accounts).enumerate() {
        let uri = KeyUri::new_totp(Some("Twofold Test".into()), account.into(), secret.clone())
            .to_uri()
            .unwrap();
        let path = scratch(&format!("qr{i}.pgm"));
        std::fs::write(&path, twofold_otp::qr::pgm(&uri, 4).unwrap()).unwrap();
        let read = run(Command::new("zbarimg").args(["--raw", "-q"]).arg(&path));
        assert_eq!(read, uri);
        assert_eq!(KeyUri::parse(&read).unwrap().secret, *secret);
    }
}

fn python() -> PathBuf {
    let venv = std::env::var_os("TWOFOLD_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv")
        });
    let py = venv.join("bin/python");
    assert!(
        py.exists(),
        "{} is missing: ./scripts/test creates the test venv",
        py.display()
    );
    py
}

const YUBIOTP_MAKE: &str = r#"
import sys, binascii
from yubiotp.otp import OTP, encode_otp
for line in sys.stdin:
    key, uid, pub, use, sess, ts, rnd = line.split()
    otp = OTP(binascii.unhexlify(uid), int(use), int(ts), int(sess), int(rnd))
    print(encode_otp(otp, binascii.unhexlify(key), public_id=pub.encode()).decode())
"#;

const YUBIOTP_READ: &str = r#"
import sys, binascii
from yubiotp.otp import decode_otp
for line in sys.stdin:
    key, token = line.split()
    pub, otp = decode_otp(token.encode(), binascii.unhexlify(key))
    print(pub.decode(), binascii.hexlify(otp.uid).decode(), otp.session, otp.counter, otp.timestamp, otp.rand)
"#;

fn python_lines(script: &str, input: &str) -> Vec<String> {
    use std::io::Write;
    let mut child = Command::new(python())
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python exited with {}", out.status);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

struct Case {
    key: [u8; 16],
    uid: [u8; 6],
    public: [u8; 6],
    use_counter: u16,
    session: u8,
    timestamp: u32,
    random: u16,
}

fn cases() -> Vec<Case> {
    // A small deterministic generator (xorshift) keeps the cases reproducible without a clock.
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    (0..64)
        .map(|i| {
            let mut key = [0u8; 16];
            key[..8].copy_from_slice(&next().to_le_bytes());
            key[8..].copy_from_slice(&next().to_le_bytes());
            let mut uid = [0u8; 6];
            uid.copy_from_slice(&next().to_le_bytes()[..6]);
            let mut public = [0u8; 6];
            public.copy_from_slice(&next().to_le_bytes()[..6]);
            let r = next();
            Case {
                key,
                uid,
                public,
                use_counter: if i == 0 { 0x7fff } else { (r & 0x7fff) as u16 },
                session: (r >> 16) as u8,
                timestamp: ((r >> 24) & 0xff_ffff) as u32,
                random: (r >> 48) as u16,
            }
        })
        .collect()
}

#[test]
fn decodes_tokens_made_by_yubiotp() {
    let cases = cases();
    let input: String = cases
        .iter()
        .map(|c| {
            let public = twofold_otp::yubico::modhex_encode(&c.public);
            format!(
                "{} {} {public} {} {} {} {}\n",
                hex(&c.key),
                hex(&c.uid),
                c.use_counter,
                c.session,
                c.timestamp,
                c.random
            )
        })
        .collect();
    let tokens = python_lines(YUBIOTP_MAKE, &input);
    assert_eq!(tokens.len(), cases.len(), "yubiotp made {tokens:?}");
    for (c, token) in cases.iter().zip(&tokens) {
        assert_eq!(token.len(), 44);
        let otp = YubicoOtp::parse(token).unwrap();
        assert_eq!(otp.public_id(), c.public);
        let key = AesKey::from_bytes(c.key);
        let f = otp.decrypt(&key).unwrap();
        assert!(f.check_private_id(&PrivateId(c.uid)).is_ok());
        assert_eq!(f.counter().use_counter, c.use_counter);
        assert_eq!(f.counter().session_counter, c.session);
        assert_eq!(f.timestamp, c.timestamp);
        assert_eq!(f.random, c.random);

        // Another key: the CRC fails.
        let mut other = c.key;
        other[0] ^= 1;
        assert_eq!(
            otp.decrypt(&AesKey::from_bytes(other)),
            Err(YubicoError::Crc)
        );
        // Each single changed character of the token: the CRC fails.
        for pos in [12, 20, 43] {
            let mut chars: Vec<char> = token.chars().collect();
            chars[pos] = if chars[pos] == 'c' { 'b' } else { 'c' };
            let changed: String = chars.into_iter().collect();
            assert_eq!(
                YubicoOtp::parse(&changed).unwrap().decrypt(&key),
                Err(YubicoError::Crc)
            );
        }
        // Bad modhex and wrong lengths are typed errors before any decryption.
        assert!(matches!(
            YubicoOtp::parse(&token.replacen(|_| true, "a", 1)),
            Err(YubicoError::Modhex { position: 0, .. })
        ));
        assert_eq!(YubicoOtp::parse(&token[1..]), Err(YubicoError::Length(43)));
        assert_eq!(
            YubicoOtp::parse(&format!("{token}c")),
            Err(YubicoError::Length(45))
        );
    }
}

#[test]
fn yubiotp_decodes_our_tokens() {
    let cases = cases();
    let input: String = cases
        .iter()
        .map(|c| {
            let fields = OtpFields {
                private_id: PrivateId(c.uid),
                use_counter_raw: c.use_counter,
                timestamp: c.timestamp,
                session_counter: c.session,
                random: c.random,
            };
            let otp = fields.encrypt(&AesKey::from_bytes(c.key), &c.public);
            format!("{} {}\n", hex(&c.key), otp.to_modhex())
        })
        .collect();
    let lines = python_lines(YUBIOTP_READ, &input);
    // One line per token: `zip` below would pass over missing ones in silence.
    assert_eq!(lines.len(), cases.len(), "yubiotp answered {lines:?}");
    for (c, line) in cases.iter().zip(&lines) {
        let expected = format!(
            "{} {} {} {} {} {}",
            twofold_otp::yubico::modhex_encode(&c.public),
            hex(&c.uid),
            c.use_counter,
            c.session,
            c.timestamp,
            c.random
        );
        assert_eq!(line, &expected);
    }
}
