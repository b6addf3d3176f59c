import type { RuntimeContext, Store } from "../core/context.js";
import { cloneJson } from "../core/json.js";
import { KeyedLock } from "../core/keyed-lock.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageChange } from "../core/storage.js";
import type { MessageHooks } from "../messages/store.js";
import type { MessageDTO } from "../messages/model.js";
import type { RequestEvents } from "./events.js";
import { requestIdOf, responseOf } from "./model.js";
import type { LocalRequestDTO } from "./model.js";

/** The local requests, kept in step with the messages that carry them. */
export class RequestStore implements Store, MessageHooks {
  readonly requests: RecordCollection<LocalRequestDTO>;
  readonly #context: RuntimeContext<unknown, RequestEvents>;
  /** Every read-modify-write of one request runs alone: deciding, sending and a response can overlap. */
  readonly #lock = new KeyedLock();

  constructor(context: RuntimeContext<unknown, RequestEvents>) {
    this.#context = context;
    this.requests = new RecordCollection<LocalRequestDTO>(
      context.storage,
      `${context.address}/requests`,
      (request) => ({ peers: [request.peer] }),
    );
  }

  get collections(): readonly string[] {
    return [this.requests.name];
  }

  /** The requests to and from the peer go with it. */
  forgetPeer(peer: string): Promise<StorageChange[]> {
    return Promise.resolve([this.requests.deleteByPeer(peer)]);
  }

  /** An own Draft request sent to its peer is Open. */
  async sent(message: MessageDTO): Promise<void> {
    const id = requestIdOf(message.content);
    if (id === undefined) return;
    await this.exclusively(id, async () => {
      const request = await this.requests.get(id);
      if (request?.isOwn !== true || request.status !== "Draft" || !message.recipients.includes(request.peer))
        return;
      await this.update({ ...request, status: "Open" }, "consumption.outgoingRequestStatusChanged");
    });
  }

  /** Runs `work` while no other change of request `id` runs. */
  exclusively<T>(id: string, work: () => Promise<T>): Promise<T> {
    return this.#lock.run(id, work);
  }

  /** A peer's request becomes an incoming one; a peer's response completes the own request it answers. */
  async received(message: MessageDTO): Promise<void> {
    const requestId = requestIdOf(message.content);
    if (requestId !== undefined) {
      if ((await this.requests.get(requestId)) !== undefined) return;
      const incoming: LocalRequestDTO = {
        id: requestId,
        isOwn: false,
        peer: message.createdBy,
        status: "ManualDecisionRequired",
        createdAt: message.createdAt,
        content: message.content as LocalRequestDTO["content"],
      };
      await this.update(incoming, "consumption.incomingRequestReceived");
      return;
    }
    const response = responseOf(message.content);
    if (response === undefined) return;
    await this.exclusively(response.requestId, async () => {
      const answered = await this.requests.get(response.requestId);
      // A response may overtake the own "sent" bookkeeping (the peer decides while the send is still being
      // recorded), so a Draft counts as sent: its random id only ever leaves the runtime in that message.
      const awaited = answered?.status === "Open" || answered?.status === "Draft";
      if (answered?.isOwn !== true || !awaited || answered.peer !== message.createdBy) return;
      await this.update(
        {
          ...answered,
          status: "Completed",
          response: { result: response.result, createdAt: message.createdAt },
        },
        "consumption.outgoingRequestStatusChanged",
      );
    });
  }

  async update(request: LocalRequestDTO, event: keyof RequestEvents): Promise<LocalRequestDTO> {
    const { storage, address, events } = this.#context;
    const announce = await storage.transaction(
      // Listeners get their own copy: what they do to it never reaches the caller's result.
      (tx) => events.commit(tx, [this.requests.put(request)], [{ name: event, data: cloneJson(request) }]),
      [address],
    );
    announce();
    return request;
  }
}
