-- settle_attempt on PostgreSQL in one round trip: the flow of store/src/attempt.rs (`settle`),
-- step for step with the same statements (store/src/sql.rs), as one function the store calls
-- in one statement, so a validation is one transaction without a BEGIN and a COMMIT message of
-- its own. The conformance suite runs the same cases against this function and against the
-- Rust flow on SQLite.
--
-- Candidates are parallel arrays (1-based): kind ('counter', 'challenge' or 'backup'), factor
-- id, value (the counter; a challenge's allowed wrong tries), drift, text (a challenge's code
-- hash; a backup code's lookup). Audit records are parallel arrays too: the candidates' success
-- records 1..n, then the failure record (n + 1), then the already-used record (n + 2).
-- p_lock_seconds[k] is the length of a lockout whose streak is k (the last one for longer).
-- The answer is {outcome, value}: 0 not counted; 1 accepted, value the candidate's index from
-- 0; 2 already used; 3 left open, value the count; 4 rejected, value the lock's end or NULL.
CREATE FUNCTION twofold_settle_attempt(
    p_user BIGINT, p_now BIGINT, p_max BIGINT, p_open BOOLEAN,
    c_kind TEXT[], c_factor TEXT[], c_value BIGINT[], c_drift BIGINT[], c_text TEXT[],
    a_at BIGINT[], a_actor TEXT[], a_subject TEXT[], a_event TEXT[], a_ip TEXT[],
    a_detail TEXT[],
    p_streak_window BIGINT, p_lock_seconds BIGINT[]
) RETURNS BIGINT[]
LANGUAGE plpgsql AS $$
DECLARE
    n INT := coalesce(array_length(c_kind, 1), 0);
    v_count BIGINT;
    v_rows INT;
    v_used BOOLEAN := false;
    v_locked BIGINT;
    v_streak BIGINT;
    v_last BIGINT;
    v_until BIGINT;
BEGIN
    UPDATE users SET failed_attempts = failed_attempts + 1, attempt_at = p_now
     WHERE id = p_user AND (locked_until IS NULL OR locked_until <= p_now)
       AND failed_attempts < p_max
     RETURNING failed_attempts INTO v_count;
    IF NOT FOUND THEN
        RETURN ARRAY[0, NULL]::BIGINT[];
    END IF;
    FOR i IN 1..n LOOP
        IF c_kind[i] = 'counter' THEN
            UPDATE factors SET last_counter = c_value[i], drift = c_drift[i], last_used_at = p_now
             WHERE id = c_factor[i] AND confirmed
               AND (last_counter IS NULL OR last_counter < c_value[i]);
        ELSIF c_kind[i] = 'challenge' THEN
            UPDATE challenges SET used_at = p_now
             WHERE factor_id = c_factor[i] AND code_hash = c_text[i] AND used_at IS NULL
               AND expires_at > p_now AND attempts < c_value[i];
        ELSE
            UPDATE backup_codes SET used_at = p_now
             WHERE user_id = p_user AND lookup = c_text[i] AND used_at IS NULL;
        END IF;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        IF v_rows = 1 THEN
            UPDATE users SET failed_attempts = 0 WHERE id = p_user AND failed_attempts <> 0;
            INSERT INTO audit (at, actor, subject, event, ip, detail)
            VALUES (a_at[i], a_actor[i], a_subject[i], a_event[i], a_ip[i], a_detail[i]);
            RETURN ARRAY[1, i - 1]::BIGINT[];
        END IF;
        IF c_kind[i] = 'counter' THEN
            -- The caller matched the code to this step: another request took it first.
            v_used := true;
        ELSIF c_kind[i] = 'challenge' THEN
            UPDATE challenges SET attempts = attempts + 1
             WHERE factor_id = c_factor[i] AND used_at IS NULL;
        ELSIF NOT v_used THEN
            v_used := EXISTS (SELECT 1 FROM backup_codes
                               WHERE user_id = p_user AND lookup = c_text[i]
                                 AND used_at IS NOT NULL);
        END IF;
    END LOOP;
    IF v_used THEN
        UPDATE users SET failed_attempts = failed_attempts - 1
         WHERE id = p_user AND failed_attempts > 0;
        INSERT INTO audit (at, actor, subject, event, ip, detail)
        VALUES (a_at[n + 2], a_actor[n + 2], a_subject[n + 2], a_event[n + 2], a_ip[n + 2],
                a_detail[n + 2]);
        RETURN ARRAY[2, NULL]::BIGINT[];
    END IF;
    IF p_open THEN
        RETURN ARRAY[3, v_count]::BIGINT[];
    END IF;
    INSERT INTO audit (at, actor, subject, event, ip, detail)
    VALUES (a_at[n + 1], a_actor[n + 1], a_subject[n + 1], a_event[n + 1], a_ip[n + 1],
            a_detail[n + 1]);
    IF v_count < p_max THEN
        RETURN ARRAY[4, NULL]::BIGINT[];
    END IF;
    -- The threshold: lock, continuing the streak of lockouts within its window.
    SELECT locked_until, lockout_streak, last_lockout_at INTO v_locked, v_streak, v_last
      FROM users WHERE id = p_user;
    IF v_locked IS NOT NULL AND v_locked > p_now THEN
        RETURN ARRAY[4, NULL]::BIGINT[];
    END IF;
    IF v_last IS NOT NULL AND p_now - v_last < p_streak_window THEN
        v_streak := v_streak + 1;
    ELSE
        v_streak := 1;
    END IF;
    v_until := p_now + p_lock_seconds[LEAST(v_streak, array_length(p_lock_seconds, 1))];
    UPDATE users SET locked_until = v_until, failed_attempts = 0, lockout_streak = v_streak,
           last_lockout_at = p_now
     WHERE id = p_user;
    RETURN ARRAY[4, v_until]::BIGINT[];
END
$$;
