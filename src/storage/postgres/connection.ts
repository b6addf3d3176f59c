import { SlotTakenError, StorageFailure } from "../../core/storage.js";
import { databaseFailure } from "../sql/records.js";
import type { PgPool, PgPoolClient } from "./driver.js";

const DEADLOCK_DETECTED = "40P01";
const SERIALIZATION_FAILURE = "40001";
// Pauses before the retries of a call that lost its connection.
const RETRY_DELAYS_MS = [0, 10, 50];
// A transaction that lost a race (a serialization failure, a deadlock) is run again, after a random pause of
// up to 2^n ms (at most 100), until it wins or this many attempts have lost.
const MAX_CONFLICT_ATTEMPTS = 60;

/**
 * SERIALIZABLE for the storage port's transactions: one that read what another changed meanwhile fails, and
 * is run again. A unit of work on its own reads nothing it decides on, and runs READ COMMITTED: it never
 * fails for a conflict it could not have.
 */
export type Isolation = "SERIALIZABLE" | "READ COMMITTED";

/**
 * How a transaction begins. One that takes locks others wait for is bounded by `lockLimitMs`: it waits no
 * longer for a lock, and the server ends its session should it sit idle that long in the transaction (its
 * process stopped, its host gone), so that its locks do not outlive it.
 */
export interface TransactionMode {
  readonly isolation: Isolation;
  readonly lockLimitMs?: number;
}

/** What an attempt got to: a failure is safe to retry only if COMMIT had not been sent. */
export interface Attempt {
  committing: boolean;
}

/**
 * What the work of a transaction threw by itself (not a statement's failure): it leaves the transaction as
 * it is, unwrapped, never retried.
 */
export class OwnFailure extends Error {
  constructor(readonly error: unknown) {
    super("identity-runtime: the work of a transaction failed");
  }
}

/**
 * Runs `run` again (on another connection) when it failed in a way that left nothing done: a serialization
 * failure or a deadlock, which aborted the whole transaction (its work runs again and now sees the winner's
 * writes), or a lost connection before COMMIT was sent, whose transaction the server rolls back. A pool can
 * hold several connections that a restarted server or a terminated backend broke, and it learns of them only
 * as their sockets report it: a short pause lets it do so before the next attempt. Any other failure, or one
 * after the last attempt, becomes a StorageFailure; a taken slot stays itself.
 */
export async function retrying<T>(run: (attempt: Attempt) => Promise<T>): Promise<T> {
  let conflicts = 0;
  let losses = 0;
  for (;;) {
    const state: Attempt = { committing: false };
    try {
      return await run(state);
    } catch (error) {
      if (error instanceof SlotTakenError) throw error;
      if (error instanceof OwnFailure) throw error.error;
      const code = errorCode(error);
      if (code === SERIALIZATION_FAILURE || code === DEADLOCK_DETECTED) {
        if (++conflicts >= MAX_CONFLICT_ATTEMPTS) throw failure(error);
        await pause(Math.random() * Math.min(2 ** conflicts, 100));
        continue;
      }
      if (!(losses < RETRY_DELAYS_MS.length && isConnectionLoss(error) && !state.committing)) {
        throw failure(error, state.committing);
      }
      await pause(RETRY_DELAYS_MS[losses++] as number);
    }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Lends `work` a pooled connection, in a transaction. A connection that failed (anything but an error the
 * server reported about a statement) is dropped rather than handed to the next call.
 */
export async function withClient<T>(
  pool: PgPool,
  work: (client: PgPoolClient) => Promise<T>,
  attempt: Attempt,
  { isolation, lockLimitMs }: TransactionMode,
): Promise<T> {
  const client = await pool.connect();
  // A connection that breaks between two statements emits "error": without a listener, that would crash.
  let broken: Error | undefined;
  const onError = (error: Error): void => void (broken ??= error);
  client.on("error", onError);
  try {
    const limits =
      lockLimitMs === undefined
        ? ""
        : `; SET LOCAL lock_timeout = ${lockLimitMs}; SET LOCAL idle_in_transaction_session_timeout = ${lockLimitMs}`;
    // One round trip: without parameters, the statements go as one simple query.
    await client.query(`BEGIN ISOLATION LEVEL ${isolation}${limits}`);
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
  if (error instanceof SlotTakenError || error instanceof StorageFailure || error instanceof OwnFailure) {
    return true;
  }
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
