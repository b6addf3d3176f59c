import { fail, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import { generateId } from "../core/ids.js";
import { cloneJson } from "../core/json.js";
import type { JsonValue } from "../core/json.js";
import { RecordCollection } from "../core/record-collection.js";
import type { BackbonePart, UnitOfWork } from "../core/unit-of-work.js";
import type { DeletionChange, DeletionStanding } from "../identity-deletion/model.js";
import { isNotification } from "./model.js";
import type { MessageDTO } from "./model.js";

/** What the Backbone pushes to a recipient's runtime. */
export type MessagePush = { kind: "messageReceived"; message: MessageDTO };

/** A Notification kept for a recipient in deletion, delivered if it cancels, dropped if it is deleted. */
interface HeldNotification {
  /** `<recipient>/<message id>` */
  id: string;
  recipient: string;
  message: MessageDTO;
}

/** The messages part of the LocalBackbone: the relay, and the Notifications held for recipients in deletion. */
export function localMessages(lent: BackbonePart<MessagePush, DeletionStanding>) {
  // Filed under their recipient: released or dropped all at once when its deletion is decided.
  const heldNotifications = new RecordCollection<HeldNotification>(
    lent.storage,
    "backbone/heldNotifications",
    ({ recipient }) => ({ peers: [recipient] }),
  );

  return {
    /** Relays a message under the Backbone's rules of behaviour §7 (rules 1 and 2; the rest are the runtime's). */
    async send(
      sender: string,
      recipients: readonly string[],
      content: JsonValue,
    ): Promise<RuntimeResult<MessageDTO>> {
      const message: MessageDTO = {
        id: generateId("MSG"),
        createdBy: sender,
        recipients: [...recipients],
        content: cloneJson(content),
        createdAt: lent.clock.now().toISOString(),
      };
      const standings = await Promise.all(recipients.map((recipient) => lent.standing(recipient)));
      const deleted = recipients.filter((_, index) => standings[index]?.kind === "deleted");
      if (deleted.length > 0) return fail("error.transport.messages.peerIsDeleted", deleted);
      const inDeletion = recipients.filter((_, index) => standings[index]?.kind === "inDeletion");
      const notification = isNotification(content);
      if (inDeletion.length > 0 && !notification)
        return fail("error.runtime.messages.peerIsInDeletion", inDeletion);
      // A Notification to a recipient in deletion waits on the Backbone until it cancels (or is deleted).
      const held = inDeletion.map((recipient) => ({ id: `${recipient}/${message.id}`, recipient, message }));
      await lent.commit({
        changes: held.map((entry) => heldNotifications.put(entry)),
        deliveries: recipients
          .filter((recipient) => !inDeletion.includes(recipient))
          .map((address) => ({ address, push: { kind: "messageReceived", message } })),
      });
      return succeed(message);
    },

    /**
     * What a deletion does to the Notifications held for `recipient`: a cancellation releases them (delivered
     * oldest first), a deletion drops them.
     */
    async onDeletion(recipient: string, change: DeletionChange): Promise<UnitOfWork<MessagePush>> {
      if (change.kind === "deleted")
        return { changes: [heldNotifications.deleteByPeer(recipient)], deliveries: [] };
      if (change.kind !== "cancelled") return { changes: [], deliveries: [] };
      const held = await heldNotifications.listByPeer(recipient);
      return {
        changes: held.length === 0 ? [] : [heldNotifications.deleteByPeer(recipient)],
        deliveries: held.map(({ message }) => ({
          address: recipient,
          push: { kind: "messageReceived", message },
        })),
      };
    },
  };
}

/** What `localMessages` makes: the part the LocalBackbone composes. */
export type LocalMessages = ReturnType<typeof localMessages>;
