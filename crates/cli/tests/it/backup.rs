//! `twofold backup FILE`: a consistent copy of a running server's SQLite database, taken while
//! enrolments go on, that SQLite itself (Python's `sqlite3` module, another reader) opens and
//! finds intact, holding every enrolment confirmed before the backup began. It never overwrites
//! a file, and on PostgreSQL it says to use pg_dump.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::support::{Db, Env};

/// What SQLite says of the copy: `integrity_check`, then the users with a confirmed factor.
fn inspect(path: &std::path::Path) -> (String, Vec<String>) {
    let script = "import sqlite3, sys\n\
                  c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)\n\
                  print(c.execute('PRAGMA integrity_check').fetchone()[0])\n\
                  for (u,) in c.execute('SELECT DISTINCT u.username FROM users u JOIN factors f \
                  ON f.user_id = u.id WHERE f.confirmed'):\n    print(u)\n";
    let out = Command::new("python3")
        .args(["-c", script, path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines().map(str::to_owned);
    let check = lines.next().unwrap_or_default();
    (check, lines.collect())
}

#[test]
fn a_backup_during_enrolments_is_consistent_and_holds_what_was_confirmed_before() {
    let env = Env::new(Db::Sqlite);
    let token = env.token("admin", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let confirmed = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    // A write load: users created and enrolled one after another until the backup is done.
    let writer = {
        let (api, confirmed, stop) = (api.clone(), confirmed.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let name = format!("w{n}");
                api.enrolled_user(&name);
                confirmed.lock().unwrap().push(name);
                n += 1;
            }
        })
    };
    while confirmed.lock().unwrap().len() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let before: Vec<String> = confirmed.lock().unwrap().clone();
    let dest = env.data_dir().join("backup.db");
    let out = env.cli_ok(&["backup", dest.to_str().unwrap()]);
    // More enrolments land after it, then the load stops.
    let during = confirmed.lock().unwrap().len();
    while confirmed.lock().unwrap().len() < during + 3 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(out.contains("master key"), "{out}");
    assert!(out.contains(dest.to_str().unwrap()), "{out}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&dest).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the copy holds password hashes");
    let (check, users) = inspect(&dest);
    assert_eq!(check, "ok");
    for name in &before {
        assert!(
            users.contains(name),
            "{name} was confirmed before the backup began"
        );
    }
    let after = confirmed.lock().unwrap().len();
    assert!(
        users.len() < after,
        "the copy is of one moment, not of the end of the load ({} of {after})",
        users.len()
    );

    // Never over an existing file: refused, and the file is left as it was.
    let bytes = std::fs::read(&dest).unwrap();
    let again = env.cli(&["backup", dest.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("never overwrites"),
        "{again:?}"
    );
    assert_eq!(std::fs::read(&dest).unwrap(), bytes);
    drop(server);
}

#[test]
fn a_backup_of_postgresql_points_to_pg_dump() {
    if crate::support::skip_postgres() {
        return;
    }
    let env = Env::new(Db::Postgres);
    env.cli_ok(&["migrate"]);
    let dest = env.data_dir().join("pg-backup.db");
    let out = env.cli(&["backup", dest.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pg_dump"),
        "{out:?}"
    );
    assert!(!dest.exists());
}
