/** The golden vectors, read from the spec's own fixture copy (spec/fixtures/dm-messages.json). */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ValidVector {
  name: string;
  hex: string;
  message: Record<string, unknown>;
}

export interface InvalidVector {
  name: string;
  hex: string;
  error: string;
}

export const vectors: { valid: ValidVector[]; invalid: InvalidVector[] } = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'dm-messages.json'), 'utf8'),
);
