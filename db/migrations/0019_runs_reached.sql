-- The active runs of a contact that an event of a name reaches: those waiting for the name now, and
-- those for which it is a goal (at whatever step), each with its pinned exit conditions, whether the
-- name is one of its goals, and whether a command of the run is queued in the outbox already.
--
-- A function, and VOLATILE, for what that gives a caller in READ COMMITTED: its query reads with a
-- snapshot taken when it is called, not when the calling statement began. A statement that locks the
-- contact's row and calls it after the lock (its argument the locked row's id) sees a wait that a
-- transaction holding that lock opened and committed while the statement waited for it.
CREATE OR REPLACE FUNCTION trellis_runs_reached(p_contact uuid, p_name text)
RETURNS TABLE (id uuid, "exitOn" jsonb, goal boolean, queued boolean)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN QUERY
    SELECT e.id, v.graph -> 'exitOn', p_name = ANY (v.exit_events), EXISTS (SELECT 1 FROM outbox o WHERE o.execution_id = e.id)
    FROM executions e
    JOIN workflow_versions v ON v.workflow_id = e.workflow_id AND v.version = e.workflow_version
    WHERE e.contact_id = p_contact
      AND e.status IN ('RUNNING', 'WAITING')
      AND ((e.status = 'WAITING' AND e.waiting_for = p_name) OR p_name = ANY (v.exit_events));
END
$$;
