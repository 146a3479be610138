CREATE TABLE "outbox_dead_letters" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"execution_id" uuid NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"attempts" integer NOT NULL,
	"error" text NOT NULL,
	"queued_at" timestamp with time zone NOT NULL,
	"failed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "outbox_available";--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "waiting_for" text;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "locked_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "last_error" text;--> statement-breakpoint
CREATE INDEX "outbox_dead_letters_execution" ON "outbox_dead_letters" USING btree ("execution_id");--> statement-breakpoint
CREATE INDEX "outbox_due" ON "outbox" USING btree ("available_at","id");