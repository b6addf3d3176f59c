import { randomBytes } from "node:crypto";

/** Prefixes of the ids this library hands out, as in enmeshed. */
export type IdPrefix = "IDM" | "RLT" | "REL" | "MSG" | "REQ" | "IDP" | "PSH" | "ERR" | "AUD";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ID_BODY_LENGTH = 17;
// 248 = 4 * 62: bytes at or above it are discarded so every character is equally likely.
const UNBIASED_LIMIT = 248;

// Reading randomness in blocks keeps id generation cheap on hot paths such as upserts.
let pool = randomBytes(4096);
let poolOffset = 0;

function nextRandomByte(): number {
  if (poolOffset >= pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  return pool[poolOffset++] as number;
}

const CODES = [...ALPHABET].map((character) => character.charCodeAt(0));
const body: number[] = new Array<number>(ID_BODY_LENGTH).fill(0);

/** A new id: the prefix and 17 characters of [A-Za-z0-9] from a cryptographic random source. */
export function generateId(prefix: IdPrefix): string {
  for (let filled = 0; filled < ID_BODY_LENGTH;) {
    const byte = nextRandomByte();
    if (byte < UNBIASED_LIMIT) body[filled++] = CODES[byte % CODES.length] as number;
  }
  // One flat string: appending character by character would leave a chain of V8 cons strings per id.
  return prefix + String.fromCharCode(...body);
}

/** The anchored pattern of ids with the given prefix. */
export function idPattern(prefix: IdPrefix): RegExp {
  return new RegExp(`^${prefix}[A-Za-z0-9]{${ID_BODY_LENGTH}}$`);
}
