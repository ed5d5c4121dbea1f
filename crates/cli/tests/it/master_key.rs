//! The master key file's mode: every command that loads the key, `serve` first, refuses a file
//! that group or others may read, in one line that says what to do, and starts nothing.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::{Db, Env};

/// `serve` in `env`, waited for at most `limit`: a server that starts instead of refusing is
/// killed and reported, not waited for.
fn serve_until_exit(env: &Env, limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twofold"))
        .arg("serve")
        .env_remove("TWOFOLD_CONFIG")
        .env("TWOFOLD_DATA_DIR", env.data_dir())
        .env("TWOFOLD_DATABASE_URL", &env.database_url)
        .env("TWOFOLD_LISTEN", "127.0.0.1:0")
        .env("TWOFOLD_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let polls = limit.as_millis() / 50;
    for _ in 0..polls {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    panic!(
        "serve was still running after {limit:?}: stdout {:?}, stderr {:?}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_key_file_group_or_others_can_read_is_refused() {
    let env = Env::new(Db::Sqlite);
    env.cli_ok(&["user", "add", "kim"]);
    let key = env.data_dir().join("master.key");
    let text = std::fs::read_to_string(&key).unwrap();
    let chmod = |mode: u32| {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    for mode in [0o640, 0o604, 0o644] {
        chmod(mode);
        let expected = format!(
            "error: the master key file {k} is readable by group or others (mode {mode:04o}): \
             run chmod 600 {k}\n",
            k = key.display()
        );
        let out = serve_until_exit(&env, Duration::from_secs(10));
        assert_eq!(out.status.code(), Some(1), "serve with mode {mode:o}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), expected);
        assert!(
            out.stdout.is_empty(),
            "serve printed {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        for args in [&["user", "list"][..], &["token", "list"][..]] {
            let out = env.cli(args);
            assert_eq!(out.status.code(), Some(1), "{args:?} with mode {mode:o}");
            assert_eq!(String::from_utf8_lossy(&out.stderr), expected, "{args:?}");
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    }
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        text,
        "the key is left as it was"
    );

    chmod(0o600);
    assert!(env.cli_ok(&["user", "list"]).contains("kim"));
    let server = env.serve();
    assert_eq!(server.anonymous().get("/healthz").status, 200);
    let (status, _) = server.terminate();
    assert!(status.success(), "{status:?}");
}
