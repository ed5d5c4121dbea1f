-- Security keys and passkeys (postgres). Keep in step with the other backend's.

-- The handle WebAuthn knows a user by: 32 random bytes (base64url), made at the user's first
-- key and never derived from the username, so a credential names nobody.
ALTER TABLE users ADD COLUMN webauthn_handle TEXT;
CREATE UNIQUE INDEX users_webauthn_handle ON users (webauthn_handle);

-- A ceremony's challenge, by its SHA-256: what it is for (register, authenticate, passwordless),
-- whose it is (none for a passwordless sign-in, which names its user only in the answer), the
-- pending factor a registration completes, and until when. The answer takes the row with one
-- conditional DELETE, on whichever node it lands.
CREATE TABLE webauthn_challenges (
    challenge_hash TEXT    PRIMARY KEY,
    purpose        TEXT    NOT NULL,
    user_id        BIGINT REFERENCES users (id) ON DELETE CASCADE,
    factor_id      TEXT,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at);
