import { script } from "./redis-link.ts";

/**
 * The fleet's atomic operations. Time is Redis' own (`TIME`), so instances whose clocks
 * disagree still share one bucket. Every key expires on its own: nothing needs cleaning.
 */

const NOW = "local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";

/**
 * A token bucket (RPM, TPM): KEYS[1]; ARGV capacity, refill per ms, wanted.
 * Takes what is there, up to `wanted`. Returns { granted, left }.
 */
export const RATE_TAKE = script(`${NOW}
local cap = tonumber(ARGV[1]); local rate = tonumber(ARGV[2]); local want = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(v[1]); local ts = tonumber(v[2])
if tokens == nil or ts == nil then tokens = cap; ts = now end
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local give = math.max(0, math.min(want, math.floor(tokens)))
tokens = tokens - give
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now), 'c', tostring(cap))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate) + 1000)
return {give, math.floor(tokens)}`);

/** Gives unused tokens back to a bucket, up to its capacity: KEYS[1]; ARGV count. */
export const RATE_GIVE = script(`
local v = redis.call('HMGET', KEYS[1], 't', 'c')
local t = tonumber(v[1]); local c = tonumber(v[2])
if t ~= nil and c ~= nil then redis.call('HSET', KEYS[1], 't', tostring(math.min(c, t + tonumber(ARGV[1])))) end
return 0`);

/**
 * A windowed counter (daily requests and tokens, period budgets): a hash of holder → units
 * leased in the window; the total is their sum. A counter Redis does not have yet starts from
 * `base` (the usage Postgres knew of, as the caller counted it), kept in the `_base` field.
 * KEYS[1]; ARGV holder, limit, wanted, ttl ms, base. Returns { granted, total }.
 */
export const COUNTER_LEASE = script(`
if tonumber(ARGV[5]) > 0 and redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], '_base', ARGV[5]) end
local vals = redis.call('HVALS', KEYS[1]); local total = 0
for i = 1, #vals do total = total + tonumber(vals[i]) end
local give = math.max(0, math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) - total))
if give > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], give) end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {give, total + give}`);

/**
 * Sets a holder's own share of a counter to at least `units` (resynchronising after Redis
 * lost its data), or moves it by `delta` (settling; never below zero). KEYS[1]; ARGV holder,
 * mode ('max' | 'add'), units, ttl ms. Returns the holder's share.
 */
export const COUNTER_SET = script(`
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local n = tonumber(ARGV[3])
local next = cur
if ARGV[2] == 'max' then next = math.max(cur, n) else next = math.max(0, cur + n) end
redis.call('HSET', KEYS[1], ARGV[1], next)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return next`);

/**
 * Concurrency slots across the fleet: a hash of holder → slots held; holders that stopped
 * beating (KEYS[2], a sorted set of holder → expiry) lose theirs. KEYS[1], KEYS[2]; ARGV
 * holder, max, wanted. Returns { granted, held by the fleet }.
 */
export const SLOTS_ACQUIRE = script(`${NOW}
local all = redis.call('HGETALL', KEYS[1]); local total = 0
for i = 1, #all, 2 do
  local h = all[i]
  local exp = tonumber(redis.call('ZSCORE', KEYS[2], h) or '0')
  if h ~= ARGV[1] and exp < now then redis.call('HDEL', KEYS[1], h) else total = total + tonumber(all[i + 1]) end
end
local give = math.max(0, math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) - total))
if give > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], give) end
redis.call('PEXPIRE', KEYS[1], 86400000)
return {give, total + give}`);

/** Sets a holder's slots (release, or resync after Redis came back): KEYS[1]; ARGV holder, count. */
export const SLOTS_SET = script(`
if tonumber(ARGV[2]) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); redis.call('PEXPIRE', KEYS[1], 86400000) end
return 0`);

/**
 * A holder's heartbeat: KEYS[1] the live set; ARGV holder, ttl ms. Drops holders long gone and
 * returns how many are alive (each instance's share of a limit while Redis is away).
 */
export const HEARTBEAT = script(`${NOW}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 3600000)
redis.call('PEXPIRE', KEYS[1], 3600000)
return redis.call('ZCOUNT', KEYS[1], now, '+inf')`);
