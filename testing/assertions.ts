/**
 * Assertions for the test kit that work under any test runner (jest, vitest, node:test, mocha):
 * they throw a TestKitAssertionError whose message says what was expected and what was there,
 * and narrow the type for the lines after them.
 */
import type { DmMessage, DmMessageOf, DmMessageTypeName } from '../protocol/messages';
import type { ReceivedPacket } from './scripted-end';

export class TestKitAssertionError extends Error {
  override readonly name = 'TestKitAssertionError';
}

/** JSON with bigint fields shown as numbers (DM messages carry 64-bit fields). */
function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

function matches(actual: unknown, expected: unknown): boolean {
  if (expected !== null && typeof expected === 'object' && !(expected instanceof Uint8Array)) {
    if (actual === null || typeof actual !== 'object') return false;
    if (Array.isArray(expected)) {
      return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matches(actual[i], e));
    }
    return Object.entries(expected).every(([k, v]) => matches((actual as Record<string, unknown>)[k], v));
  }
  return Object.is(actual, expected);
}

/** A deep partial of a message: the fields a test cares about. */
export type MessageFields<T extends DmMessageTypeName> = { [K in keyof DmMessageOf<T>]?: unknown };

/**
 * Asserts that `message` is a DM message of `type` whose fields include `fields` (compared deeply;
 * arrays must match element by element). Returns it, typed.
 */
export function expectMessage<T extends DmMessageTypeName>(message: DmMessage | ReceivedPacket | undefined, type: T, fields: MessageFields<T> = {}): DmMessageOf<T> {
  const m = message !== undefined && 'bytes' in message ? message.message : message;
  if (m === undefined) {
    const why = message !== undefined && 'bytes' in message ? `undecodable bytes (${message.error ?? 'unknown error'})` : 'nothing';
    throw new TestKitAssertionError(`expected a ${type}, got ${why}`);
  }
  if (m.type !== type) throw new TestKitAssertionError(`expected a ${type}, got ${m.type}: ${show(m)}`);
  for (const [key, value] of Object.entries(fields)) {
    const actual = (m as unknown as Record<string, unknown>)[key];
    if (!matches(actual, value)) throw new TestKitAssertionError(`${type}.${key}: expected ${show(value)}, got ${show(actual)} (in ${show(m)})`);
  }
  return m as DmMessageOf<T>;
}

/** Asserts that exactly `count` messages of `type` are in `messages`; returns them. */
export function expectMessageCount<T extends DmMessageTypeName>(messages: readonly DmMessage[], type: T, count: number): DmMessageOf<T>[] {
  const found = messages.filter((m): m is DmMessageOf<T> => m.type === type);
  if (found.length !== count) {
    throw new TestKitAssertionError(`expected ${count} ${type}, got ${found.length} (types seen: ${messages.map((m) => m.type).join(', ') || 'none'})`);
  }
  return found;
}

/** Asserts a state (a testbed's state name) is `expected`. */
export function expectState(actual: string | undefined, expected: string): void {
  if (actual !== expected) throw new TestKitAssertionError(`expected state ${expected}, got ${actual ?? 'none'}`);
}
