import { randomBytes } from "node:crypto";

// Anchored: the whole string must be an address (the original runtime only searched for a substring). A host
// is at most 253 characters, as in DNS, so an address fits an index entry in every database.
const HOST = String.raw`(?:localhost|(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[a-z]{2,})`;
const MAX_HOST_LENGTH = 253;
/**
 * What a whole address looks like: `did:e:<host>:dids:<22 lowercase hex digits>`, the host being `localhost`
 * or a DNS name of at most 253 characters.
 * @example
 * ADDRESS_PATTERN.test("did:e:localhost:dids:0123456789abcdef012345"); // true
 */
export const ADDRESS_PATTERN = new RegExp(`^did:e:(?=[^:]{1,${MAX_HOST_LENGTH}}:)${HOST}:dids:[0-9a-f]{22}$`);
const HOST_PATTERN = new RegExp(`^${HOST}$`);

/**
 * Whether `value` is a string that is an address (see `ADDRESS_PATTERN`).
 * @example
 * const reference: unknown = request.body.reference;
 * if (!isAddress(reference)) throw new TypeError("reference must be an address");
 */
export function isAddress(value: unknown): value is string {
  return typeof value === "string" && ADDRESS_PATTERN.test(value);
}

export function isHost(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_HOST_LENGTH && HOST_PATTERN.test(value);
}

/** A fresh address on the given Backbone host: `did:e:<host>:dids:<22 hex>`. */
export function createAddress(host: string): string {
  return `did:e:${host}:dids:${randomBytes(11).toString("hex")}`;
}
