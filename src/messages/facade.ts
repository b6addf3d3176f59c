import { fail, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import type { UseCaseRunner } from "../core/use-case.js";
import { requestSchema, rules } from "../core/validation.js";
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
const noRequest = requestSchema({}, { mayBeOmitted: true });

/** Messages between the own identity and its peers. */
export class MessagesFacade {
  constructor(
    private readonly runner: UseCaseRunner,
    private readonly box: MessageBox,
  ) {}

  /**
   * Sends a message to peers. Non-Notifications need an Active relationship to every recipient; a
   * Notification also reaches peers whose relationship is Terminated (behaviour §7).
   * @example
   * const sent = await runtime.messages.sendMessage({ recipients: [peer], content: { "@type": "Mail", body: "Hi" } });
   */
  sendMessage(request: SendMessageRequest): Promise<RuntimeResult<MessageDTO>> {
    return this.runner.mutate(sendRequest, request, async ({ recipients, content }) => {
      const duplicate = recipients.find((recipient, index) => recipients.indexOf(recipient) !== index);
      if (duplicate !== undefined) {
        return fail(
          "error.runtime.validation.invalidPropertyValue",
          `recipients must not list ${duplicate} twice`,
        );
      }
      return this.box.send(recipients, content);
    });
  }

  /**
   * Every message sent or received by the own identity, oldest first.
   * @example
   * const messages = await runtime.messages.getMessages();
   */
  getMessages(): Promise<RuntimeResult<MessageDTO[]>> {
    return this.runner.run(noRequest, undefined, async () => succeed(await this.box.messages.list()));
  }
}
