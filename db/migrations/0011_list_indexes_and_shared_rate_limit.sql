CREATE TABLE "rate_limits" (
	"key" text PRIMARY KEY NOT NULL,
	"tokens" double precision NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
DROP INDEX "emails_project_sent";--> statement-breakpoint
DROP INDEX "events_project_created";--> statement-breakpoint
DROP INDEX "events_contact_created";--> statement-breakpoint
DROP INDEX "executions_workflow_status";--> statement-breakpoint
DROP INDEX "executions_contact";--> statement-breakpoint
CREATE INDEX "contacts_project_created" ON "contacts" USING btree ("project_id","created_at","id");--> statement-breakpoint
CREATE INDEX "emails_project_sent_id" ON "emails" USING btree ("project_id","sent_at","id");--> statement-breakpoint
CREATE INDEX "emails_contact_sent" ON "emails" USING btree ("contact_id","sent_at","id");--> statement-breakpoint
CREATE INDEX "events_project_created_id" ON "events" USING btree ("project_id","created_at","id");--> statement-breakpoint
CREATE INDEX "events_contact_created_id" ON "events" USING btree ("contact_id","created_at","id");--> statement-breakpoint
CREATE INDEX "events_project_name_created" ON "events" USING btree ("project_id","name","created_at","id");--> statement-breakpoint
CREATE INDEX "executions_workflow_started" ON "executions" USING btree ("workflow_id","started_at","id");--> statement-breakpoint
CREATE INDEX "executions_workflow_status_started" ON "executions" USING btree ("workflow_id","status","started_at","id");--> statement-breakpoint
CREATE INDEX "executions_contact_started" ON "executions" USING btree ("contact_id","started_at","id");--> statement-breakpoint
CREATE INDEX "executions_finished" ON "executions" USING btree ("completed_at") WHERE status in ('COMPLETED', 'EXITED', 'FAILED', 'CANCELLED');--> statement-breakpoint
CREATE INDEX "idempotency_keys_created" ON "idempotency_keys" USING btree ("created_at");