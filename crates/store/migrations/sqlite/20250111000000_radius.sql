-- RADIUS (SQLite). Keep in step with the other backend's.

-- The network devices (VPN gateways, PAM hosts) allowed to ask: a name, the address or network
-- their packets come from, the shared secret sealed under the master key, and whether their
-- requests may lack a Message-Authenticator (older clients).
CREATE TABLE radius_clients (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT    NOT NULL UNIQUE,
    network            TEXT    NOT NULL,
    secret             BLOB   NOT NULL,
    allow_missing_ma   BOOLEAN NOT NULL,
    created_at         INTEGER NOT NULL
);

-- An Access-Challenge's State, by its SHA-256: whose it is, which client asked, until when. The
-- answer to the challenge deletes the row (one conditional DELETE), on whichever node it lands.
CREATE TABLE radius_states (
    state_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX radius_states_expiry ON radius_states (expires_at);
