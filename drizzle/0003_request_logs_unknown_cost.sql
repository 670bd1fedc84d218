-- cost_usd is null when the model had no price: the cost is unknown, not $0.
-- (request_logs is the custom partitioned table of 0001; drizzle-kit does not track it.)
ALTER TABLE "request_logs" ALTER COLUMN "cost_usd" DROP NOT NULL;
