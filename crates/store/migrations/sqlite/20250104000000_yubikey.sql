-- YubiKey: the clients of Twofold's Yubico validation server (`/wsapi/2.0/verify`) and the
-- requests it answered OK, so the same OTP and nonce seen again is REPLAYED_REQUEST. The
-- PostgreSQL migration of the same name holds the same tables.

CREATE TABLE wsapi_clients (
    -- The numeric client id clients send as `id` (never reused).
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,
    -- The shared HMAC-SHA1 key, sealed under the master key and bound to the name.
    key            BLOB    NOT NULL,
    allow_unsigned BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     INTEGER NOT NULL
);

CREATE TABLE wsapi_requests (
    -- SHA-256 of the client id, the nonce and the OTP: never the OTP itself.
    hash TEXT    PRIMARY KEY,
    at   INTEGER NOT NULL
);

CREATE INDEX wsapi_requests_at ON wsapi_requests (at);
