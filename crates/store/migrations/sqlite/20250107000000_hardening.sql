-- Session lifetimes, step-up, the device cookie, the atomic password throttle and escalating
-- lockouts (SQLite). Keep in step with the other backend's.

-- A session's absolute start (kept across the id changes of one sign-in), its last use (written
-- at most once a minute), when its owner last gave their password (and second factor) in it,
-- and where it was used from, for the owner's list of sessions.
ALTER TABLE sessions ADD COLUMN login_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN step_up_at INTEGER;
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;

-- The password throttle decides from one atomic increment: an attempt is counted only while
-- the key is not blocked, and the count it returns sets how long the key is blocked next.
ALTER TABLE login_throttle ADD COLUMN blocked_until INTEGER NOT NULL DEFAULT 0;
CREATE INDEX login_throttle_last ON login_throttle (last_at);

-- Each further lockout within a day lasts twice as long as the one before.
ALTER TABLE users ADD COLUMN lockout_streak INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_lockout_at INTEGER;
-- When the last second-factor attempt began: a count at the threshold whose attempts all began
-- long ago belongs to requests that never finished (a crash), not to attempts in flight.
ALTER TABLE users ADD COLUMN attempt_at INTEGER NOT NULL DEFAULT 0;

-- Browsers that have fully signed in as a user (the tf_device cookie): only the SHA-256 of the
-- cookie is kept. Such a browser is throttled by its own failures only.
CREATE TABLE devices (
    token_hash   TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX devices_user ON devices (user_id);
CREATE INDEX devices_expiry ON devices (expires_at);
