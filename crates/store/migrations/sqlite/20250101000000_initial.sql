-- Twofold's first schema (SQLite). Times are Unix seconds. The PostgreSQL migration of the same
-- name holds the same tables with PostgreSQL's types; keep the two in step.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    username        TEXT    NOT NULL,
    -- The lower-case form: lookups and uniqueness ignore case.
    username_key    TEXT    NOT NULL UNIQUE,
    role            TEXT    NOT NULL,
    email           TEXT,
    phone           TEXT,
    password_hash   TEXT,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    created_at      INTEGER NOT NULL
);

CREATE INDEX users_role ON users (role);

CREATE TABLE factors (
    -- Creation order (ids are random); `id` is the factor's identity.
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE CHECK (length(id) = 32),
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    confirmed    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_used_at INTEGER,
    -- The sealed secret (TOTP seed, YubiKey AES key), bound to the factor id.
    secret       BLOB,
    algorithm    TEXT,
    digits       INTEGER,
    period       INTEGER,
    -- The last accepted TOTP step or YubiKey counter: only greater ones are accepted.
    last_counter INTEGER,
    drift        INTEGER NOT NULL DEFAULT 0,
    -- A YubiKey's public id: one key belongs to one user.
    public_id    TEXT UNIQUE,
    -- Parameters of kinds that need more than the columns above (JSON).
    params       TEXT
);

CREATE INDEX factors_user ON factors (user_id, created_at);

CREATE TABLE backup_codes (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- A keyed hash of the normalised code, to find it without storing it.
    lookup  TEXT    NOT NULL,
    sealed  BLOB    NOT NULL,
    used_at INTEGER,
    UNIQUE (user_id, lookup)
);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT,
    sealed BLOB,
    CHECK ((value IS NULL) <> (sealed IS NULL))
);

CREATE TABLE api_tokens (
    name         TEXT    PRIMARY KEY,
    scope        TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);

CREATE TABLE setup_tokens (
    hash       TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    subject TEXT,
    event   TEXT    NOT NULL,
    ip      TEXT,
    detail  TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX audit_subject ON audit (lower(subject), id);
CREATE INDEX audit_event ON audit (event, id);
