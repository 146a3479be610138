CREATE INDEX "emails_sent" ON "emails" USING btree ("sent_at");--> statement-breakpoint
CREATE INDEX "events_created" ON "events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "executions_workflow_finished" ON "executions" USING btree ("workflow_id","completed_at") WHERE status in ('COMPLETED', 'EXITED', 'FAILED', 'CANCELLED');