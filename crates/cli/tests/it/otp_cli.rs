//! `twofold otp` as a user runs it: output, exit statuses, and agreement with oathtool.

use std::process::{Command, Output};

use proptest::prelude::*;

fn twofold(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twofold"))
        .args(args)
        .output()
        .unwrap()
}

fn oathtool(args: &[&str]) -> String {
    let out = Command::new("oathtool")
        .args(args)
        .output()
        .expect("oathtool (./scripts/test installs it)");
    assert!(
        out.status.success(),
        "oathtool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn base32(bytes: &[u8]) -> String {
    twofold_otp::base32::encode(bytes, false)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn otp_totp_matches_oathtool(
        secret in proptest::collection::vec(any::<u8>(), 1..=40),
        alg in prop_oneof![Just("sha1"), Just("sha256"), Just("sha512")],
        digits in 6u8..=8,
        period in prop_oneof![Just(30u64), Just(1), Just(60), 2u64..=600],
        time in prop_oneof![1_500_000_000u64..2_500_000_000, 4_294_967_296u64..1 << 50],
        lower: bool,
    ) {
        let mut b32 = base32(&secret);
        if lower { b32 = b32.to_lowercase(); }
        let d = digits.to_string();
        let (p, t) = (period.to_string(), time.to_string());
        let out = twofold(&["otp", "totp", "--secret", &b32, "--algorithm", alg, "--digits", &d, "--period", &p, "--time", &t]);
        prop_assert!(out.status.success());
        prop_assert!(out.stderr.is_empty());
        let padded = twofold_otp::base32::encode(&secret, true);
        let expected = oathtool(&[&format!("--totp={alg}"), "-b", "-d", &d, "-s", &format!("{period}s"), &format!("-N@{time}"), &padded]);
        prop_assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    }

    #[test]
    fn otp_hotp_matches_oathtool(
        secret in proptest::collection::vec(any::<u8>(), 1..=40),
        digits in 6u8..=8,
        counter in any::<u64>(),
    ) {
        let (d, c) = (digits.to_string(), counter.to_string());
        let out = twofold(&["otp", "hotp", "--secret", &base32(&secret), "--digits", &d, "--counter", &c]);
        prop_assert!(out.status.success());
        let padded = twofold_otp::base32::encode(&secret, true);
        prop_assert_eq!(String::from_utf8(out.stdout).unwrap(), oathtool(&["--hotp", "-b", "-d", &d, "-c", &c, &padded]));
    }
}

#[test]
fn rfc6238_vector_and_spaced_secret() {
    let out = twofold(&[
        "otp",
        "totp",
        "--secret",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "--time",
        "59",
        "--digits",
        "8",
    ]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "94287082\n");
    // Apps show secrets in groups; a user may paste them that way.
    let out = twofold(&[
        "otp",
        "hotp",
        "--secret",
        "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
        "--counter",
        "0",
    ]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "755224\n");
}

#[test]
fn totp_defaults_to_now() {
    let out = twofold(&["otp", "totp", "--secret", "JBSWY3DPEHPK3PXP"]);
    let ours = String::from_utf8(out.stdout).unwrap();
    // Compare with oathtool at the same moment; retry once if a step boundary fell between.
    for _ in 0..2 {
        let theirs = oathtool(&["--totp", "-b", "JBSWY3DPEHPK3PXP"]);
        if theirs == ours {
            return;
        }
    }
    panic!("twofold otp totp without --time did not give the current code");
}

/// Bad input: nothing on stdout, exactly one `error: …` line on stderr, and the documented
/// status (2 for what the argument parser rejects, 1 for bad values).
#[test]
fn bad_input_is_one_line_and_the_right_status() {
    let cases: &[(&[&str], i32, &str)] = &[
        (&["otp", "totp", "--secret", "JBSW1"], 1, "--secret"),
        (&["otp", "totp", "--secret", ""], 1, "empty"),
        (
            &["otp", "totp", "--secret", "JBSWY3DP", "--digits", "9"],
            1,
            "--digits",
        ),
        (
            &["otp", "totp", "--secret", "JBSWY3DP", "--digits", "5"],
            1,
            "--digits",
        ),
        (
            &["otp", "totp", "--secret", "JBSWY3DP", "--period", "0"],
            1,
            "--period",
        ),
        (
            &["otp", "hotp", "--secret", "JBSWY3DP=", "--counter", "1"],
            1,
            "--secret",
        ),
        (
            &["otp", "totp", "--secret", "JBSWY3DP", "--time", "soon"],
            2,
            "--time",
        ),
        (
            &["otp", "totp", "--secret", "JBSWY3DP", "--time", "-1"],
            2,
            "-1",
        ),
        (
            &["otp", "totp", "--secret", "JBSWY3DP", "--algorithm", "md5"],
            2,
            "md5",
        ),
        (
            &["otp", "totp", "--secret", "JBSWY3DP", "--bogus"],
            2,
            "--bogus",
        ),
        (&["otp", "totp"], 2, "--secret"),
        (&["otp", "hotp", "--secret", "JBSWY3DP"], 2, "--counter"),
        (
            &[
                "otp",
                "hotp",
                "--secret",
                "JBSWY3DP",
                "--counter",
                "18446744073709551616",
            ],
            2,
            "--counter",
        ),
        (&["no-such-command"], 2, "no-such-command"),
        // A command group without its subcommand is a usage error like the others: one line
        // naming the choices, not the whole help.
        (&["otp"], 2, "twofold otp needs a subcommand: totp, hotp"),
        (&[], 2, "twofold needs a command: serve, migrate"),
        (&["yubikey", "client"], 2, "add, list, revoke"),
    ];
    for (args, status, mentions) in cases {
        let out = twofold(args);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(*status), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr:?}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr:?}");
        assert!(
            stderr.contains(mentions),
            "{args:?}: {stderr:?} should mention {mentions}"
        );
    }
}

/// `--help` (and `help`) print the whole help to stdout with status 0.
fn help(args: &[&str]) -> String {
    let out = twofold(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    assert!(out.stderr.is_empty(), "{args:?} wrote to stderr");
    String::from_utf8(out.stdout).unwrap()
}

/// The names listed under `Commands:` in a help text.
fn listed_commands(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn help_lists_every_command_of_the_design() {
    let top = help(&["--help"]);
    assert!(top.contains("Usage: twofold"), "{top}");
    assert_eq!(top.lines().count(), help(&["help"]).lines().count());
    let groups = listed_commands(&top);
    for command in [
        "serve", "migrate", "user", "settings", "token", "otp", "yubikey",
    ] {
        assert!(
            groups.iter().any(|g| g == command),
            "{command} in {groups:?}"
        );
    }
    let subcommands: &[(&[&str], &[&str])] = &[
        (
            &["user"],
            &[
                "add",
                "list",
                "show",
                "set-password",
                "reset-2fa",
                "unlock",
                "disable",
                "enable",
                "test-duo",
            ],
        ),
        (&["settings"], &["show", "set"]),
        (&["token"], &["create", "list", "revoke"]),
        (&["otp"], &["totp", "hotp"]),
        (&["yubikey"], &["import", "client"]),
        (&["yubikey", "client"], &["add", "list", "revoke"]),
    ];
    for (group, expected) in subcommands {
        let mut args = group.to_vec();
        args.push("--help");
        let listed = listed_commands(&help(&args));
        for sub in *expected {
            assert!(
                listed.iter().any(|l| l == sub),
                "twofold {group:?}: no {sub} in {listed:?}"
            );
        }
    }
    // The options of the CLI's contract (README, CLI) are documented where they belong.
    for (args, flags) in [
        (
            &["user", "add", "--help"][..],
            &["--role", "--email", "--phone", "--password-stdin"][..],
        ),
        (&["user", "list", "--help"], &["--json"]),
        (&["settings", "show", "--help"], &["--json"]),
        (&["token", "create", "--help"], &["--scope"]),
        (
            &["otp", "hotp", "--help"],
            &["--secret", "--counter", "--digits", "--algorithm"],
        ),
        (&["yubikey", "import", "--help"], &["--dry-run"]),
        (&["serve", "--help"], &["--config"]),
    ] {
        let text = help(args);
        for flag in flags {
            assert!(text.contains(flag), "{args:?} lacks {flag}");
        }
    }
}

#[test]
fn help_lists_the_otp_commands() {
    let out = twofold(&["otp", "totp", "--help"]);
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in ["--secret", "--time", "--digits", "--period", "--algorithm"] {
        assert!(text.contains(flag), "missing {flag}");
    }
}

/// `twofold --version` names the version and the commit the binary was built from.
#[test]
fn version_names_the_commit() {
    let out = twofold(&["--version"]);
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    let rest = line
        .trim_end()
        .strip_prefix(concat!("twofold ", env!("CARGO_PKG_VERSION"), " (commit "))
        .unwrap_or_else(|| panic!("{line:?}"));
    let commit = rest.strip_suffix(')').unwrap_or_else(|| panic!("{line:?}"));
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{line:?}"
    );
    // Built inside a git checkout (as the tests are), it is that checkout's HEAD.
    if let Ok(head) = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        && head.status.success()
    {
        assert_eq!(commit, String::from_utf8_lossy(&head.stdout).trim());
    }
}
