DROP INDEX "outbox_due";--> statement-breakpoint
CREATE INDEX "outbox_due_commands" ON "outbox" USING btree ("available_at","id") WHERE kind <> 'cancel';--> statement-breakpoint
CREATE INDEX "outbox_due_cancels" ON "outbox" USING btree ("available_at","id") WHERE kind = 'cancel';