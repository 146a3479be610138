ALTER TABLE "segments" ADD COLUMN "initializing" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "segments" ADD COLUMN "time_relative" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "segments_time_relative" ON "segments" USING btree ("id") WHERE time_relative;