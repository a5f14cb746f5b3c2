-- The ledger's entry point on PostgreSQL in one round trip (escrow/services/ledger.py calls it).
--
-- Same guarantees and the same order of work as the Python path:
--   1. lock the entry's accounts in primary-key order (FOR NO KEY UPDATE); create the missing
--      ones first, in code order, then lock again;
--   2. under the locks, look the idempotency key up: the same key with the same lines answers
--      'replay' with the first entry, with other lines 'key_reused';
--   3. refuse ('insufficient') when a guarded account would go below zero (invariant 2);
--   4. insert the entry and its postings, update the balances.
-- Expected refusals are returned as a status, not raised, so the caller's transaction is not
-- aborted and the Python side raises the same domain errors (with translated messages) as before.
-- Invariant 1 is still checked at commit by the deferred trigger posting_entry_balances.
CREATE OR REPLACE FUNCTION anxinbao_post_entry(
    p_memo varchar, p_key varchar, p_actor bigint, p_reverses bigint, p_created timestamptz,
    p_codes text[], p_amounts numeric[], p_kinds text[], p_owners bigint[], p_projects bigint[],
    p_guarded text[]
) RETURNS TABLE (status text, entry_id bigint, account_code text, balance numeric, need numeric)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_count int;
    v_entry bigint;
    v_missing text;
    r record;
BEGIN
    PERFORM 1 FROM escrow_account a WHERE a.code = ANY (p_codes) ORDER BY a.id FOR NO KEY UPDATE;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF v_count < cardinality(p_codes) THEN
        SELECT string_agg(o::text, ', ' ORDER BY o) INTO v_missing
          FROM (SELECT DISTINCT o FROM unnest(p_owners) AS o
                 WHERE o IS NOT NULL AND NOT EXISTS (SELECT 1 FROM core_organization g WHERE g.id = o)) AS u;
        IF v_missing IS NOT NULL THEN
            RETURN QUERY SELECT 'unknown_owner'::text, NULL::bigint, v_missing, NULL::numeric, NULL::numeric;
            RETURN;
        END IF;
        INSERT INTO escrow_account AS a (code, kind, name, owner_id, currency, balance, project_ref, created_at)
        SELECT t.c, t.k, '', t.o, 'CNY', 0, t.pr, p_created
          FROM unnest(p_codes, p_kinds, p_owners, p_projects) AS t (c, k, o, pr)
         WHERE NOT EXISTS (SELECT 1 FROM escrow_account x WHERE x.code = t.c)
         ORDER BY t.c
        ON CONFLICT (code) DO NOTHING;
        PERFORM 1 FROM escrow_account a WHERE a.code = ANY (p_codes) ORDER BY a.id FOR NO KEY UPDATE;
    END IF;

    SELECT e.id INTO v_entry FROM escrow_journalentry e WHERE e.idempotency_key = p_key;
    IF FOUND THEN
        IF EXISTS (
            (SELECT a.code::text, p.amount FROM escrow_posting p JOIN escrow_account a ON a.id = p.account_id
              WHERE p.entry_id = v_entry
             EXCEPT SELECT * FROM unnest(p_codes, p_amounts))
            UNION ALL
            (SELECT * FROM unnest(p_codes, p_amounts)
             EXCEPT SELECT a.code::text, p.amount FROM escrow_posting p JOIN escrow_account a ON a.id = p.account_id
              WHERE p.entry_id = v_entry)
        ) THEN
            RETURN QUERY SELECT 'key_reused'::text, v_entry, NULL::text, NULL::numeric, NULL::numeric;
        ELSE
            RETURN QUERY SELECT 'replay'::text, v_entry, NULL::text, NULL::numeric, NULL::numeric;
        END IF;
        RETURN;
    END IF;

    SELECT a.code, a.balance, t.amt INTO r
      FROM escrow_account a JOIN unnest(p_codes, p_amounts) AS t (c, amt) ON a.code = t.c
     WHERE a.kind = ANY (p_guarded) AND a.balance + t.amt < 0
     ORDER BY a.id LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT 'insufficient'::text, NULL::bigint, r.code::text, r.balance, -r.amt;
        RETURN;
    END IF;

    INSERT INTO escrow_journalentry (memo, idempotency_key, actor_id, created_at, reverses_id)
    VALUES (p_memo, p_key, p_actor, p_created, p_reverses) RETURNING id INTO v_entry;
    INSERT INTO escrow_posting (entry_id, account_id, amount)
    SELECT v_entry, a.id, t.amt FROM unnest(p_codes, p_amounts) AS t (c, amt) JOIN escrow_account a ON a.code = t.c
     ORDER BY a.id;
    UPDATE escrow_account a SET balance = a.balance + t.amt
      FROM unnest(p_codes, p_amounts) AS t (c, amt) WHERE a.code = t.c;
    RETURN QUERY SELECT 'ok'::text, v_entry, NULL::text, NULL::numeric, NULL::numeric;
END
$fn$;
