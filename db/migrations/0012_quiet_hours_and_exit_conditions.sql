ALTER TABLE "workflow_versions" ADD COLUMN "exit_events" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "workflows" ADD COLUMN "ignore_quiet_hours" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "workflows" ADD COLUMN "exit_on" jsonb;