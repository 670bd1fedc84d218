/** Plays SSE frames as a real upstream would, with the misbehaviours of MockBehavior. */
import type { MockBehavior } from "./behavior.ts";
import type { SseFrame } from "./reply.ts";

export interface StreamHooks {
	onStart(): void;
	/** Called once: `cancelled` when the client went away before the end. */
	onEnd(cancelled: boolean): void;
}

const encoder = new TextEncoder();

export function playFrames(
	frames: readonly SseFrame[],
	midErrorFrame: string,
	b: MockBehavior,
	signal: AbortSignal,
	hooks: StreamHooks,
): ReadableStream<Uint8Array> {
	let done = false;
	let wake: (() => void) | null = null;
	const finish = (cancelled: boolean) => {
		if (done) return;
		done = true;
		hooks.onEnd(cancelled);
		wake?.();
	};
	// Sleeps that end early when the client leaves, so timers never outlive a cancelled stream.
	const pause = (ms: number | null) =>
		new Promise<void>((resolve) => {
			const timer = ms === null ? null : setTimeout(resolve, ms);
			wake = () => {
				if (timer) clearTimeout(timer);
				resolve();
			};
		});
	hooks.onStart();
	signal.addEventListener("abort", () => finish(true), { once: true });

	return new ReadableStream<Uint8Array>({
		async start(controller) {
			let content = 0;
			for (let i = 0; i < frames.length; i++) {
				if (done) return;
				const frame = frames[i];
				if (i > 0 && b.dripMs) {
					await pause(b.dripMs);
					if (done) return;
				}
				if (frame.content && b.breakAfter !== undefined && content >= b.breakAfter) {
					// Let the frames already queued reach the client first, so it sees a 200 and
					// some data; then reset abruptly: no chunked terminator, no [DONE].
					await pause(10);
					if (done) return;
					finish(false);
					// `undefined` rather than an Error: Bun resets the socket either way, but
					// logs an Error with its stack on every break.
					controller.error(undefined);
					return;
				}
				if (b.holdUsage && content > 0 && !frame.content && frame.text.includes('"usage":{')) {
					await pause(null);
					return;
				}
				if (frame.content && b.midError && content >= 2) {
					controller.enqueue(encoder.encode(midErrorFrame));
					finish(false);
					controller.close();
					return;
				}
				try {
					controller.enqueue(encoder.encode(frame.text));
				} catch {
					finish(true);
					return;
				}
				if (frame.content) content++;
				if (b.stall) {
					await pause(null);
					return;
				}
			}
			finish(false);
			controller.close();
		},
		cancel() {
			finish(true);
		},
	});
}
