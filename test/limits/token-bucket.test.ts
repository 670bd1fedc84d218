import { describe, expect, test } from "bun:test";
import { LimitTable } from "../../src/limits/limit-table.ts";
import { MAX_BUCKET_UNITS, TokenBucket } from "../../src/limits/token-bucket.ts";

const EPOCH = 1_700_000_000_000;
const perMinute = (n: number) => n / 60_000;

function setup() {
	const table = new LimitTable({ capacity: 16, epochMs: EPOCH });
	const bucket = new TokenBucket(table, "rpm");
	return { bucket, slot: table.slotFor("key-1") };
}

describe("TokenBucket", () => {
	test("a fresh bucket is full and admits exactly its capacity at one instant", () => {
		const { bucket, slot } = setup();
		let admitted = 0;
		for (let i = 0; i < 100; i++) {
			if (bucket.tryTake(slot, 1, 60, perMinute(60), EPOCH).ok) admitted++;
		}
		expect(admitted).toBe(60);
	});

	test("admits floor(capacity / cost) for capacities that do not divide the window", () => {
		const { bucket, slot } = setup();
		let admitted = 0;
		for (let i = 0; i < 20; i++) if (bucket.tryTake(slot, 1, 7, perMinute(7), EPOCH).ok) admitted++;
		expect(admitted).toBe(7);
	});

	test("remaining, reset and retry-after follow the refill rate", () => {
		const { bucket, slot } = setup();
		const first = bucket.tryTake(slot, 1, 60, perMinute(60), EPOCH);
		expect(first).toEqual({
			ok: true,
			remaining: 59,
			resetMs: 1000,
			retryAfterMs: 0,
		});
		for (let i = 0; i < 59; i++) bucket.tryTake(slot, 1, 60, perMinute(60), EPOCH);
		const refused = bucket.tryTake(slot, 1, 60, perMinute(60), EPOCH);
		expect(refused).toEqual({
			ok: false,
			remaining: 0,
			resetMs: 60_000,
			retryAfterMs: 1000,
		});
		// 999 ms later still nothing; at 1000 ms one unit is back.
		expect(bucket.tryTake(slot, 1, 60, perMinute(60), EPOCH + 999)).toMatchObject({
			ok: false,
			retryAfterMs: 1,
		});
		expect(bucket.tryTake(slot, 1, 60, perMinute(60), EPOCH + 1000)).toMatchObject({
			ok: true,
			remaining: 0,
		});
	});

	test("refills to capacity and never beyond", () => {
		const { bucket, slot } = setup();
		for (let i = 0; i < 10; i++) bucket.tryTake(slot, 1, 10, perMinute(10), EPOCH);
		const later = bucket.peek(slot, 10, perMinute(10), EPOCH + 3_600_000);
		expect(later).toEqual({ remaining: 10, resetMs: 0 });
		let admitted = 0;
		for (let i = 0; i < 30; i++) {
			if (bucket.tryTake(slot, 1, 10, perMinute(10), EPOCH + 3_600_000).ok) admitted++;
		}
		expect(admitted).toBe(10);
	});

	test("slow buckets keep fractional refill under frequent polling (rpm = 1)", () => {
		const { bucket, slot } = setup();
		expect(bucket.tryTake(slot, 1, 1, perMinute(1), EPOCH).ok).toBe(true);
		// Poll every 7 ms for a minute: each poll credits 0 whole units but must not lose time.
		let t = EPOCH;
		let okAt = -1;
		while (t < EPOCH + 61_000 && okAt < 0) {
			t += 7;
			if (bucket.tryTake(slot, 1, 1, perMinute(1), t).ok) okAt = t - EPOCH;
		}
		expect(okAt).toBeGreaterThanOrEqual(60_000);
		expect(okAt).toBeLessThan(60_007);
	});

	test("steady traffic never exceeds capacity + rate × elapsed", () => {
		const { bucket, slot } = setup();
		const cap = 100;
		const rate = perMinute(cap);
		let admitted = 0;
		for (let ms = 0; ms <= 120_000; ms += 13) {
			for (let k = 0; k < 3; k++) if (bucket.tryTake(slot, 1, cap, rate, EPOCH + ms).ok) admitted++;
		}
		expect(admitted).toBeLessThanOrEqual(cap + Math.floor(rate * 120_000));
		expect(admitted).toBeGreaterThanOrEqual(cap + Math.floor(rate * 120_000) - 2);
	});

	test("cost above capacity is never possible", () => {
		const { bucket, slot } = setup();
		const r = bucket.tryTake(slot, 11, 10, perMinute(10), EPOCH);
		expect(r.ok).toBe(false);
		expect(r.retryAfterMs).toBe(Number.POSITIVE_INFINITY);
	});

	test("giveBack returns units but never past capacity", () => {
		const { bucket, slot } = setup();
		bucket.tryTake(slot, 8, 10, perMinute(10), EPOCH);
		bucket.giveBack(slot, 5);
		expect(bucket.peek(slot, 10, perMinute(10), EPOCH).remaining).toBe(7);
		bucket.giveBack(slot, 500);
		expect(bucket.peek(slot, 10, perMinute(10), EPOCH).remaining).toBe(10);
		// A full bucket does not bank the time it sat full.
		expect(bucket.tryTake(slot, 10, 10, perMinute(10), EPOCH + 30_000).ok).toBe(true);
		expect(bucket.tryTake(slot, 1, 10, perMinute(10), EPOCH + 30_000).ok).toBe(false);
	});

	test("forceTake puts the bucket into debt that later takes wait out", () => {
		const { bucket, slot } = setup();
		bucket.tryTake(slot, 10, 10, perMinute(10), EPOCH);
		bucket.forceTake(slot, 10, EPOCH);
		const r = bucket.tryTake(slot, 1, 10, perMinute(10), EPOCH);
		expect(r.ok).toBe(false);
		expect(r.retryAfterMs).toBe(66_000);
		expect(r.resetMs).toBe(120_000);
		expect(bucket.tryTake(slot, 1, 10, perMinute(10), EPOCH + 66_000).ok).toBe(true);
	});

	test("capacities above the packed range are clamped", () => {
		const { bucket, slot } = setup();
		const r = bucket.tryTake(slot, 1, 10 ** 12, 10 ** 12 / 60_000, EPOCH);
		expect(r.ok).toBe(true);
		expect(r.remaining).toBe(MAX_BUCKET_UNITS - 1);
	});

	test("rpm and tpm buckets of one slot are independent", () => {
		const table = new LimitTable({ capacity: 16, epochMs: EPOCH });
		const rpm = new TokenBucket(table, "rpm");
		const tpm = new TokenBucket(table, "tpm");
		const slot = table.slotFor("k");
		rpm.tryTake(slot, 5, 5, perMinute(5), EPOCH);
		expect(tpm.tryTake(slot, 5, 5, perMinute(5), EPOCH).ok).toBe(true);
		expect(rpm.tryTake(slot, 1, 5, perMinute(5), EPOCH).ok).toBe(false);
	});
});
