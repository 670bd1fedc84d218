import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FleetLeases, type Grant } from "../../src/fleet/fleet-leases.ts";
import { RedisLink } from "../../src/fleet/redis-link.ts";
import { startRedis, type TestRedis } from "../support/redis-server.ts";
import { waitFor } from "../support/wait-for.ts";

let redis: TestRedis;
const links: RedisLink[] = [];
const holders: FleetLeases[] = [];
let n = 0;

beforeAll(async () => {
	redis = await startRedis();
});

afterAll(async () => {
	for (const h of holders) await h.stop();
	for (const l of links) l.close();
	await redis.stop();
});

/** `count` holders sharing one key prefix, as the worker threads of a fleet would. */
async function fleet(count: number, over: { leaseFraction?: number; idleMs?: number; holderTtlMs?: number } = {}) {
	const prefix = `t${++n}:`;
	const out: FleetLeases[] = [];
	for (let i = 0; i < count; i++) {
		const link = new RedisLink({ url: redis.url, deadlineMs: 200 });
		await link.start();
		links.push(link);
		const h = new FleetLeases(link, {
			holder: `h${i}`,
			prefix,
			leaseFraction: over.leaseFraction ?? 0.1,
			idleMs: over.idleMs ?? 60_000,
			holderTtlMs: over.holderTtlMs ?? 3_000,
		});
		h.start();
		holders.push(h);
		out.push(h);
	}
	return out;
}

const granted = async (grants: Grant[]) =>
	(await Promise.all(grants.map((g) => Promise.resolve(g)))).filter(Boolean).length;

describe("fleet leases (real redis-server)", () => {
	test("a daily request quota holds across holders, whatever the interleaving", async () => {
		const hs = await fleet(3);
		const day = FleetLeases.day(Date.now());
		const grants: Grant[] = [];
		for (let i = 0; i < 200; i++) grants.push(hs[i % 3]?.takeCounter("key:q", "requests", day, 50, 1) ?? false);
		expect(await granted(grants)).toBe(50);
	});

	test("an RPM bucket admits its capacity across holders", async () => {
		const hs = await fleet(3);
		const grants: Grant[] = [];
		for (let i = 0; i < 200; i++) grants.push(hs[i % 3]?.takeRate("key:r", "rpm", 30, 1) ?? false);
		// the bucket refills at 30 per minute: a run of a second may see one more
		const n = await granted(grants);
		expect(n).toBeGreaterThanOrEqual(30);
		expect(n).toBeLessThanOrEqual(31);
	});

	test("after the first lease, requests are answered from memory (no promise)", async () => {
		const [h] = await fleet(1, { leaseFraction: 0.5 });
		if (!h) throw new Error("no holder");
		const day = FleetLeases.day(Date.now());
		expect(await h.takeCounter("key:m", "requests", day, 100, 1)).toBe(true);
		// the lease holds 50: the next ones are synchronous
		const sync = Array.from({ length: 20 }, () => h.takeCounter("key:m", "requests", day, 100, 1));
		expect(sync.every((g) => g === true)).toBe(true);
	});

	test("concurrency slots hold fleet-wide; a released slot is reused", async () => {
		const hs = await fleet(2, { idleMs: 60_000 });
		const grants: Grant[] = [];
		for (let i = 0; i < 10; i++) grants.push(hs[i % 2]?.acquireSlot("key:c", 3) ?? false);
		expect(await granted(grants)).toBe(3);
		const holder = hs.find(
			(h) => (h as unknown as { slots: Map<string, { inUse: number }> }).slots.get("key:c")?.inUse,
		);
		if (!holder) throw new Error("no holder has a slot");
		holder.releaseSlot("key:c");
		expect(await Promise.resolve(holder.acquireSlot("key:c", 3))).toBe(true);
	});

	test("a dead holder's slots come back when its heartbeat expires", async () => {
		const [a, b] = await fleet(2, { holderTtlMs: 300, idleMs: 60_000 });
		if (!a || !b) throw new Error("no holders");
		expect(await Promise.resolve(a.acquireSlot("key:k", 1))).toBe(true);
		expect(await Promise.resolve(b.acquireSlot("key:k", 1))).toBe(false);
		await a.stop(); // no more heartbeats, and the slot is never released: as if killed
		(a as unknown as { slots: Map<string, unknown> }).slots.clear();
		await waitFor(async () => (await Promise.resolve(b.acquireSlot("key:k", 1))) === true, {
			what: "the dead holder's slot",
			timeoutMs: 5_000,
		});
	});

	test("unused leases go back when idle, so another holder can use them", async () => {
		const [a, b] = await fleet(2, { leaseFraction: 0.5, idleMs: 100 });
		if (!a || !b) throw new Error("no holders");
		const day = FleetLeases.day(Date.now());
		expect(await Promise.resolve(a.takeCounter("key:i", "requests", day, 10, 1))).toBe(true); // a leased 5
		// b gets the other 5, then nothing while a holds 4 unused…
		const first: Grant[] = [];
		for (let i = 0; i < 9; i++) first.push(b.takeCounter("key:i", "requests", day, 10, 1));
		expect(await granted(first)).toBe(5);
		// …until a's idle lease goes back
		await waitFor(async () => (await Promise.resolve(b.takeCounter("key:i", "requests", day, 10, 1))) === true, {
			what: "a's idle lease back in the pool",
		});
	});

	test("Redis down: each holder keeps serving at its share; back up: the counters resync", async () => {
		const hs = await fleet(2, { leaseFraction: 0.1 });
		const [a, b] = hs;
		if (!a || !b) throw new Error("no holders");
		const day = FleetLeases.day(Date.now());
		// both beat once, so each knows there are two
		await waitFor(() => a.liveHolders === 2 && b.liveHolders === 2, { what: "two live holders" });
		expect(await Promise.resolve(a.takeCounter("key:o", "requests", day, 40, 1))).toBe(true);
		await redis.stop();
		// no request waits: every answer comes within the deadline
		const started = performance.now();
		const offline: Grant[] = [];
		for (let i = 0; i < 60; i++) offline.push((i % 2 ? b : a).takeCounter("key:o", "requests", day, 40, 1));
		const ok = await granted(offline);
		expect(performance.now() - started).toBeLessThan(2_000);
		// each holder alone allows its share (20), so the fleet stays near the limit
		expect(ok).toBeGreaterThanOrEqual(38);
		expect(ok).toBeLessThanOrEqual(40);
		await redis.restart(); // a fresh, empty Redis
		await waitFor(
			async () => {
				const more = await Promise.resolve(a.takeCounter("key:o", "requests", day, 40, 1));
				return more === false;
			},
			{ what: "the resynchronised counter to refuse", timeoutMs: 15_000 },
		);
	});
});
