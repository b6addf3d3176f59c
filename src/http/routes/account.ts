import { succeed } from "../../core/errors.js";
import { connectorIdentity } from "./connector-shapes.js";
import type { Runtime } from "../../runtime/runtime.js";
import type { ServedRoute } from "./route.js";
import { IDENTITY } from "./schemas.js";

/** When each runtime's last sync through these routes completed: what `GET /Account/SyncInfo` tells. */
const lastSyncs = new WeakMap<Runtime, string>();

/** The own identity, and its sync with the Backbone. */
export const ACCOUNT_ROUTES: readonly ServedRoute[] = [
  {
    method: "GET",
    path: "/Account/IdentityInfo",
    operationId: "getIdentityInfo",
    summary: "The own identity's address; `publicKey` is empty, since keys are not modelled.",
    successStatus: 200,
    result: IDENTITY,
    run: (runtime) => Promise.resolve(succeed(connectorIdentity(runtime.address))),
  },
  {
    method: "POST",
    path: "/Account/Sync",
    operationId: "sync",
    summary:
      "Takes what the Backbone holds for the own identity now (changes made through other servers on the database), before answering.",
    successStatus: 204,
    run: async (runtime) => {
      const synced = await runtime.sync();
      if (synced.ok) lastSyncs.set(runtime, new Date().toISOString());
      return synced;
    },
  },
  {
    method: "GET",
    path: "/Account/SyncInfo",
    operationId: "getSyncInfo",
    summary: "When the last sync through this server completed; without `lastSyncRun` before the first.",
    successStatus: 200,
    result: {
      type: "object",
      properties: {
        lastSyncRun: {
          type: "object",
          required: ["completedAt"],
          properties: { completedAt: { type: "string", format: "date-time" } },
        },
      },
    },
    run: (runtime) => {
      const completedAt = lastSyncs.get(runtime);
      return Promise.resolve(succeed(completedAt === undefined ? {} : { lastSyncRun: { completedAt } }));
    },
  },
];
