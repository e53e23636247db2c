/**
 * node:crypto, loaded the first time it is used rather than when a module that may use it is loaded. Loading it
 * (with the stream modules it pulls in) is about a sixth of what a step answered from its job record costs, and
 * that path never hashes or draws random bytes. `process.getBuiltinModule` loads a built-in synchronously, so the
 * callers stay as they are.
 */
import type * as Crypto from 'node:crypto';

let loaded: typeof Crypto | undefined;

export function crypto(): typeof Crypto {
  loaded ??= process.getBuiltinModule('node:crypto');
  return loaded;
}
