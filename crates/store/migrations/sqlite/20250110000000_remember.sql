-- Remembered browsers (SQLite). Keep in step with the other backend's.

-- Browsers whose second factor stands for `remember.days` (the tf_remember cookie): the next
-- sign-ins of that one user there ask only for the password. Only the SHA-256 of the cookie is
-- kept, with the user, the times, the address of the last use and a short browser summary.
CREATE TABLE remembered_browsers (
    token_hash   TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT,
    browser      TEXT
);
CREATE INDEX remembered_browsers_user ON remembered_browsers (user_id);
CREATE INDEX remembered_browsers_expiry ON remembered_browsers (expires_at);

-- A login sent to Duo's Universal Prompt with "Remember this browser" ticked.
ALTER TABLE duo_states ADD COLUMN remember BOOLEAN NOT NULL DEFAULT FALSE;
