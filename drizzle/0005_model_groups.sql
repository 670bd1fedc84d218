CREATE TABLE "model_groups" (
	"name" text PRIMARY KEY NOT NULL,
	"targets" text[] NOT NULL,
	"strategy" text DEFAULT 'ordered' NOT NULL,
	"weights" integer[],
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
