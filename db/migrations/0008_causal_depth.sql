ALTER TABLE "events" ADD COLUMN "depth" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "depth" integer DEFAULT 0 NOT NULL;