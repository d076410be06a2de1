/** Spec helper: the ProtocolError a call throws (fails the spec if it throws nothing or something else). */
import { ProtocolError } from '../../protocol/errors';

export function errorOf(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('expected a ProtocolError');
}
