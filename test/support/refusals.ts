// The refusals the tests check most: exit 65 naming the cause, with nothing of the database changed.
import { expect } from 'vitest';
import type { freshDatabase, TestDatabase } from './db.js';
import { adoptedDatabase, failure, inProcessGate } from './gate.js';

/**
 * On a database of `shape` adopted as test keys and then changed by `statements`, a clean to live keys is
 * refused (65) with a message naming `named`, and nothing changes. Returns the refusal.
 */
export async function refusedByName(shape: Parameters<typeof freshDatabase>[0], statements: string[], named: string) {
  const db = await adoptedDatabase(shape, statements);
  const before = await db.checksums();
  const result = await inProcessGate(() => db.url).cleanToLive();
  expect(result).toMatchObject({ decision: 'refused-mismatch', exitCode: 65 });
  expect(result.message).toContain(named);
  expect(await db.checksums()).toEqual(before);
  return result;
}

/** `run` fails with 65 and a message naming `named`, and `db` is left as it was. Returns the failure. */
export async function failsUnchanged(db: TestDatabase, run: () => Promise<unknown>, named: string) {
  const before = await db.checksums();
  const error = await failure(run());
  expect(error.exitCode).toBe(65);
  expect(error.message).toContain(named);
  expect(await db.checksums()).toEqual(before);
  return error;
}
