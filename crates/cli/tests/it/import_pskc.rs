//! `twofold import --format pskc`: RFC 6030 key containers written by python-pskc (the library
//! privacyIDEA and token vendors' tools use), plain and password-protected, become factors
//! whose codes — computed by oathtool — validate through the API. Bad entries are refused one by
//! one with the line their KeyPackage starts on; a wrong password, a truncated or binary file, a
//! DOCTYPE or a hostile PBKDF2 count is refused whole, before anything is written.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::import::{counts, enable_hotp, factors, import, ok, text, write};
use crate::on_both;
use crate::support::{Db, Env, now, oathtool};
use crate::yubikey::venv_python;

on_both!(
    pskc_files_written_by_python_pskc_import_and_validate,
    bad_pskc_entries_are_refused_one_by_one,
    a_pre_shared_key_opens_its_file,
);

/// Not about the database: run once.
#[test]
fn files_that_are_not_pskc_are_refused_before_anything_is_written() {
    not_pskc_files(Db::Sqlite);
}

/// Not about the database: run once.
#[test]
fn hostile_pskc_files_and_password_files_are_refused_quickly() {
    hostile_files(Db::Sqlite);
}

/// Not about the database: run once.
#[test]
fn an_encrypted_file_takes_no_plain_secret_and_a_plain_file_no_password() {
    plain_and_encrypted_mixed(Db::Sqlite);
}

/// RFC 4226's and RFC 6238's test keys, and two more.
const S1: &str = "3132333435363738393031323334353637383930";
const S2: &str = "3132333435363738393031323334353637383930313233343536373839303132";
const S3: &str = "6162636465666768696a6b6c6d6e6f7071727374";
const S4: &str = "0102030405060708090a0b0c0d0e0f1011121314";
const S5: &str = "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4";

const TOTP: &str = "urn:ietf:params:xml:ns:keyprov:pskc:totp";
const HOTP: &str = "urn:ietf:params:xml:ns:keyprov:pskc:hotp";
const PASSWORD: &str = "correct horse battery staple";

/// Writes `spec` (see pskc_write.py) as a PSKC file with python-pskc.
fn pskc_file(dir: &Path, name: &str, spec: &Value) -> PathBuf {
    let path = dir.join(name);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/pskc_write.py");
    let out = Command::new(venv_python())
        .arg(script)
        .arg(&path)
        .arg(spec.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pskc_write.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// The TOTP code of `steps` periods from now, of a hex secret.
fn totp_hex(secret: &str, alg: &str, digits: u8, period: u64, steps: u64) -> String {
    let at = now() + steps * period;
    oathtool(&[
        &format!("--totp={alg}"),
        "-d",
        &digits.to_string(),
        "-s",
        &format!("{period}s"),
        &format!("-N@{at}"),
        secret,
    ])
}

/// The SHA-1 HOTP code of `counter`, of a hex secret.
fn hotp_hex(secret: &str, digits: u8, counter: u64) -> String {
    oathtool(&[
        "--hotp",
        "-d",
        &digits.to_string(),
        "-c",
        &counter.to_string(),
        secret,
    ])
}

/// The line each `<pskc:KeyPackage>` of `file` starts on.
fn package_lines(file: &Path) -> Vec<usize> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "<pskc:KeyPackage>")
        .map(|(i, _)| i + 1)
        .collect()
}

fn pskc_files_written_by_python_pskc_import_and_validate(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let dir = env.data_dir();
    let plain = pskc_file(
        dir,
        "plain.pskc",
        &json!({"keys": [
            {"id": "a1", "algorithm": TOTP, "secret_hex": S1, "key_userid": "alice",
             "digits": 6, "interval": 30, "friendly_name": "Acme phone"},
            {"id": "a2", "algorithm": TOTP, "secret_hex": S2, "key_userid": "alice",
             "digits": 8, "interval": 60, "suite": "HMAC-SHA256", "t0": 0},
            // The `#hotp` form some vendors write; the user on the device.
            {"id": "b1", "algorithm": "urn:ietf:params:xml:ns:keyprov:pskc#hotp",
             "secret_hex": S3, "device_userid": "bob", "digits": 6, "counter": 5,
             "manufacturer": "Feitian", "serial": "C200-1"},
        ]}),
    );
    let encrypted = pskc_file(
        dir,
        "protected.pskc",
        &json!({"password": PASSWORD, "fields": ["secret", "counter", "time_drift"], "keys": [
            {"id": "c1", "algorithm": TOTP, "secret_hex": S4, "key_userid": "carol",
             "digits": 6, "interval": 60, "suite": "HMAC-SHA256", "drift": 5},
            {"id": "d1", "algorithm": HOTP, "secret_hex": S5, "key_userid": "dave",
             "digits": 8, "counter": 3},
        ]}),
    );
    // The secrets, dave's counter and carol's drift.
    assert_eq!(
        std::fs::read_to_string(&encrypted)
            .unwrap()
            .matches("<pskc:EncryptedValue>")
            .count(),
        4,
        "python-pskc did not encrypt what it was asked to"
    );
    let lines = package_lines(&plain);
    assert_eq!(lines.len(), 3);

    // A dry run writes nothing and says what the real run then does.
    let before = env.database_dump();
    let dry = import(&env, &plain, "pskc", &["--dry-run", "--create-users"]);
    let (dry_out, dry_err) = text(&dry);
    assert!(dry.status.success(), "{dry_err}");
    assert!(env.database_dump() == before, "a dry run wrote");
    assert!(
        dry_out.contains(&format!(
            "plain.pskc:{}: would import a hotp key for bob",
            lines[2]
        )),
        "{dry_out}"
    );
    let real = import(&env, &plain, "pskc", &["--create-users"]);
    let (real_out, real_err) = text(&real);
    assert!(real.status.success(), "{real_err}");
    assert!(real_out.contains(&counts(2, 3, 0, 0)), "{real_out}");
    assert_eq!(
        dry_out
            .replace("would import", "imported")
            .replace("would create", "created")
            .replace("dry run, nothing written: ", ""),
        real_out
    );

    // Password-protected: without the password, or with a wrong one, nothing is written.
    let before = env.database_dump();
    let out = import(&env, &encrypted, "pskc", &["--create-users"]);
    assert!(!out.status.success());
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("is password-protected: give the password with --password-file"),
        "{stderr}"
    );
    let wrong = write(dir, "wrong-password", "Tr0ub4dor&3\n");
    let out = import(
        &env,
        &encrypted,
        "pskc",
        &["--create-users", "--password-file", wrong.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let (stdout, stderr) = text(&out);
    assert!(
        stderr.contains("protected.pskc: the PSKC password is wrong")
            && stderr.contains("nothing was imported"),
        "{stderr}"
    );
    assert!(!stdout.contains("users created"), "{stdout}");
    assert!(env.database_dump() == before, "a wrong password wrote");

    let right = write(dir, "password", &format!("{PASSWORD}\n"));
    let out = import(
        &env,
        &encrypted,
        "pskc",
        &["--create-users", "--password-file", right.to_str().unwrap()],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(&counts(2, 2, 0, 0)), "{stdout}");

    // Again, the password from the environment this time: nothing new.
    let out = import(&env, &plain, "pskc", &["--create-users"]);
    assert!(
        text(&out).0.contains(&counts(0, 0, 3, 0)),
        "{:?}",
        text(&out)
    );
    let out = env
        .command()
        .args(["import", encrypted.to_str().unwrap(), "--format", "pskc"])
        .env("TWOFOLD_IMPORT_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(&counts(0, 0, 2, 0)), "{stdout}");
    assert!(
        stdout.contains("carol already has this totp key"),
        "{stdout}"
    );

    let server = env.serve();
    let api = server.api(&token);
    enable_hotp(&api);
    let alice = factors(&api, "alice");
    assert_eq!(alice.len(), 2, "{alice:?}");
    assert!(
        alice.iter().any(|f| f["label"] == "Acme phone"),
        "{alice:?}"
    );
    assert_eq!(factors(&api, "bob")[0]["label"], "Feitian C200-1");
    assert_eq!(
        api.validate("alice", &totp_hex(S1, "sha1", 6, 30, 0)),
        ok("totp")
    );
    assert_eq!(
        api.validate("alice", &totp_hex(S2, "sha256", 8, 60, 0)),
        ok("totp")
    );
    // The file's counter is the one the token's next code uses.
    assert_eq!(api.validate("bob", &hotp_hex(S3, 6, 4))["ok"], false);
    assert_eq!(api.validate("bob", &hotp_hex(S3, 6, 5)), ok("hotp"));
    // Carol's token runs 5 steps ahead, as the old server had learned: its code of now + 5
    // steps works, far outside the window of one step around now.
    assert_eq!(
        api.validate("carol", &totp_hex(S4, "sha256", 6, 60, 5)),
        ok("totp")
    );
    assert_eq!(api.validate("dave", &hotp_hex(S5, 8, 3)), ok("hotp"));
}

fn a_pre_shared_key_opens_its_file(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let dir = env.data_dir();
    let key = "12345678901234567890123456789012";
    let file = pskc_file(
        dir,
        "preshared.pskc",
        &json!({"preshared_hex": key, "keys": [
            {"id": "f1", "algorithm": TOTP, "secret_hex": S2, "key_userid": "frank",
             "digits": 7, "interval": 30, "suite": "HMAC-SHA512"}]}),
    );
    let before = env.database_dump();
    let out = import(&env, &file, "pskc", &["--create-users"]);
    assert!(
        text(&out).1.contains(
            "encrypted with a pre-shared key named \"Pre-shared-key\": give \
             it in hex with --key-file FILE"
        ),
        "{:?}",
        text(&out)
    );
    let wrong = write(dir, "wrong.key", "00112233445566778899aabbccddeeff\n");
    let out = import(
        &env,
        &file,
        "pskc",
        &["--create-users", "--key-file", wrong.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(
        text(&out)
            .1
            .contains("preshared.pskc: the PSKC key is wrong"),
        "{:?}",
        text(&out)
    );
    assert!(env.database_dump() == before, "a wrong key wrote");
    let right = write(dir, "right.key", &format!("{key}\n"));
    let out = import(
        &env,
        &file,
        "pskc",
        &["--create-users", "--key-file", right.to_str().unwrap()],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(
        text(&out).0.contains(&counts(1, 1, 0, 0)),
        "{:?}",
        text(&out)
    );
    let server = env.serve();
    let api = server.api(&token);
    assert_eq!(
        api.validate("frank", &totp_hex(S2, "sha512", 7, 30, 0)),
        ok("totp")
    );
}

fn bad_pskc_entries_are_refused_one_by_one(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["user", "add", "erin"]);
    let dir = env.data_dir();
    let good = json!({"id": "ok", "algorithm": TOTP, "secret_hex": S1, "key_userid": "erin",
                      "digits": 6, "interval": 30});
    let bad = [
        json!({"id": "yk", "algorithm": "http://www.yubico.com/#yubikey-aes", "secret_hex": S1,
               "key_userid": "erin"}),
        json!({"id": "nine", "algorithm": TOTP, "secret_hex": S2, "key_userid": "erin",
               "digits": 9}),
        json!({"id": "short", "algorithm": HOTP, "secret_hex": "0102030405",
               "key_userid": "erin", "digits": 6}),
        json!({"id": "nobody", "algorithm": HOTP, "secret_hex": S3, "digits": 6}),
        json!({"id": "t0", "algorithm": TOTP, "secret_hex": S4, "key_userid": "erin",
               "t0": 100}),
    ];
    let mut keys = vec![good];
    keys.extend(bad.iter().cloned());
    let file = pskc_file(dir, "bad.pskc", &json!({ "keys": keys }));
    let lines = package_lines(&file);
    let out = import(&env, &file, "pskc", &[]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    for (i, why) in [
        (
            2,
            "(Key Id \"yk\"): unknown algorithm \"http://www.yubico.com/#yubikey-aes\"",
        ),
        (3, "(Key Id \"nine\"): \"9\" digits: a code has 6, 7 or 8"),
        (
            4,
            "(Key Id \"short\"): the secret has 40 bits; at least 80 are required",
        ),
        (5, "(Key Id \"nobody\"): it names no user (<UserId>"),
        (6, "(Key Id \"t0\"): its <Time> (T0) is 100"),
    ] {
        let expected = format!("bad.pskc:{}: refused: KeyPackage {i} {why}", lines[i - 1]);
        assert!(stderr.contains(&expected), "{expected}\n{stderr}");
    }
    assert!(stdout.contains(&counts(0, 1, 0, 5)), "{stdout}");
    assert!(stderr.contains("5 line(s) of"), "{stderr}");

    // Only the bad entries: nothing at all is written.
    let only_bad = pskc_file(dir, "only-bad.pskc", &json!({ "keys": bad }));
    let before = env.database_dump();
    let out = import(&env, &only_bad, "pskc", &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).0.contains(&counts(0, 0, 0, 5)),
        "{:?}",
        text(&out)
    );
    assert!(env.database_dump() == before, "refused entries wrote");
}

fn not_pskc_files(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["user", "add", "alice"]);
    let dir = env.data_dir();
    let good = pskc_file(
        dir,
        "good.pskc",
        &json!({"password": PASSWORD, "iterations": 1000, "keys": [
            {"id": "a", "algorithm": TOTP, "secret_hex": S1, "key_userid": "alice"}]}),
    );
    let good_text = std::fs::read_to_string(&good).unwrap();
    let truncated = write(dir, "truncated.pskc", &good_text[..good_text.len() * 2 / 3]);
    let hostile = write(
        dir,
        "iterations.pskc",
        &good_text.replace(
            "<IterationCount>1000</IterationCount>",
            "<IterationCount>4000000000</IterationCount>",
        ),
    );
    assert!(
        std::fs::read_to_string(&hostile)
            .unwrap()
            .contains("4000000000")
    );
    let laughs = write(
        dir,
        "laughs.pskc",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE KeyContainer [\n\
         <!ENTITY a \"aaaaaaaaaa\">\n<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n\
         <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n]>\n\
         <KeyContainer xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\" Version=\"1.0\">&c;\
         </KeyContainer>\n",
    );
    let external = write(
        dir,
        "external.pskc",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE x SYSTEM \"file:///etc/passwd\">\n<x/>\n",
    );
    let otpauth = write(
        dir,
        "keys.txt",
        "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n",
    );
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let garbage: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let binary = dir.join("garbage.bin");
    std::fs::write(&binary, &garbage).unwrap();
    let password = write(dir, "password", PASSWORD);

    let before = env.database_dump();
    let pw = ["--password-file", password.to_str().unwrap()];
    for (file, why) in [
        (&truncated, "it is not well-formed XML"),
        (&binary, "it is not UTF-8 text (a binary file?)"),
        (&laughs, "the file has a DOCTYPE"),
        (&external, "the file has a DOCTYPE"),
        (&otpauth, "it is not well-formed XML"),
        (
            &hostile,
            "the file asks for 4000000000 PBKDF2 iterations; at most 10000000",
        ),
    ] {
        #[allow(clippy::disallowed_methods)]
        let start = std::time::Instant::now();
        let out = import(&env, file, "pskc", &pw);
        let took = start.elapsed();
        let (stdout, stderr) = text(&out);
        assert!(!out.status.success());
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(stderr.contains(&format!("{name}: {why}")), "{stderr}");
        assert!(stderr.contains("nothing was imported"), "{stderr}");
        assert!(!stdout.contains("users created"), "{stdout}");
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    }
    // The password is only for PSKC files.
    let out = import(&env, &otpauth, "otpauth", &pw);
    assert!(
        text(&out)
            .1
            .contains("--password-file and --key-file are for --format pskc"),
        "{:?}",
        text(&out)
    );
    // Each PSKC key names its user: --username is refused rather than ignored.
    let mut args = pw.to_vec();
    args.extend(["--username", "alice"]);
    let out = import(&env, &good, "pskc", &args);
    assert!(
        text(&out).1.contains("--username is not for --format pskc"),
        "{:?}",
        text(&out)
    );
    assert!(env.database_dump() == before, "a refused file wrote");
    // The good file, for contrast, imports: from standard input too.
    let line = package_lines(&good)[0];
    let mut args = vec!["import", "-", "--format", "pskc", "--dry-run"];
    args.extend(pw);
    let out = env.cli_stdin(&args, &good_text);
    assert!(
        text(&out)
            .0
            .contains(&format!("-:{line}: would import a totp key for alice")),
        "{:?}",
        text(&out)
    );
    let out = import(&env, &good, "pskc", &pw);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(text(&out).0.contains(&counts(0, 1, 0, 0)));
}

/// Runs `import FILE --format pskc ARGS` expecting the whole file refused with `why`, quickly
/// and before anything is written.
fn refused_whole(env: &Env, file: &Path, args: &[&str], why: &str) {
    let before = env.database_dump();
    #[allow(clippy::disallowed_methods)]
    let start = std::time::Instant::now();
    let out = import(env, file, "pskc", args);
    let took = start.elapsed();
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(stderr.contains(why), "{why}\n{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert!(stderr.len() < 1000, "{}", &stderr[..1000]);
    assert!(!stdout.contains("users created"), "{stdout}");
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    assert!(env.database_dump() == before, "a refused file wrote");
}

fn hostile_files(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["user", "add", "alice"]);
    let dir = env.data_dir();
    let good = pskc_file(
        dir,
        "good.pskc",
        &json!({"keys": [{"id": "a", "algorithm": TOTP, "secret_hex": S1,
                          "key_userid": "alice"}]}),
    );
    let good_text = std::fs::read_to_string(&good).unwrap();
    let root = "<pskc:KeyContainer ";
    assert!(good_text.contains(root), "{good_text}");

    // 5,000 namespace declarations on one element, in under 100 KB.
    let xmlns: String = (0..5_000).map(|i| format!(" xmlns:n{i}='u'")).collect();
    let namespaces = write(
        dir,
        "namespaces.pskc",
        &good_text.replacen(root, &format!("<pskc:KeyContainer{xmlns} "), 1),
    );
    assert!(std::fs::metadata(&namespaces).unwrap().len() < 100_000);
    refused_whole(
        &env,
        &namespaces,
        &[],
        "namespaces.pskc: the file declares more than 64 XML namespaces: not a PSKC file",
    );
    // 80,000 attributes on one element.
    let attributes: String = (0..80_000).map(|i| format!(" a{i}=\"{i}\"")).collect();
    let many = write(
        dir,
        "attributes.pskc",
        &good_text.replacen("<pskc:Key ", &format!("<pskc:Key{attributes} "), 1),
    );
    refused_whole(
        &env,
        &many,
        &[],
        "attributes.pskc: a tag has more than 64 attributes: not a PSKC file",
    );
    // A value of 1 MB is repeated cut short.
    let long = "V".repeat(1 << 20);
    let version = write(
        dir,
        "version.pskc",
        &good_text.replacen("Version=\"1.0\"", &format!("Version=\"{long}\""), 1),
    );
    refused_whole(
        &env,
        &version,
        &[],
        &format!(
            "version.pskc: PSKC version \"{}…\" is not supported",
            &long[..64]
        ),
    );

    // Password and key files are read up to 4096 bytes: a larger one is refused at once.
    let big = write(dir, "big-password", &"p".repeat(1 << 20));
    for (flag, file) in [
        ("--password-file", big.to_str().unwrap()),
        ("--password-file", "/dev/zero"),
        ("--key-file", "/dev/zero"),
    ] {
        refused_whole(
            &env,
            &good,
            &[flag, file],
            &format!("{file} is larger than 4096 bytes: not a password or key file"),
        );
    }
    // The good file, for contrast, imports.
    let out = import(&env, &good, "pskc", &["--dry-run"]);
    assert!(out.status.success(), "{:?}", text(&out));
}

fn plain_and_encrypted_mixed(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["user", "add", "alice"]);
    env.cli_ok(&["user", "add", "mallory"]);
    let dir = env.data_dir();
    let plain = pskc_file(
        dir,
        "plain.pskc",
        &json!({"keys": [{"id": "m", "algorithm": TOTP, "secret_hex": S3,
                          "key_userid": "mallory"}]}),
    );
    let encrypted = pskc_file(
        dir,
        "encrypted.pskc",
        &json!({"password": PASSWORD, "iterations": 1000, "keys": [
            {"id": "a", "algorithm": TOTP, "secret_hex": S1, "key_userid": "alice"}]}),
    );
    let password = write(dir, "password", PASSWORD);
    let pw = ["--password-file", password.to_str().unwrap()];

    // A password given for a file that is not encrypted: refused, not ignored.
    refused_whole(
        &env,
        &plain,
        &pw,
        "plain.pskc: the file is not encrypted, but a password was given: refusing",
    );
    let out = env
        .command()
        .args(["import", plain.to_str().unwrap(), "--format", "pskc"])
        .env("TWOFOLD_IMPORT_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).1.contains(
            "the file is not encrypted, but a password was given: refusing (from \
                 TWOFOLD_IMPORT_PASSWORD); nothing was imported"
        ),
        "{:?}",
        text(&out)
    );
    let key = write(dir, "key", "12345678901234567890123456789012\n");
    refused_whole(
        &env,
        &plain,
        &["--key-file", key.to_str().unwrap()],
        "plain.pskc: the file is not encrypted, but a key was given: refusing",
    );

    // A plain KeyPackage put into an encrypted file, past its MACs: that entry is refused, the
    // file's own goes on.
    let plain_text = std::fs::read_to_string(&plain).unwrap();
    let start = plain_text.find("<pskc:KeyPackage>").unwrap();
    let end = plain_text.find("</pskc:KeyPackage>").unwrap() + "</pskc:KeyPackage>".len();
    let added = &plain_text[start..end];
    assert!(added.contains("<pskc:PlainValue>"), "{added}");
    let encrypted_text = std::fs::read_to_string(&encrypted).unwrap();
    let close = encrypted_text.find("</pskc:KeyContainer>").unwrap();
    let mixed = write(
        dir,
        "mixed.pskc",
        &format!(
            "{}{added}\n{}",
            &encrypted_text[..close],
            &encrypted_text[close..]
        ),
    );
    let line = package_lines(&mixed)[1];
    let before = env.database_dump();
    let out = import(&env, &mixed, "pskc", &pw);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!(
            "mixed.pskc:{line}: refused: KeyPackage 2 (Key Id \"m\"): its <Secret> is not \
             encrypted in an encrypted file, so no MAC covers it: the file was altered"
        )),
        "{stderr}"
    );
    assert!(stdout.contains(&counts(0, 1, 0, 1)), "{stdout}");
    assert!(env.database_dump() != before);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    assert_eq!(factors(&api, "alice").len(), 1);
    assert!(factors(&api, "mallory").is_empty());
}
