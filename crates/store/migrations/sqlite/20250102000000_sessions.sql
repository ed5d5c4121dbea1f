-- Portal sessions and the password-login throttle (SQLite). Keep in step with PostgreSQL's.

CREATE TABLE sessions (
    -- SHA-256 of the cookie value: a stolen database does not hold usable session ids.
    id_hash    TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- second_factor | enroll | full
    stage      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Where to go once the login completes (a local path).
    next       TEXT
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Failed password logins per key (`user:NAME`, `ip:ADDRESS`): counters for growing delays.
CREATE TABLE login_throttle (
    key      TEXT    PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at  INTEGER NOT NULL
);
