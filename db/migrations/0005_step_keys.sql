ALTER TABLE "steps" ADD COLUMN "key" text;--> statement-breakpoint
-- Existing steps get the keys new ones get: `trigger`, else the type in lower case and a number.
UPDATE "steps" SET "key" = k.key FROM (
  SELECT "id", CASE WHEN "type" = 'TRIGGER' THEN 'trigger'
    ELSE lower("type") || '_' || row_number() OVER (PARTITION BY "workflow_id", "type" ORDER BY "created_at", "id") END AS key
  FROM "steps"
) k WHERE k."id" = "steps"."id";--> statement-breakpoint
ALTER TABLE "steps" ALTER COLUMN "key" SET NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "steps_workflow_key" ON "steps" USING btree ("workflow_id","key");
