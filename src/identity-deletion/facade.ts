import type { IdentityDeletionBackbone } from "./backbone.js";
import type { RuntimeContext } from "../core/context.js";
import { fail, foundOr, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import { requestSchema, rules, NO_REQUEST } from "../core/validation.js";
import type { IdentityDeletionDecision, IdentityDeletionProcessDTO } from "./model.js";
import type { OwnDeletionStore } from "./store.js";

/**
 * What `initiateIdentityDeletionProcess` takes; the request itself may be omitted.
 * @example
 * const request: InitiateIdentityDeletionProcessRequest = { lengthOfGracePeriodInDays: 30 };
 * const process = (await runtime.identityDeletion.initiateIdentityDeletionProcess(request)).unwrap();
 * console.log(process.gracePeriodEndsAt);
 */
export interface InitiateIdentityDeletionProcessRequest {
  /** Days until the identity is deleted; a finite number ≥ 0. Default: the Backbone's grace period (14). */
  lengthOfGracePeriodInDays?: number;
}

/**
 * Whether the own identity has been deleted, and when it is (or was) to be: what `checkIfIdentityIsDeleted` answers.
 * @example
 * const status: IdentityDeletionStatus = (await runtime.identityDeletion.checkIfIdentityIsDeleted()).unwrap();
 * if (status.isDeleted) await runtime.eraseLocalData();
 * else if (status.deletionDate !== undefined) console.log(`to be deleted after ${status.deletionDate}`);
 */
export interface IdentityDeletionStatus {
  /** True once the grace period of the Approved process has passed. */
  isDeleted: boolean;
  /** When the identity is (or was) deleted: the approved process's gracePeriodEndsAt. */
  deletionDate?: string;
}

const initiateRequest = requestSchema(
  { lengthOfGracePeriodInDays: rules.optional(rules.number({ min: 0 })) },
  { mayBeOmitted: true },
);
const byIdRequest = requestSchema({ id: rules.id("IDP") });

/** What the IdentityDeletion facade is built from, besides the runtime context. */
export interface IdentityDeletionFacadeParts {
  store: OwnDeletionStore;
}

/**
 * The deletion of the own identity (behaviour §4). An identity can never start the deletion of another:
 * every call here acts on the runtime's own identity. These calls keep their own answers after the
 * identity has been deleted.
 */
export function identityDeletionFacade(
  context: RuntimeContext<IdentityDeletionBackbone>,
  parts: IdentityDeletionFacadeParts,
) {
  function decide(decision: IdentityDeletionDecision): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
    return context.useCases.run(NO_REQUEST, undefined, async () =>
      context.backbone.decideIdentityDeletionProcess(context.address, decision),
    );
  }

  return {
    /**
     * Starts the deletion of the own identity: an Approved process, deleted once the grace period has passed
     * unless cancelled before.
     * @example
     * const process = await runtime.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 30 });
     */
    initiateIdentityDeletionProcess(
      request?: InitiateIdentityDeletionProcessRequest,
    ): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
      // The runtime's copy is kept from the Backbone's push, which arrives before this call resolves.
      return context.useCases.run(initiateRequest, request, ({ lengthOfGracePeriodInDays }) =>
        context.backbone.initiateIdentityDeletionProcess(context.address, lengthOfGracePeriodInDays),
      );
    },

    /**
     * Approves the process the Backbone Admin UI started (WaitingForApproval, within its approval period).
     * @example
     * await runtime.identityDeletion.approveIdentityDeletionProcess();
     */
    approveIdentityDeletionProcess(): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
      return decide("approve");
    },

    /**
     * Rejects the process the Backbone Admin UI started (WaitingForApproval, within its approval period).
     * @example
     * await runtime.identityDeletion.rejectIdentityDeletionProcess();
     */
    rejectIdentityDeletionProcess(): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
      return decide("reject");
    },

    /**
     * Cancels the Approved process within its grace period: the identity will not be deleted.
     * @example
     * await runtime.identityDeletion.cancelIdentityDeletionProcess();
     */
    cancelIdentityDeletionProcess(): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
      return decide("cancel");
    },

    /**
     * One process of the own identity by id.
     * @example
     * const process = await runtime.identityDeletion.getIdentityDeletionProcess({ id: "IDP…" });
     */
    getIdentityDeletionProcess(request: { id: string }): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
      return context.useCases.run(byIdRequest, request, async ({ id }) =>
        foundOr(await parts.store.processes.get(id), "IdentityDeletionProcess", id),
      );
    },

    /**
     * Every process of the own identity, Cancelled and Rejected ones included, oldest first.
     * @example
     * const processes = await runtime.identityDeletion.getIdentityDeletionProcesses();
     */
    getIdentityDeletionProcesses(): Promise<RuntimeResult<IdentityDeletionProcessDTO[]>> {
      return context.useCases.run(NO_REQUEST, undefined, async () =>
        succeed(await parts.store.processes.list()),
      );
    },

    /**
     * The active (WaitingForApproval or Approved) process of the own identity.
     * @example
     * const active = await runtime.identityDeletion.getActiveIdentityDeletionProcess();
     * if (active.err) console.log(active.val.code); // "error.runtime.identityDeletionProcess.noActiveIdentityDeletionProcess"
     */
    getActiveIdentityDeletionProcess(): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
      return context.useCases.run(NO_REQUEST, undefined, async () => {
        const active = await parts.store.activeProcess();
        return active === undefined
          ? fail("error.runtime.identityDeletionProcess.noActiveIdentityDeletionProcess", context.address)
          : succeed(active);
      });
    },

    /**
     * Whether the own identity has been deleted: true once the grace period of its Approved process has passed.
     * @example
     * const { isDeleted, deletionDate } = (await runtime.identityDeletion.checkIfIdentityIsDeleted()).unwrap();
     */
    checkIfIdentityIsDeleted(): Promise<RuntimeResult<IdentityDeletionStatus>> {
      return context.useCases.run(NO_REQUEST, undefined, async () => {
        const standing = await parts.store.standing();
        return succeed(
          standing.kind === "none"
            ? { isDeleted: false }
            : { isDeleted: standing.kind === "deleted", deletionDate: standing.deletionDate },
        );
      });
    },
  };
}

/**
 * The IdentityDeletion use cases of one runtime: `runtime.identityDeletion`. Its methods work detached too.
 * @useDeclaredType
 * @example
 * const deletion: IdentityDeletionFacade = runtime.identityDeletion;
 * const active = await deletion.getActiveIdentityDeletionProcess();
 * if (active.ok && active.val.status === "WaitingForApproval") await deletion.approveIdentityDeletionProcess();
 */
export type IdentityDeletionFacade = ReturnType<typeof identityDeletionFacade>;
