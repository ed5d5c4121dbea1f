-- Duo Security (SQLite): the Universal Prompt redirects in flight. Each row is a `state` sent to
-- Duo (only its SHA-256 is kept), bound to the session the callback must come from (or to no
-- session: an enrolment started through the API) and to the factor an enrolment confirms, with
-- the `nonce` the id_token must carry. A state is used by one conditional UPDATE, so it works
-- once, also across nodes. The PostgreSQL migration of the same name holds the same table.

CREATE TABLE duo_states (
    state_hash   TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The pending factor an enrolment confirms (purpose 'enroll').
    factor_id    TEXT,
    -- SHA-256 of the session id the callback must come from.
    session_hash TEXT,
    nonce        TEXT    NOT NULL,
    -- login | enroll
    purpose      TEXT    NOT NULL CHECK (purpose IN ('login', 'enroll')),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);

CREATE INDEX duo_states_expiry ON duo_states (expires_at);
CREATE INDEX duo_states_user ON duo_states (user_id);
