/** Polls `condition` until it holds, or fails naming `what` after `ms`. */
export async function until(condition: () => boolean, what: string, { ms = 10_000, everyMs = 25 } = {}): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
