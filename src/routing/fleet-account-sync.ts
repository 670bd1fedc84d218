import type { RedisLink } from "../fleet/redis-link.ts";
import type { Logger } from "../logging/logger.ts";
import type { AccountStateTable } from "./account-state-table.ts";

/**
 * Account health shared by the fleet: credential disables, cooldowns (an upstream's
 * retry-after), ejections and the end of an ejection (a half-open probe that passed), for whole
 * accounts and for their (account, model) lanes. One instance's verdict reaches every other in
 * about a second.
 *
 * Nothing on the request path changes: one thread per instance compares the shared tables
 * with what it last saw every `intervalMs`, publishes what changed here, and writes what other
 * instances published into the same tables (which every worker of this instance reads). The
 * last state of each account is also kept in a Redis hash, so an instance that starts or
 * reconnects catches up.
 */

/** One account's (or lane's) shared state. */
interface SharedState {
	/** Upstream status that disabled it (401/403), 0 when enabled. */
	d: number;
	/** When it was disabled. */
	ds: number;
	/** Cooldown end (epoch ms), 0 for none; `h`: taken from the upstream's retry-after. */
	c: number;
	h: boolean;
	/** Ejection end (epoch ms), 0 for none. */
	e: number;
}

interface Message {
	from: string;
	table: "a" | "m";
	key: string;
	state: SharedState;
}

export interface FleetAccountSyncOptions {
	link: RedisLink;
	holder: string;
	prefix: string;
	accounts: AccountStateTable;
	lanes: AccountStateTable;
	intervalMs?: number;
	logger?: Logger;
	now?: () => number;
}

const same = (a: SharedState, b: SharedState) => a.d === b.d && a.c === b.c && a.e === b.e && a.h === b.h;

export class FleetAccountSync {
	private readonly opts: FleetAccountSyncOptions;
	private readonly channel: string;
	private readonly hash: string;
	/** What this instance last saw (or wrote) per table and key. */
	private readonly seen = new Map<string, SharedState>();
	private timer: ReturnType<typeof setInterval> | null = null;
	private readonly now: () => number;

	constructor(opts: FleetAccountSyncOptions) {
		this.opts = opts;
		this.channel = `${opts.prefix}accounts`;
		this.hash = `${opts.prefix}accounts:state`;
		this.now = opts.now ?? Date.now;
		opts.link.subscribe(this.channel, (m) => this.receive(m));
		opts.link.onUp(() => void this.catchUp());
	}

	start(): void {
		// the first scan records the tables as they are: only later changes are news
		this.scan(false);
		void this.catchUp();
		this.timer = setInterval(() => this.scan(true), this.opts.intervalMs ?? 250);
	}

	stop(): void {
		if (this.timer) clearInterval(this.timer);
		this.timer = null;
	}

	private tableOf(t: Message["table"]): AccountStateTable {
		return t === "a" ? this.opts.accounts : this.opts.lanes;
	}

	private read(table: AccountStateTable, slot: number): SharedState {
		return {
			d: table.disabledStatus(slot),
			ds: table.disabledSince(slot),
			c: table.cooldownUntil(slot),
			h: table.cooldownHinted(slot),
			e: table.ejectedUntil(slot),
		};
	}

	/** Publishes what changed here since the last scan. */
	private scan(publish: boolean): void {
		for (const t of ["a", "m"] as const) {
			const table = this.tableOf(t);
			for (let slot = 0; slot < table.capacity; slot++) {
				const key = table.keyOf(slot);
				if (key === null) continue;
				const id = `${t}|${key}`;
				const state = this.read(table, slot);
				const before = this.seen.get(id);
				this.seen.set(id, state);
				if (
					!publish ||
					(before && same(before, state)) ||
					(!before && state.d === 0 && state.c === 0 && state.e === 0)
				) {
					continue;
				}
				this.send({ from: this.opts.holder, table: t, key, state });
			}
		}
	}

	private send(m: Message): void {
		const { link } = this.opts;
		if (!link.up) return;
		const text = JSON.stringify(m);
		link.command("HSET", [this.hash, `${m.table}|${m.key}`, text]).catch(() => {});
		link.command("PEXPIRE", [this.hash, 86_400_000]).catch(() => {});
		link.command("PUBLISH", [this.channel, text]).catch(() => {});
	}

	private receive(text: string): void {
		let m: Message;
		try {
			m = JSON.parse(text) as Message;
		} catch {
			return;
		}
		if (m.from === this.opts.holder || (m.table !== "a" && m.table !== "m")) return;
		this.apply(m);
	}

	/** Reads every account's last shared state (at start, and when Redis comes back). */
	private async catchUp(): Promise<void> {
		try {
			const all = (await this.opts.link.command("HGETALL", [this.hash])) as Record<string, string> | string[] | null;
			const values = Array.isArray(all) ? all.filter((_, i) => i % 2 === 1) : Object.values(all ?? {});
			for (const v of values) this.receive(v);
		} catch {
			// Redis away: the next onUp tries again
		}
	}

	/** Writes another instance's verdict into this instance's table. */
	private apply(m: Message): void {
		const table = this.tableOf(m.table);
		const slot = table.allocate(m.key);
		if (slot < 0) return;
		const now = this.now();
		const mine = this.read(table, slot);
		const s = m.state;
		if (s.d !== 0 && mine.d === 0) {
			table.disable(slot, s.d, s.ds || now);
			this.opts.logger?.warn(
				{ account: m.key, status: s.d },
				"account disabled by another instance (upstream credentials refused)",
			);
		} else if (s.d === 0 && mine.d !== 0) {
			table.resetHealth(slot);
			table.enable(slot);
		}
		if (s.c > mine.c && s.c > now) table.extendCooldown(slot, s.c, now, s.h);
		if (s.e > mine.e && s.e > now) {
			if (table.casEjectedUntil(slot, mine.e, s.e)) table.setEjectedSince(slot, now);
		} else if (s.e === 0 && mine.e !== 0 && mine.e <= now) {
			// another instance's probe found it healthy again
			table.casEjectedUntil(slot, mine.e, 0);
		}
		// what is in the table now is not news to publish back
		this.seen.set(`${m.table}|${m.key}`, this.read(table, slot));
	}
}
