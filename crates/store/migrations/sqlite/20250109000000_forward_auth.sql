-- Forward authentication (SQLite). Keep in step with the other backend's.

-- When a second factor was given in a sign-in (or a remembered browser stood in for it):
-- applications behind a `two_factor` access rule need it.
ALTER TABLE sessions ADD COLUMN two_factor_at INTEGER;
