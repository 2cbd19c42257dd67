/**
 * Polls `condition` (which may ask the database) until it holds, or fails naming `what` after `ms`. The one
 * polling loop of the tests.
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, { ms = 10_000, everyMs = 25 } = {}): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
