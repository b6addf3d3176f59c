import { succeed } from "../../core/errors.js";
import type { RuntimeResult } from "../../core/errors.js";
import { isPlainObject } from "../../core/json.js";
import { rules } from "../../core/validation.js";
import type { MessageDTO } from "../../messages/model.js";
import { EXISTING_RELATIONSHIP_STATUSES } from "../../relationships/model.js";
import type { Runtime } from "../../runtime/runtime.js";
import { connectorMessage } from "./connector-shapes.js";
import type { ConnectorMessage } from "./connector-shapes.js";
import { withoutUnmodelled } from "./not-modelled.js";
import { filterParameters, listFilter } from "./query.js";
import type { ListFilter, ListFilters } from "./query.js";
import { shapedAs } from "./route.js";
import type { RouteResult, ServedRoute } from "./route.js";
import { ADDRESS, JSON_VALUE, listOf, MESSAGE } from "./schemas.js";

/**
 * The messages in the Connector's shape. A recipient's `relationshipId` is the own relationship to that peer
 * that holds the pair's one slot (Pending, Active, Terminated, DeletionProposed): the one messages travel on.
 */
async function shaped(
  runtime: Runtime,
  messages: readonly MessageDTO[],
): Promise<RuntimeResult<ConnectorMessage[]>> {
  const relationships = await runtime.relationships.getRelationships();
  if (relationships.err) return relationships;
  const current = new Map(
    relationships.val
      .filter((relationship) => EXISTING_RELATIONSHIP_STATUSES.includes(relationship.status))
      .map((relationship) => [relationship.peer, relationship.id]),
  );
  return succeed(
    messages.map((message) => connectorMessage(message, runtime.address, (peer) => current.get(peer))),
  );
}

async function messageResult(runtime: Runtime, message: RuntimeResult<MessageDTO>): Promise<RouteResult> {
  if (message.err) return message;
  const result = await shaped(runtime, [message.val]);
  return shapedAs(result, ([one]) => one);
}

const CONTENT_TYPE: ListFilter<ConnectorMessage> = {
  description: 'Only the messages whose content has this "@type" (e.g. Mail, Request, Notification).',
  valuesOf: ({ content }) => [
    isPlainObject(content) && typeof content["@type"] === "string" ? content["@type"] : undefined,
  ],
};

const FILTERS: ListFilters<ConnectorMessage> = {
  createdBy: {
    description: "Only the messages sent by this address.",
    rule: rules.address(),
    valuesOf: (message) => [message.createdBy],
  },
  participant: {
    description: "Only the messages this address sent or received.",
    rule: rules.address(),
    valuesOf: (message) => [message.createdBy, ...message.recipients.map((recipient) => recipient.address)],
  },
  "recipients.address": {
    description: "Only the messages to this address.",
    rule: rules.address(),
    valuesOf: (message) => message.recipients.map((recipient) => recipient.address),
  },
  "recipients.relationshipId": {
    description: "Only the messages whose recipients include one on this relationship.",
    rule: rules.id("REL"),
    valuesOf: (message) => message.recipients.map((recipient) => recipient.relationshipId),
  },
  "content.@type": CONTENT_TYPE,
  // What @nmshd/connector-sdk 6.7.0's GetMessagesRequest names the same filter.
  contentType: {
    ...CONTENT_TYPE,
    description: `${CONTENT_TYPE.description} The SDK's name of content.@type.`,
  },
};

/** Messages between the own identity and its peers. */
export const MESSAGE_ROUTES: readonly ServedRoute[] = [
  {
    method: "POST",
    path: "/Messages",
    operationId: "sendMessage",
    summary:
      "Sends a message to peers under the relationship rules. Non-empty `attachments` are not modelled (501).",
    successStatus: 201,
    body: {
      type: "object",
      required: ["recipients", "content"],
      additionalProperties: false,
      properties: {
        recipients: { type: "array", minItems: 1, uniqueItems: true, items: ADDRESS },
        content: JSON_VALUE,
        attachments: { type: "array", maxItems: 0, description: "Files are not modelled: none, or empty." },
      },
    },
    result: MESSAGE,
    run: async (runtime, { body }) => {
      const modelled = withoutUnmodelled(body, { attachments: "message attachments (files)" });
      if (modelled.err) return modelled;
      return messageResult(runtime, await runtime.messages.sendMessage(modelled.val as never));
    },
  },
  {
    method: "GET",
    path: "/Messages",
    operationId: "getMessages",
    summary: "The messages sent or received by the own identity, oldest first.",
    successStatus: 200,
    query: filterParameters(FILTERS),
    result: listOf(MESSAGE),
    run: async (runtime, { query }) => {
      const matches = listFilter(query, FILTERS);
      if (matches.err) return matches;
      const messages = await runtime.messages.getMessages();
      if (messages.err) return messages;
      const result = await shaped(runtime, messages.val);
      return shapedAs(result, (all) => all.filter(matches.val));
    },
  },
  {
    method: "GET",
    path: "/Messages/{id}",
    operationId: "getMessage",
    summary: "A message sent or received by the own identity.",
    successStatus: 200,
    result: MESSAGE,
    run: async (runtime, { params }) =>
      messageResult(runtime, await runtime.messages.getMessage({ id: params["id"] ?? "" })),
  },
];
