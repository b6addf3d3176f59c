import { SlotTakenError, StorageFailure } from "../../core/storage.js";
import { databaseFailure } from "../sql/records.js";
import type { PgPool, PgPoolClient } from "./driver.js";

const DEADLOCK_DETECTED = "40P01";
// Pauses before the retries of a call that lost its connection or was chosen as a deadlock's victim.
const RETRY_DELAYS_MS = [0, 10, 50];

/** What an attempt got to: a failure is safe to retry only if COMMIT had not been sent. */
export interface Attempt {
  committing: boolean;
}

/**
 * Runs `run` again (on another connection) when it failed in a way that left nothing done: a deadlock, which
 * aborted the whole transaction, or a lost connection before COMMIT was sent, whose transaction the server
 * rolls back. A pool can hold several connections that a restarted server or a terminated backend broke, and
 * it learns of them only as their sockets report it: a short pause lets it do so before the next attempt.
 * Any other failure, or one after the last attempt, becomes a StorageFailure; a taken slot stays itself.
 */
export async function retrying<T>(run: (attempt: Attempt) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const state: Attempt = { committing: false };
    try {
      return await run(state);
    } catch (error) {
      if (error instanceof SlotTakenError) throw error;
      const again =
        attempt < RETRY_DELAYS_MS.length &&
        (errorCode(error) === DEADLOCK_DETECTED || (isConnectionLoss(error) && !state.committing));
      if (!again) throw failure(error, state.committing);
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
    }
  }
}

/**
 * Lends `work` a pooled connection, in a transaction. A connection that failed (anything but an error the
 * server reported about a statement) is dropped rather than handed to the next call.
 */
export async function withClient<T>(
  pool: PgPool,
  work: (client: PgPoolClient) => Promise<T>,
  attempt: Attempt,
): Promise<T> {
  const client = await pool.connect();
  // A connection that breaks between two statements emits "error": without a listener, that would crash.
  let broken: Error | undefined;
  const onError = (error: Error): void => void (broken ??= error);
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    const result = await work(client);
    attempt.committing = true;
    await client.query("COMMIT");
    return result;
  } catch (error) {
    if (!isStatementError(error)) broken ??= toError(error);
    if (broken === undefined) {
      // On a broken connection there is nothing to roll back: the server ends the transaction with it.
      await client
        .query("ROLLBACK")
        .catch((rollbackError: unknown) => void (broken ??= toError(rollbackError)));
    }
    throw error;
  } finally {
    client.removeListener("error", onError);
    client.release(broken ?? false);
  }
}

/**
 * An error of a statement that leaves its connection usable: a taken slot, a constraint violation, a deadlock
 * or serialization failure, or a failure of this package's own (a newer schema). Anything else (a lost
 * connection, a terminated backend) may have left the connection broken.
 */
function isStatementError(error: unknown): boolean {
  if (error instanceof SlotTakenError || error instanceof StorageFailure) return true;
  const code = errorCode(error);
  return code !== undefined && (code.startsWith("23") || code.startsWith("40"));
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The connection went away (lost, refused, terminated, server shutting down): not the statement's fault. */
function isConnectionLoss(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof StorageFailure) return false;
  const code = errorCode(error);
  // What the server reports carries a severity and a SQLSTATE: the connection classes, or a shutdown.
  if (typeof (error as { severity?: unknown }).severity === "string") {
    return code !== undefined && (code.startsWith("08") || ["57P01", "57P02", "57P03"].includes(code));
  }
  // Socket errors carry Node's codes (ECONNRESET, EPIPE, …); the driver's own say what happened in words.
  return (
    (code !== undefined && code.startsWith("E")) ||
    /connection|terminated|timeout|not queryable/i.test(error.message)
  );
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The one conversion of the driver's errors: a StorageFailure that keeps the cause. */
export function failure(error: unknown, committing = false): StorageFailure {
  if (committing && isConnectionLoss(error)) {
    const detail = error instanceof Error ? error.message : String(error);
    return new StorageFailure(
      `identity-runtime: PostgreSQL lost the connection while committing, so the changes may or may not have been applied: ${detail}`,
      { cause: error },
    );
  }
  return databaseFailure("PostgreSQL", error);
}
