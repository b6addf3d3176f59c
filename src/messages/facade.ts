import { bindMethods } from "../core/bind.js";
import { fail, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import type { UseCaseRunner } from "../core/use-case.js";
import { requestSchema, rules, NO_REQUEST } from "../core/validation.js";
import type { MessageBox } from "./message-box.js";
import type { MessageDTO } from "./model.js";

export interface SendMessageRequest {
  /** Addresses of peers; at least one, no duplicates. */
  recipients: string[];
  /** Any JSON value (checked at run time); a Notification is content whose "@type" is "Notification". */
  content: unknown;
}

const sendRequest = requestSchema({
  recipients: rules.array(rules.address(), { minItems: 1 }),
  content: rules.json(),
});

/** Messages between the own identity and its peers. */
export class MessagesFacade {
  readonly #runner: UseCaseRunner;
  readonly #box: MessageBox;

  constructor(runner: UseCaseRunner, box: MessageBox) {
    this.#runner = runner;
    this.#box = box;
    bindMethods(this);
  }

  /**
   * Sends a message to peers. Non-Notifications need an Active relationship to every recipient; a
   * Notification also reaches peers whose relationship is Terminated (behaviour §7).
   * @example
   * const sent = await runtime.messages.sendMessage({ recipients: [peer], content: { "@type": "Mail", body: "Hi" } });
   */
  sendMessage(request: SendMessageRequest): Promise<RuntimeResult<MessageDTO>> {
    return this.#runner.mutate(sendRequest, request, async ({ recipients, content }) => {
      const duplicate = recipients.find((recipient, index) => recipients.indexOf(recipient) !== index);
      if (duplicate !== undefined) {
        return fail(
          "error.runtime.validation.invalidPropertyValue",
          `recipients must not list ${duplicate} twice`,
        );
      }
      return this.#box.send(recipients, content);
    });
  }

  /**
   * Every message sent or received by the own identity, oldest first.
   * @example
   * const messages = await runtime.messages.getMessages();
   */
  getMessages(): Promise<RuntimeResult<MessageDTO[]>> {
    return this.#runner.run(NO_REQUEST, undefined, async () => succeed(await this.#box.messages.list()));
  }
}
