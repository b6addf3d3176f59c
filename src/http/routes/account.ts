import { succeed } from "../../core/errors.js";
import { connectorIdentity } from "./connector-shapes.js";
import type { ServedRoute } from "./route.js";
import { IDENTITY } from "./schemas.js";

/** The own identity. */
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
];
