-- Executions already waiting in a WAIT_FOR_EVENT when signals began to go only to runs that wait:
-- their wait is read from the step they are on in their pinned graph.
UPDATE "executions" AS e
SET "waiting_for" = s.step -> 'config' ->> 'eventName'
FROM "workflow_versions" AS v, jsonb_array_elements(v."graph" -> 'steps') AS s(step)
WHERE e."status" = 'WAITING'
  AND v."workflow_id" = e."workflow_id"
  AND v."version" = e."workflow_version"
  AND s.step ->> 'id' = e."current_step_id"::text
  AND s.step ->> 'type' = 'WAIT_FOR_EVENT';
