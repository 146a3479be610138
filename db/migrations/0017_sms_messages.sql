CREATE TABLE "messages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"contact_id" uuid NOT NULL,
	"execution_id" uuid,
	"step_id" uuid,
	"to" text NOT NULL,
	"body" text NOT NULL,
	"provider_id" text,
	"status" text NOT NULL,
	"error" text,
	"sent_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_execution_id_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "messages_project_sent_id" ON "messages" USING btree ("project_id","sent_at","id");--> statement-breakpoint
CREATE INDEX "messages_contact_sent" ON "messages" USING btree ("contact_id","sent_at","id");--> statement-breakpoint
CREATE INDEX "messages_execution" ON "messages" USING btree ("execution_id");--> statement-breakpoint
CREATE INDEX "messages_sent" ON "messages" USING btree ("sent_at");