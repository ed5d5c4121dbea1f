//! `twofold import`: keys from other systems become confirmed factors whose codes — computed by
//! oathtool, as the old system's users' apps and tokens compute them — validate through the
//! API. Files come from real producers where there is one (Debian's google-authenticator
//! writes ~/.google_authenticator). Bad lines are refused one by one with their line number,
//! files that are not key files are refused before anything is read whole, a second run imports
//! nothing and a dry run writes nothing (the database's dumps are compared).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::on_both;
use crate::support::{Api, Db, Env, now, oathtool};
use twofold_core::service::{IMPORT_BATCH_KEYS, MAX_IMPORT_KEYS};

on_both!(
    otpauth_keys_validate_with_oathtool_and_a_second_run_imports_nothing,
    files_written_by_google_authenticator_import_and_validate,
    users_oath_csv_and_google_authenticator_exports,
    bad_lines_are_refused_one_by_one_and_write_nothing,
    dry_run_writes_nothing_and_reports_what_a_real_run_does,
    a_user_whose_factors_fail_is_not_created,
    long_files_are_imported_batch_by_batch,
);

/// A key refused (here: its user would hold more than 20 factors) brings none of its scratch
/// codes in as backup codes.
#[test]
fn a_refused_key_brings_no_scratch_codes() {
    let env = Env::new(Db::Sqlite);
    let token = env.token("app", "admin");
    env.cli_ok(&["user", "add", "carol"]);
    let dir = env.data_dir();
    // Twenty keys: carol holds the most factors a user may.
    let csv: String = (0..20)
        .map(|i| {
            format!(
                "carol,totp,{},,,,\n",
                &"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[i..i + 12].repeat(2)
            )
        })
        .collect();
    let file = write(dir, "twenty.csv", &csv);
    let out = import(&env, &file, "csv", &[]);
    assert!(out.status.success(), "{:?}", text(&out));
    let ga = dir.join("carol.google_authenticator");
    let ga_text = google_authenticator(&ga, &["-t", "-d", "-r", "3", "-R", "30", "-w", "3"]);
    let scratch: Vec<&str> = ga_text
        .lines()
        .filter(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    assert!(!scratch.is_empty(), "{ga_text}");
    let out = import(
        &env,
        &ga,
        "pam-google-authenticator",
        &["--username", "carol"],
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("more than 20 factors"), "{stderr}");
    assert!(!stdout.contains("scratch code"), "{stdout}");
    let server = env.serve();
    let api = server.api(&token);
    assert_eq!(
        api.validate("carol", scratch[0])["ok"],
        false,
        "a refused key's scratch code"
    );
}

/// Not about the database: run once.
#[test]
fn binary_and_oversized_files_are_refused_quickly() {
    binary_and_oversized_files(Db::Sqlite);
}

const SHA1_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const SHA256_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA";
const HOTP_SECRET: &str = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U";

/// The TOTP code of now.
pub(crate) fn totp(secret: &str, alg: &str, digits: u8, period: u64) -> String {
    oathtool(&[
        &format!("--totp={alg}"),
        "-b",
        "-d",
        &digits.to_string(),
        "-s",
        &format!("{period}s"),
        &format!("-N@{}", now()),
        secret,
    ])
}

/// The SHA-1 HOTP code of `counter`.
pub(crate) fn hotp(secret: &str, digits: u8, counter: u64) -> String {
    oathtool(&[
        "--hotp",
        "-b",
        "-d",
        &digits.to_string(),
        "-c",
        &counter.to_string(),
        secret,
    ])
}

pub(crate) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

pub(crate) fn import(env: &Env, file: &Path, format: &str, extra: &[&str]) -> Output {
    let f = file.to_str().unwrap();
    let mut args = vec!["import", f, "--format", format];
    args.extend_from_slice(extra);
    env.cli(&args)
}

pub(crate) fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub(crate) fn counts(created: usize, imported: usize, skipped: usize, refused: usize) -> String {
    format!(
        "users created: {created}, factors imported: {imported}, skipped: {skipped}, refused: \
         {refused}"
    )
}

pub(crate) fn enable_hotp(api: &Api) {
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.hotp.active": true, "methods.hotp.clients": true, "methods.hotp.admins": true}),
    );
    assert_eq!(r.status, 200, "{r:?}");
}

pub(crate) fn ok(method: &str) -> Value {
    json!({"ok": true, "method": method})
}

pub(crate) fn factors(api: &Api, user: &str) -> Vec<Value> {
    let r = api.get(&format!("/api/v1/users/{user}"));
    assert_eq!(r.status, 200, "{r:?}");
    r.json["factors"].as_array().cloned().unwrap_or_default()
}

fn otpauth_keys_validate_with_oathtool_and_a_second_run_imports_nothing(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    env.cli_ok(&["user", "add", "alice"]);
    let file = write(
        env.data_dir(),
        "keys.txt",
        &format!(
            "# exported keys\n\
             otpauth://totp/Acme:alice?secret={SHA1_SECRET}&issuer=Acme\n\
             \n\
             otpauth://totp/Vault:alice?secret={SHA256_SECRET}&algorithm=SHA256&digits=8&period=60\n\
             bob,otpauth://hotp/Fob:someone?secret={HOTP_SECRET}&counter=5\n"
        ),
    );
    // Bob does not exist: refused unless users may be created.
    let out = import(&env, &file, "otpauth", &[]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("keys.txt:5: refused: no user named \"bob\" (--create-users creates it)"),
        "{stderr}"
    );
    assert!(stdout.contains(&counts(0, 2, 0, 1)), "{stdout}");

    let out = import(&env, &file, "otpauth", &["--create-users"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("created user bob"), "{stdout}");
    assert!(
        stdout.contains("keys.txt:5: imported a hotp key for bob"),
        "{stdout}"
    );
    assert!(stdout.contains(&counts(1, 1, 2, 0)), "{stdout}");
    assert!(stdout.contains("keys.txt:2: skipped: alice already has this totp key"));

    // A third run imports nothing.
    let out = import(&env, &file, "otpauth", &["--create-users"]);
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(stdout.contains(&counts(0, 0, 3, 0)), "{stdout}");

    let server = env.serve();
    let api = server.api(&token);
    enable_hotp(&api);
    let alice = factors(&api, "alice");
    assert_eq!(alice.len(), 2, "{alice:?}");
    assert!(alice.iter().all(|f| f["confirmed"] == true), "{alice:?}");
    assert!(alice.iter().any(|f| f["label"] == "Acme"), "{alice:?}");
    let bob = server.api(&token);
    assert_eq!(bob.get("/api/v1/users/bob").json["role"], "client");

    let v = server.api(&token);
    assert_eq!(
        v.validate("alice", &totp(SHA1_SECRET, "sha1", 6, 30)),
        ok("totp")
    );
    assert_eq!(
        v.validate("alice", &totp(SHA256_SECRET, "sha256", 8, 60)),
        ok("totp")
    );
    // The file's counter is the one the token's next code uses: 4 was used before the move.
    assert_eq!(v.validate("bob", &hotp(HOTP_SECRET, 6, 4))["ok"], false);
    assert_eq!(v.validate("bob", &hotp(HOTP_SECRET, 6, 5)), ok("hotp"));
    assert_eq!(v.validate("bob", &hotp(HOTP_SECRET, 6, 5))["ok"], false);
}

/// Runs Debian's google-authenticator to write a file, as a user would with `-q`.
fn google_authenticator(path: &Path, args: &[&str]) -> String {
    let out = Command::new("google-authenticator")
        .args(args)
        .args(["-f", "-q", "-s"])
        .arg(path)
        .output()
        .expect("google-authenticator (./scripts/test installs libpam-google-authenticator)");
    assert!(
        out.status.success(),
        "google-authenticator: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(path).unwrap()
}

fn files_written_by_google_authenticator_import_and_validate(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let dir = env.data_dir();
    let time_file = dir.join("carol.google_authenticator");
    let time_text =
        google_authenticator(&time_file, &["-t", "-d", "-r", "3", "-R", "30", "-w", "3"]);
    let count_file = dir.join("dave.google_authenticator");
    let count_text = google_authenticator(&count_file, &["-c", "-w", "3", "-u"]);
    let secret_of = |t: &str| t.lines().next().unwrap().trim().to_owned();
    let (time_secret, count_secret) = (secret_of(&time_text), secret_of(&count_text));
    assert!(count_text.contains("\" HOTP_COUNTER 1"), "{count_text}");
    let scratch: Vec<&str> = time_text
        .lines()
        .filter(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    assert!(!scratch.is_empty(), "{time_text}");

    // The file names no one.
    let out = import(&env, &time_file, "pam-google-authenticator", &[]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("give --username"), "{:?}", text(&out));

    // Cut after its option lines, the file says neither TOTP nor HOTP: refused.
    let cut: String = time_text
        .lines()
        .take(3)
        .map(|l| format!("{l}\n"))
        .collect();
    let cut_file = write(dir, "cut", &cut);
    let out = import(
        &env,
        &cut_file,
        "pam-google-authenticator",
        &["--username", "carol", "--create-users"],
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cut:1: refused: the file has neither"),
        "{stderr}"
    );
    assert!(stdout.contains(&counts(0, 0, 0, 1)), "{stdout}");

    let out = import(
        &env,
        &time_file,
        "pam-google-authenticator",
        &["--username", "carol", "--create-users"],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(&counts(1, 1, 0, 0)), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "imported {} scratch code(s) as backup codes for carol",
            scratch.len()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("RATE_LIMIT not imported"), "{stdout}");
    // Again: nothing, the scratch codes included.
    let out = import(
        &env,
        &time_file,
        "pam-google-authenticator",
        &["--username", "carol"],
    );
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains(&format!("{}, backup codes imported: 0", counts(0, 0, 2, 0))),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "carol already has {} of these scratch codes",
            scratch.len()
        )),
        "{stdout}"
    );
    let out = import(
        &env,
        &count_file,
        "pam-google-authenticator",
        &["--username", "dave", "--create-users", "--role", "admin"],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    // Again: nothing.
    let out = import(
        &env,
        &count_file,
        "pam-google-authenticator",
        &["--username", "dave", "--create-users"],
    );
    assert!(
        text(&out).0.contains(&counts(0, 0, 2, 0)),
        "{:?}",
        text(&out)
    );

    let server = env.serve();
    let api = server.api(&token);
    enable_hotp(&api);
    assert_eq!(api.get("/api/v1/users/dave").json["role"], "admin");
    assert_eq!(
        api.validate("carol", &totp(&time_secret, "sha1", 6, 30)),
        ok("totp")
    );
    // HOTP_COUNTER is the counter the token's next code uses.
    assert_eq!(api.validate("dave", &hotp(&count_secret, 6, 1)), ok("hotp"));
    // Scratch codes are backup codes: each works once, asked for as such or not.
    assert_eq!(api.validate("carol", scratch[0]), ok("backup_code"));
    assert_eq!(api.validate("carol", scratch[0])["ok"], false);
    let r = api.post(
        "/api/v1/validate",
        json!({"username": "carol", "code": scratch[1], "method": "backup_code"}),
    );
    assert_eq!(r.json, ok("backup_code"), "{r:?}");
    // Another user's scratch code is nothing to dave, and counts as a miss.
    assert_eq!(api.validate("dave", scratch[2])["ok"], false);
    let r = api.get("/api/v1/users/carol");
    assert_eq!(
        r.json["backup_codes_remaining"],
        json!(scratch.len() - 2),
        "{r:?}"
    );
}

/// A Google Authenticator export of `keys` (secret, name, issuer, algorithm, digits, type,
/// counter), encoded by hand as the app's protobuf.
type ExportedKey<'a> = (&'a [u8], &'a str, &'a str, u8, u8, u8, u8);

fn migration_uri(keys: &[ExportedKey<'_>]) -> String {
    fn field(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
        out.push(tag);
        out.push(bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    let mut payload = Vec::new();
    for (secret, name, issuer, alg, digits, kind, counter) in keys {
        let mut p = Vec::new();
        field(&mut p, 0x0a, secret);
        field(&mut p, 0x12, name.as_bytes());
        field(&mut p, 0x1a, issuer.as_bytes());
        p.extend_from_slice(&[0x20, *alg, 0x28, *digits, 0x30, *kind, 0x38, *counter]);
        field(&mut payload, 0x0a, &p);
    }
    payload.extend_from_slice(&[0x10, 1, 0x18, 1, 0x20, 0, 0x28, 7]);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&payload);
    let enc = b64
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    format!("otpauth-migration://offline?data={enc}")
}

fn users_oath_csv_and_google_authenticator_exports(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let dir = env.data_dir();
    let hex = "3132333435363738393031323334353637383930";
    let hex_b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let oath = write(
        dir,
        "users.oath",
        &format!(
            "# pam_oath\nHOTP erin - {hex} 3 2020-01-01T00:00:00L\nHOTP/T30 frank - {hex}\n\
             HOTP/T60/8 gus - {hex}\nHOTP gina 1234 {hex}\n"
        ),
    );
    let out = import(&env, &oath, "users.oath", &["--create-users"]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("users.oath:5: refused: the line has a PIN"),
        "{stderr}"
    );
    assert!(stdout.contains(&counts(3, 3, 0, 1)), "{stdout}");

    let csv = write(
        dir,
        "keys.csv",
        &format!(
            "username,kind,secret,algorithm,digits,period,counter\n\
             hank,totp,{SHA256_SECRET},SHA256,7,45,\n\
             hank,hotp,{HOTP_SECRET},,,,10\n"
        ),
    );
    let out = import(&env, &csv, "csv", &["--create-users"]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(text(&out).0.contains(&counts(1, 2, 0, 0)));

    let export = write(
        dir,
        "export.txt",
        &format!(
            "{}\n",
            migration_uri(&[
                (&b"12345678901234567890"[..], "Acme:ivy", "Acme", 1, 1, 2, 0),
                (&b"abcdefghijklmnopqrst"[..], "ivy", "", 1, 2, 1, 2),
                (&b"short"[..], "ivy", "", 1, 1, 2, 0),
            ])
        ),
    );
    let out = import(&env, &export, "google-authenticator", &["--create-users"]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("export.txt:1: refused: the secret has 40 bits; at least 80"),
        "{stderr}"
    );
    assert!(stdout.contains(&counts(1, 2, 0, 1)), "{stdout}");

    let server = env.serve();
    let api = server.api(&token);
    enable_hotp(&api);
    assert_eq!(api.validate("erin", &hotp(hex_b32, 6, 3)), ok("hotp"));
    assert_eq!(
        api.validate("frank", &totp(hex_b32, "sha1", 6, 30)),
        ok("totp")
    );
    assert_eq!(
        api.validate("gus", &totp(hex_b32, "sha1", 8, 60)),
        ok("totp")
    );
    assert_eq!(api.get("/api/v1/users/gina").status, 404);
    assert_eq!(
        api.validate("hank", &totp(SHA256_SECRET, "sha256", 7, 45)),
        ok("totp")
    );
    assert_eq!(api.validate("hank", &hotp(HOTP_SECRET, 6, 10)), ok("hotp"));
    assert_eq!(
        api.validate("ivy", &totp(hex_b32, "sha1", 6, 30)),
        ok("totp")
    );
    // "abcdefghijklmnopqrst" in base32, 8 digits, counter 2.
    let b32 = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U";
    assert_eq!(api.validate("ivy", &hotp(b32, 8, 2)), ok("hotp"));
}

fn bad_lines_are_refused_one_by_one_and_write_nothing(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["user", "add", "alice"]);
    let dir = env.data_dir();
    let file = write(
        dir,
        "bad.txt",
        &format!(
            "otpauth://totp/alice?secret=JBSW*Y3DP\n\
             otpauth://totp/alice?secret=JBSWY3DP\n\
             otpauth://totp/alice?secret={SHA1_SECRET}&algorithm=MD5\n\
             otpauth://totp/alice?secret={SHA1_SECRET}&digits=9\n\
             otpauth://totp/alice?secret={SHA1_SECRET}&period=5\n\
             alice,otpauth://totp/x?secret={SHA1_SECRET}\n\
             alice,otpauth://totp/y?secret={SHA1_SECRET}\n\
             otpauth://totp/alice?secret=JBSWY3DPEH\n\
             otpauth://totp/alice?secr\n\
             otpauth://totp/nobody?secret={SHA256_SECRET}\n"
        ),
    );
    let out = import(&env, &file, "otpauth", &[]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    for (line, why) in [
        (1, "invalid secret"),
        (2, "the secret has 40 bits; at least 80 are required"),
        (3, "unknown algorithm \"MD5\""),
        (4, "invalid digits \"9\""),
        (5, "a period of 5 seconds is not supported"),
        (7, "the same totp key for alice as line 6"),
        (8, "secret"),
        (9, "missing parameter \"secret\""),
        (10, "no user named \"nobody\""),
    ] {
        assert!(
            stderr.contains(&format!("bad.txt:{line}: refused: ")) && stderr.contains(why),
            "line {line} ({why}): {stderr}"
        );
    }
    assert!(stdout.contains(&counts(0, 1, 0, 9)), "{stdout}");
    assert!(stderr.contains("9 line(s) of"), "{stderr}");

    // Only bad lines: nothing at all is written.
    let only_bad: String = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 5 && *i != 6)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let only_bad = write(dir, "only-bad.txt", &only_bad);
    let before = env.database_dump();
    let out = import(&env, &only_bad, "otpauth", &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).0.contains(&counts(0, 0, 0, 8)),
        "{:?}",
        text(&out)
    );
    let empty = write(dir, "empty.txt", "# nothing\n\n");
    let out = import(&env, &empty, "otpauth", &[]);
    assert!(
        text(&out)
            .1
            .contains("empty.txt: refused: the file holds no keys")
    );
    let out = import(&env, &file, "no-such-format", &[]);
    assert!(text(&out).1.contains("unknown format"), "{:?}", text(&out));
    assert!(env.database_dump() == before, "a refused import wrote");
}

fn dry_run_writes_nothing_and_reports_what_a_real_run_does(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["user", "add", "alice"]);
    let file = write(
        env.data_dir(),
        "keys.txt",
        &format!(
            "otpauth://totp/alice?secret={SHA1_SECRET}\n\
             otpauth://hotp/zed?secret={HOTP_SECRET}&counter=0\n\
             otpauth://totp/alice?secret=JBSWY3DP\n"
        ),
    );
    let before = env.database_dump();
    let dry = import(&env, &file, "otpauth", &["--dry-run", "--create-users"]);
    let (dry_out, dry_err) = text(&dry);
    assert!(env.database_dump() == before, "a dry run wrote");
    assert!(dry_out.contains("would create user zed"), "{dry_out}");
    assert!(dry_out.contains("keys.txt:1: would import a totp key for alice"));
    assert!(
        dry_out.contains(&format!("dry run, nothing written: {}", counts(1, 2, 0, 1))),
        "{dry_out}"
    );
    let real = import(&env, &file, "otpauth", &["--create-users"]);
    let (real_out, real_err) = text(&real);
    assert!(real_out.contains(&counts(1, 2, 0, 1)), "{real_out}");
    // The dump does show a write.
    assert!(env.database_dump() != before, "the real run wrote nothing");
    assert_eq!(dry_err.replace("checked", "imported"), real_err);
    assert_eq!(dry.status.code(), real.status.code());
    // Now a dry run sees what is there.
    let dry = import(&env, &file, "otpauth", &["--dry-run", "--create-users"]);
    assert!(
        text(&dry).0.contains(&counts(0, 0, 2, 1)),
        "{:?}",
        text(&dry)
    );
}

fn binary_and_oversized_files(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["user", "add", "alice"]);
    let dir = env.data_dir();
    // 20 MB of pseudo-random bytes.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let garbage: Vec<u8> = (0..20 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let binary = dir.join("garbage.bin");
    std::fs::write(&binary, &garbage).unwrap();
    // 20 MB of one line of base32-looking text.
    let long = dir.join("long.txt");
    std::fs::write(&long, "A".repeat(20 << 20)).unwrap();
    // A valid first line, then binary.
    let mixed = dir.join("mixed.txt");
    let mut m = format!("otpauth://totp/alice?secret={SHA1_SECRET}\n").into_bytes();
    m.extend_from_slice(&[0xff, 0xfe, 0, 1, b'\n']);
    std::fs::write(&mixed, m).unwrap();

    // 20 MB of short text lines that are no keys.
    let text_garbage = dir.join("text.txt");
    std::fs::write(&text_garbage, "no key here\n".repeat((20 << 20) / 12)).unwrap();

    let before = env.database_dump();
    for (file, why) in [
        (&binary, "it is not UTF-8 text (a binary file?)"),
        (&text_garbage, "more than 1000 lines refused"),
        (&long, "a line is longer than 4096 bytes"),
        (&mixed, "it is not UTF-8 text"),
    ] {
        #[allow(clippy::disallowed_methods)]
        let start = std::time::Instant::now();
        let out = import(&env, file, "otpauth", &[]);
        let took = start.elapsed();
        let (_, stderr) = text(&out);
        assert!(!out.status.success());
        assert!(stderr.contains(why), "{stderr}");
        assert!(
            stderr.contains("not a key file; nothing was imported"),
            "{stderr}"
        );
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    }
    stderr_line(&env, &mixed);
    assert!(env.database_dump() == before, "a refused file wrote");
}

fn stderr_line(env: &Env, file: &Path) -> String {
    let out = import(env, file, "otpauth", &[]);
    let (_, stderr) = text(&out);
    let name = file.file_name().unwrap().to_str().unwrap();
    let line = stderr.lines().last().unwrap_or_default().to_owned();
    assert!(line.contains(&format!("{name}:2:")), "{line}");
    line
}

/// A fault planted in the database: inserting a factor labelled "Poison" inserts a user whose
/// name is taken, a real unique violation inside the factor's INSERT.
fn poison_factor_writes(env: &Env) {
    env.cli_ok(&["user", "add", "zoe"]);
    env.sql(match env.db {
        Db::Sqlite => {
            "CREATE TRIGGER poison BEFORE INSERT ON factors WHEN NEW.label = 'Poison' \
             BEGIN INSERT INTO users (username, username_key, role, created_at) \
             VALUES ('zoe', 'zoe', 'client', 0); END;"
        }
        Db::Postgres => {
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.label = 'Poison' THEN INSERT INTO users (username, username_key, role, \
             created_at) VALUES ('zoe', 'zoe', 'client', 0); END IF; RETURN NEW; END $$; \
             CREATE TRIGGER poison BEFORE INSERT ON factors FOR EACH ROW \
             EXECUTE FUNCTION poison();"
        }
    });
}

fn a_user_whose_factors_fail_is_not_created(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    poison_factor_writes(&env);
    let file = write(
        env.data_dir(),
        "keys.txt",
        &format!(
            "amy,otpauth://totp/A:amy?secret={SHA1_SECRET}&issuer=A\n\
             bea,otpauth://totp/B:bea?secret={SHA1_SECRET}&issuer=B\n\
             bea,otpauth://totp/Poison:bea?secret={SHA256_SECRET}&issuer=Poison\n\
             cyd,otpauth://totp/C:cyd?secret={SHA1_SECRET}&issuer=C\n"
        ),
    );
    let out = import(&env, &file, "otpauth", &["--create-users"]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(stderr.contains("keys.txt:2: refused: "), "{stderr}");
    assert!(stderr.contains("keys.txt:3: refused: "), "{stderr}");
    assert!(stdout.contains(&counts(2, 2, 0, 2)), "{stdout}");
    assert!(!stdout.contains("created user bea"), "{stdout}");
    {
        let server = env.serve();
        let api = server.api(&token);
        // Bea's second factor failed: neither bea nor her first factor is there.
        assert_eq!(api.get("/api/v1/users/bea").status, 404);
        assert_eq!(factors(&api, "amy").len(), 1);
        assert_eq!(factors(&api, "cyd").len(), 1);
        let audit = api.get("/api/v1/audit?username=bea&limit=100");
        assert_eq!(audit.status, 200, "{audit:?}");
        assert!(
            !audit.json.to_string().contains("bea"),
            "an undone import was audited: {audit:?}"
        );
    }
    // Without the fault a second run imports bea whole, and skips the others.
    env.sql(match db {
        Db::Sqlite => "DROP TRIGGER poison;",
        Db::Postgres => "DROP TRIGGER poison ON factors;",
    });
    let out = import(&env, &file, "otpauth", &["--create-users"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(&counts(1, 2, 2, 0)), "{stdout}");
    let server = env.serve();
    assert_eq!(factors(&server.api(&token), "bea").len(), 2);
}

fn long_files_are_imported_batch_by_batch(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    // More lines than two batches; one user's two lines straddle the first batch's end.
    let users = 2 * IMPORT_BATCH_KEYS + 100;
    let straddler = IMPORT_BATCH_KEYS - 1;
    let mut csv = String::from("username,kind,secret,algorithm,digits,period,counter\n");
    for i in 0..users {
        csv.push_str(&format!("user{i:05},totp,{SHA1_SECRET}\n"));
        if i == straddler {
            csv.push_str(&format!("user{i:05},hotp,{HOTP_SECRET},,,,3\n"));
        }
    }
    let file = write(env.data_dir(), "users.csv", &csv);
    let out = import(&env, &file, "csv", &["--create-users"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(&counts(users, users + 1, 0, 0)),
        "{}",
        &stdout[stdout.len().saturating_sub(300)..]
    );
    // The straddling user was created once, with both keys.
    let name = format!("user{straddler:05}");
    assert_eq!(stdout.matches(&format!("created user {name}\n")).count(), 1);
    // A second run imports nothing.
    let out = import(&env, &file, "csv", &["--create-users"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(&counts(0, 0, users + 1, 0)),
        "{}",
        &stdout[stdout.len().saturating_sub(300)..]
    );
    {
        let server = env.serve();
        let api = server.api(&token);
        enable_hotp(&api);
        assert_eq!(factors(&api, &name).len(), 2);
        assert_eq!(api.validate(&name, &hotp(HOTP_SECRET, 6, 3)), ok("hotp"));
        let last = format!("user{:05}", users - 1);
        assert_eq!(
            api.validate(&last, &totp(SHA1_SECRET, "sha1", 6, 30)),
            ok("totp")
        );
    }
    // Standard input is checked whole in memory before anything is written: more keys than
    // that holds are refused, and nothing is written.
    let before = env.database_dump();
    let many: String = (0..=MAX_IMPORT_KEYS)
        .map(|i| format!("other{i},totp,{SHA1_SECRET}\n"))
        .collect();
    let out = env.cli_stdin(&["import", "-", "--format", "csv", "--create-users"], &many);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("more than {MAX_IMPORT_KEYS} keys")),
        "{stderr}"
    );
    assert!(env.database_dump() == before, "a refused import wrote");
}
