-- Email and SMS one-time codes, and the sends that rate-limit them (SQLite). Keep in step with
-- PostgreSQL's.

-- One live code per factor: a new code replaces the previous one.
CREATE TABLE challenges (
    factor_id  TEXT    PRIMARY KEY REFERENCES factors (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- A keyed hash of the code, bound to the factor: never the code.
    code_hash  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    used_at    INTEGER
);

-- Every send (delivered or not), per user and method, for "30 s apart, 10 an hour".
CREATE TABLE code_sends (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT    NOT NULL,
    sent_at INTEGER NOT NULL
);

CREATE INDEX code_sends_user ON code_sends (user_id, kind, sent_at);
