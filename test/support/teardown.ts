import { onTestFinished, TestRunner } from 'vitest';

/**
 * `close`, made safe to call again (a later call waits for the first), and called when the test that made the
 * resource finishes, in the test or its beforeEach. Made outside a test (in beforeAll), closing is the caller's.
 */
export function closedWithTest(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  const once = () => {
    closing ??= close();
    return closing;
  };
  if (TestRunner.getCurrentTest()) onTestFinished(once);
  return once;
}
