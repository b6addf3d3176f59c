/**
 * Binds an object's prototype methods to it, so `const { getIdentityMetadata } = runtime.identityMetadata`
 * works as well as the method call does.
 */
export function bindMethods(instance: object): void {
  const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const method = prototype[name];
    if (name === "constructor" || typeof method !== "function") continue;
    Object.defineProperty(instance, name, {
      value: method.bind(instance),
      configurable: true,
      writable: true,
    });
  }
}
