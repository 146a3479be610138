ALTER TABLE "workflows" ADD COLUMN "ever_enabled" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "workflows" ADD COLUMN "archived" boolean DEFAULT false NOT NULL;