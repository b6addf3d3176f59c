// The Connector routes, driven by the real @nmshd/connector-sdk: it answers an error for any status but the
// one it expects (POST 201, GET and PUT 200, DELETE 204) and throws on an answer that is not the envelope, so
// every call that succeeds here proves status and shape together. Error statuses are checked over plain HTTP.
import { ConnectorClient } from "@nmshd/connector-sdk";
import type {
  ConnectorHttpResponse,
  ConnectorMessage,
  ConnectorRelationship,
  ConnectorRelationshipTemplate,
  ConnectorRequest,
} from "@nmshd/connector-sdk";
import type { Runtime } from "../../src/index";
import { CODE, world } from "../support";
import type { World } from "../support";
import { API_KEY, expectError, query, resultOf, serve } from "./client";
import type { Served } from "./client";
import { NOT_MODELLED_METHODS } from "./connector-operations";

const FUTURE = "2031-01-01T00:00:00.000Z";
const UNKNOWN = {
  REL: "RELaaaaaaaaaaaaaaaaa",
  RLT: "RLTaaaaaaaaaaaaaaaaa",
  MSG: "MSGaaaaaaaaaaaaaaaaa",
  REQ: "REQaaaaaaaaaaaaaaaaa",
};
const AUTHENTICATION = {
  "@type": "AuthenticationRequestItem",
  mustBeAccepted: true,
  title: "Log in",
} as const;
const MAIL = { "@type": "Mail", to: [] as string[], subject: "Hi", body: "Hello" } as const;

/** One identity served over HTTP, with the SDK's client pointed at it. */
interface Side {
  runtime: Runtime;
  api: Served;
  client: ConnectorClient;
  address: string;
}

let w: World;
const servers: Served[] = [];

beforeEach(() => {
  w = world();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await w.close();
});

async function side(): Promise<Side> {
  const runtime = await w.runtime();
  const api = await serve(runtime);
  servers.push(api);
  return {
    runtime,
    api,
    client: ConnectorClient.create({ baseUrl: api.url, apiKey: API_KEY }),
    address: runtime.address,
  };
}

/** The result of a successful SDK call; the error's code and message otherwise, as the failure. */
function sdkOk<T>(response: ConnectorHttpResponse<T>): T {
  if (response.isError)
    throw new Error(`expected success, got ${response.error.code}: ${response.error.message}`);
  return response.result;
}

/** The code of a failed SDK call. */
function sdkErrorCode(response: ConnectorHttpResponse<unknown>): string {
  if (response.isSuccess) throw new Error(`expected an error, got ${JSON.stringify(response.result)}`);
  return response.error.code;
}

/** Org's template, loaded by Ada by its truncated reference; Ada's relationship from it, accepted by Org. */
async function related(options: { accept?: boolean } = {}) {
  const [org, ada] = [await side(), await side()];
  const template = sdkOk(
    await org.client.relationshipTemplates.createOwnRelationshipTemplate({
      content: { "@type": "ArbitraryRelationshipTemplateContent", value: { offer: "newsletter" } },
      expiresAt: FUTURE,
      maxNumberOfAllocations: 1,
    }),
  );
  sdkOk(
    await ada.client.relationshipTemplates.loadPeerRelationshipTemplate({
      reference: template.truncatedReference,
    }),
  );
  const relationship = sdkOk(
    await ada.client.relationships.createRelationship({
      templateId: template.id,
      creationContent: { "@type": "ArbitraryRelationshipCreationContent", value: { name: "Ada" } },
    }),
  );
  if (options.accept !== false) sdkOk(await org.client.relationships.acceptRelationship(relationship.id));
  return { org, ada, template, relationshipId: relationship.id };
}

test("the whole way with the SDK: template, load by truncatedReference, relationship, accept, messages, request, accept, decompose", async () => {
  const [org, ada] = [await side(), await side()];

  // An own single-use template.
  const template: ConnectorRelationshipTemplate = sdkOk(
    await org.client.relationshipTemplates.createOwnRelationshipTemplate({
      content: { "@type": "ArbitraryRelationshipTemplateContent", value: { offer: "newsletter" } },
      expiresAt: FUTURE,
      maxNumberOfAllocations: 1,
    }),
  );
  expect(template).toEqual({
    id: expect.stringMatching(/^RLT[A-Za-z0-9]{17}$/) as unknown,
    isOwn: true,
    createdBy: org.address,
    createdByDevice: "",
    createdAt: "2030-01-01T00:00:00.000Z",
    content: { "@type": "ArbitraryRelationshipTemplateContent", value: { offer: "newsletter" } },
    expiresAt: FUTURE,
    maxNumberOfAllocations: 1,
    truncatedReference: Buffer.from(template.id).toString("base64url"),
  });
  expect(template.truncatedReference).toMatch(/^UkxU/);
  expect(sdkOk(await org.client.relationshipTemplates.getOwnRelationshipTemplates())).toEqual([template]);
  expect(sdkOk(await org.client.relationshipTemplates.getPeerRelationshipTemplates())).toEqual([]);
  expect(sdkOk(await org.client.relationshipTemplates.getRelationshipTemplate(template.id))).toEqual(
    template,
  );

  // Ada loads it by its truncated reference: the same template, not her own.
  const loaded = sdkOk(
    await ada.client.relationshipTemplates.loadPeerRelationshipTemplate({
      reference: template.truncatedReference,
    }),
  );
  expect(loaded).toEqual({ ...template, isOwn: false });
  expect(sdkOk(await ada.client.relationshipTemplates.getPeerRelationshipTemplates())).toEqual([loaded]);
  expect(sdkOk(await ada.client.relationshipTemplates.getRelationshipTemplates({ isOwn: false }))).toEqual([
    loaded,
  ]);
  expect(sdkOk(await ada.client.relationshipTemplates.getRelationshipTemplates({ isOwn: true }))).toEqual([]);
  expect(sdkOk(await ada.client.relationshipTemplates.getOwnRelationshipTemplates())).toEqual([]);

  // Ada asks, then creates the relationship; Org accepts it.
  const creation = {
    templateId: template.id,
    creationContent: { "@type": "ArbitraryRelationshipCreationContent", value: { name: "Ada" } },
  } as const;
  expect(sdkOk(await ada.client.relationships.canCreateRelationship(creation))).toEqual({ isSuccess: true });
  const pending: ConnectorRelationship = sdkOk(await ada.client.relationships.createRelationship(creation));
  expect(pending).toMatchObject({
    id: expect.stringMatching(/^REL[A-Za-z0-9]{17}$/) as unknown,
    templateId: template.id,
    template: loaded,
    peer: org.address,
    peerIdentity: { address: org.address, publicKey: "" },
    status: "Pending",
    creationContent: creation.creationContent,
    auditLog: [{ reason: "Creation", newStatus: "Pending", createdBy: ada.address }],
  });
  const seenByOrg = sdkOk(await org.client.relationships.getRelationships({ status: "Pending" }));
  expect(seenByOrg).toEqual([
    { ...pending, peer: ada.address, peerIdentity: { address: ada.address, publicKey: "" }, template },
  ]);
  const active = sdkOk(await org.client.relationships.acceptRelationship(pending.id));
  expect(active).toMatchObject({ id: pending.id, status: "Active", template, peer: ada.address });
  // Repeated parameters match any of their values, as axios sends arrays.
  expect(
    sdkOk(
      await ada.client.relationships.getRelationships({
        peer: [org.address, ada.address],
        status: ["Pending", "Active"],
        templateId: template.id,
      }),
    ).map((relationship) => relationship.id),
  ).toEqual([pending.id]);
  expect(sdkOk(await ada.client.relationships.getRelationship(pending.id))).toMatchObject({
    status: "Active",
  });

  // Messages both ways.
  const mail = { ...MAIL, to: [org.address] };
  const sent: ConnectorMessage = sdkOk(
    await ada.client.messages.sendMessage({ recipients: [org.address], content: mail }),
  );
  expect(sent).toEqual({
    id: expect.stringMatching(/^MSG[A-Za-z0-9]{17}$/) as unknown,
    content: mail,
    createdBy: ada.address,
    createdByDevice: "",
    recipients: [{ address: org.address, relationshipId: pending.id }],
    createdAt: "2030-01-01T00:00:00.000Z",
    attachments: [],
    isOwn: true,
  });
  const received = { ...sent, isOwn: false };
  expect(sdkOk(await org.client.messages.getMessage(sent.id))).toEqual(received);
  expect(sdkOk(await org.client.messages.getMessages({ participant: ada.address }))).toEqual([received]);
  expect(sdkOk(await org.client.messages.getMessages({ createdBy: org.address }))).toEqual([]);
  expect(sdkOk(await org.client.messages.getMessages({ contentType: "Mail" }))).toEqual([received]);
  expect(sdkOk(await org.client.messages.getMessages({ contentType: "Request" }))).toEqual([]);

  // A request from Org: validated, created (Draft), sent in a message (Open), accepted by Ada (Completed).
  const content = { items: [AUTHENTICATION] };
  expect(sdkOk(await org.client.outgoingRequests.canCreateRequest({ peer: ada.address, content }))).toEqual({
    isSuccess: true,
    items: [],
  });
  const draft: ConnectorRequest = sdkOk(
    await org.client.outgoingRequests.createRequest({ peer: ada.address, content }),
  );
  expect(draft).toEqual({
    id: expect.stringMatching(/^REQ[A-Za-z0-9]{17}$/) as unknown,
    isOwn: true,
    peer: ada.address,
    createdAt: "2030-01-01T00:00:00.000Z",
    status: "Draft",
    content: { items: [AUTHENTICATION], "@type": "Request", id: draft.id },
  });
  sdkOk(await org.client.messages.sendMessage({ recipients: [ada.address], content: draft.content }));
  expect(sdkOk(await org.client.outgoingRequests.getRequest(draft.id))).toMatchObject({ status: "Open" });
  const incoming = sdkOk(await ada.client.incomingRequests.getRequests({ status: "ManualDecisionRequired" }));
  expect(incoming).toEqual([{ ...draft, isOwn: false, peer: org.address, status: "ManualDecisionRequired" }]);
  expect(sdkOk(await ada.client.incomingRequests.getRequest(draft.id))).toEqual(incoming[0]);
  const decision = { items: [{ accept: true as const }] };
  expect(sdkOk(await ada.client.incomingRequests.canAccept(draft.id, decision))).toEqual({
    isSuccess: true,
    items: [],
  });
  expect(
    sdkOk(await ada.client.incomingRequests.canReject(draft.id, { items: [{ accept: false }] })),
  ).toEqual({
    isSuccess: true,
    items: [],
  });
  const response = {
    createdAt: "2030-01-01T00:00:00.000Z",
    content: { "@type": "Response", result: "Accepted", requestId: draft.id, items: [] },
  };
  expect(sdkOk(await ada.client.incomingRequests.accept(draft.id, decision))).toMatchObject({
    status: "Completed",
    response,
  });
  const completed = sdkOk(await org.client.outgoingRequests.getRequest(draft.id));
  expect(completed).toEqual({ ...draft, status: "Completed", response });
  expect(sdkOk(await org.client.outgoingRequests.getRequests({ status: "Completed" }))).toEqual([completed]);
  expect(sdkOk(await org.client.outgoingRequests.getRequests({ status: ["Draft", "Open"] }))).toEqual([]);
  // A route of one direction does not answer a request of the other.
  expect(sdkErrorCode(await org.client.incomingRequests.getRequest(draft.id))).toBe(CODE.recordNotFound);
  expect(sdkErrorCode(await ada.client.outgoingRequests.getRequest(draft.id))).toBe(CODE.recordNotFound);

  // The account.
  expect(sdkOk(await org.client.account.getIdentityInfo())).toEqual({ address: org.address, publicKey: "" });

  // Terminate and decompose: the relationship is gone for Org, and with it the single-use own template.
  expect(sdkOk(await ada.client.relationships.terminateRelationship(pending.id))).toMatchObject({
    status: "Terminated",
  });
  expect(sdkOk(await org.client.relationships.decomposeRelationship(pending.id))).toBeUndefined();
  expect(sdkErrorCode(await org.client.relationships.getRelationship(pending.id))).toBe(CODE.recordNotFound);
  expect(sdkOk(await org.client.relationships.getRelationships())).toEqual([]);
  expect(sdkOk(await org.client.messages.getMessages())).toEqual([]);
  expect(sdkOk(await org.client.outgoingRequests.getRequests({}))).toEqual([]);
  expect(sdkOk(await org.client.relationshipTemplates.getOwnRelationshipTemplates())).toEqual([]);
  expect(sdkErrorCode(await org.client.relationshipTemplates.getRelationshipTemplate(template.id))).toBe(
    CODE.recordNotFound,
  );
  expect(sdkOk(await ada.client.relationships.getRelationship(pending.id))).toMatchObject({
    status: "DeletionProposed",
  });
});

describe("both prefixes", () => {
  test.each(["/api/v2", "/api/core/v1"])("%s serves the Connector routes", async (prefix) => {
    const { org, ada, relationshipId } = await related();
    const [relationship] = resultOf<ConnectorRelationship[]>(
      await org.api.call("GET", `${prefix}/Relationships`),
    );
    expect(relationship).toMatchObject({ id: relationshipId, peer: ada.address });
    const info = resultOf(await ada.api.call("GET", `${prefix}/Account/IdentityInfo`));
    expect(info).toEqual({ address: ada.address, publicKey: "" });
    const sent = await ada.api.call("POST", `${prefix}/Messages`, {
      json: { recipients: [org.address], content: "hi" },
    });
    expect(resultOf<ConnectorMessage>(sent, 201).recipients).toEqual([
      { address: org.address, relationshipId },
    ]);
  });
});

describe("templates", () => {
  test("loading by id or by truncatedReference answers the same template; an own template loads as own", async () => {
    const [org, ada] = [await side(), await side()];
    const template = sdkOk(
      await org.client.relationshipTemplates.createOwnRelationshipTemplate({ content: {} } as never),
    );
    expect(template).not.toHaveProperty("expiresAt");
    const byId = sdkOk(
      await ada.client.relationshipTemplates.loadPeerRelationshipTemplate({ reference: template.id }),
    );
    const byReference = sdkOk(
      await ada.client.relationshipTemplates.loadPeerRelationshipTemplate({
        reference: template.truncatedReference,
      }),
    );
    expect(byReference).toEqual(byId);
    expect(byId).toEqual({ ...template, isOwn: false });
    expect(
      sdkOk(await org.client.relationshipTemplates.loadPeerRelationshipTemplate({ reference: template.id })),
    ).toEqual(template);
  });

  test("an unknown template is 404; a malformed reference or body is 400 and creates nothing", async () => {
    const [org] = [await side()];
    const unknownReference = Buffer.from(UNKNOWN.RLT).toString("base64url");
    for (const reference of [UNKNOWN.RLT, unknownReference]) {
      const answer = await org.api.call("POST", "/api/v2/RelationshipTemplates/Peer", {
        json: { reference },
      });
      expectError(answer, 404, CODE.recordNotFound);
    }
    expectError(
      await org.api.call("GET", `/api/v2/RelationshipTemplates/${UNKNOWN.RLT}`),
      404,
      CODE.recordNotFound,
    );
    for (const json of [
      { reference: "nonsense" },
      { reference: `${unknownReference}x` },
      { reference: 7 },
      {},
      { reference: UNKNOWN.RLT, extra: 1 },
    ]) {
      expectError(
        await org.api.call("POST", "/api/v2/RelationshipTemplates/Peer", { json }),
        400,
        CODE.invalidPropertyValue,
      );
    }
    for (const json of [
      { maxNumberOfAllocations: 0 },
      { expiresAt: "2020-01-01T00:00:00.000Z" },
      { expiresAt: "tomorrow" },
      { content: {}, extra: true },
      [],
    ]) {
      expectError(
        await org.api.call("POST", "/api/v2/RelationshipTemplates/Own", { json }),
        400,
        CODE.invalidPropertyValue,
      );
    }
    expectError(
      await org.api.call("GET", "/api/v2/RelationshipTemplates/RELx"),
      400,
      CODE.invalidPropertyValue,
    );
    expect(sdkOk(await org.client.relationshipTemplates.getRelationshipTemplates())).toEqual([]);
  });

  test("list filters: an unknown parameter or a malformed value is 400 naming it", async () => {
    const [org] = [await side()];
    const unknown = expectError(
      await org.api.call("GET", `/api/v2/RelationshipTemplates/Own${query(["createdAt", "2030"])}`),
      400,
      CODE.invalidPropertyValue,
    );
    expect(unknown.message).toContain("createdAt");
    const malformed = expectError(
      await org.api.call("GET", `/api/v2/RelationshipTemplates${query(["isOwn", "yes"])}`),
      400,
      CODE.invalidPropertyValue,
    );
    expect(malformed.message).toContain("isOwn");
  });
});

describe("relationships", () => {
  test("wrong status transitions answer their codes with 400", async () => {
    const { org, ada, relationshipId } = await related({ accept: false });
    const put = (who: Side, action: string) =>
      who.api.call("PUT", `/api/v2/Relationships/${relationshipId}/${action}`);
    expectError(await put(ada, "Accept"), 400, CODE.cannotAcceptOrRejectRelationshipCreatedByYourself);
    expectError(await put(org, "Revoke"), 400, CODE.cannotRevokeRelationshipCreatedByOthers);
    expectError(await put(org, "Terminate"), 400, CODE.relationshipsWrongRelationshipStatus);
    expectError(
      await org.api.call("DELETE", `/api/v2/Relationships/${relationshipId}`),
      400,
      CODE.relationshipsWrongRelationshipStatus,
    );
    resultOf(await put(org, "Reject"));
    expectError(await put(org, "Accept"), 400, CODE.relationshipsWrongRelationshipStatus);
    expect(sdkOk(await ada.client.relationships.getRelationship(relationshipId))).toMatchObject({
      status: "Rejected",
    });
  });

  test("revoke by its creator; a second relationship from a single-use template is refused, CanCreate says why", async () => {
    const { org, ada, template, relationshipId } = await related({ accept: false });
    expect(sdkOk(await ada.client.relationships.revokeRelationship(relationshipId))).toMatchObject({
      status: "Revoked",
    });
    expect(sdkOk(await org.client.relationships.getRelationship(relationshipId))).toMatchObject({
      status: "Revoked",
    });
    const check = sdkOk(await ada.client.relationships.canCreateRelationship({ templateId: template.id }));
    expect(check).toEqual({
      isSuccess: false,
      code: CODE.relationshipTemplateAllocationsExhausted,
      message: expect.stringContaining(template.id) as unknown,
    });
    const refused = await ada.api.call("POST", "/api/v2/Relationships", {
      json: { templateId: template.id },
    });
    expectError(refused, 400, CODE.relationshipTemplateAllocationsExhausted);
  });

  test("unknown ids are 404, malformed ones and bodies 400, and nothing changes", async () => {
    const { org, relationshipId } = await related();
    expectError(await org.api.call("GET", `/api/v2/Relationships/${UNKNOWN.REL}`), 404, CODE.recordNotFound);
    expectError(
      await org.api.call("PUT", `/api/v2/Relationships/${UNKNOWN.REL}/Terminate`),
      404,
      CODE.recordNotFound,
    );
    expectError(
      await org.api.call("DELETE", `/api/v2/Relationships/${UNKNOWN.REL}`),
      404,
      CODE.recordNotFound,
    );
    expectError(
      await org.api.call("GET", "/api/v2/Relationships/MSGaaaaaaaaaaaaaaaaa"),
      400,
      CODE.invalidPropertyValue,
    );
    expectError(
      await org.api.call("POST", "/api/v2/Relationships", { json: { templateId: UNKNOWN.RLT } }),
      404,
      CODE.recordNotFound,
    );
    for (const json of [
      { templateId: "x" },
      {},
      { templateId: UNKNOWN.RLT, creationContent: {}, extra: 1 },
      "text",
    ]) {
      expectError(
        await org.api.call("POST", "/api/v2/Relationships", { json }),
        400,
        CODE.invalidPropertyValue,
      );
      expectError(
        await org.api.call("PUT", "/api/v2/Relationships/CanCreate", { json }),
        400,
        CODE.invalidPropertyValue,
      );
    }
    for (const search of [
      query(["status", "Bogus"]),
      query(["peer", "nobody"]),
      query(["templateId", "x"]),
      query(["id", relationshipId]),
    ]) {
      expectError(
        await org.api.call("GET", `/api/v2/Relationships${search}`),
        400,
        CODE.invalidPropertyValue,
      );
    }
    expect(
      sdkOk(await org.client.relationships.getRelationships()).map(({ id, status }) => ({ id, status })),
    ).toEqual([{ id: relationshipId, status: "Active" }]);
  });
});

describe("messages", () => {
  test("recipients carry the relationship on both sides; filters by recipient, relationship and content.@type", async () => {
    const { org, ada, relationshipId } = await related();
    const sent = sdkOk(await org.client.messages.sendMessage({ recipients: [ada.address], content: MAIL }));
    expect(sent.recipients).toEqual([{ address: ada.address, relationshipId }]);
    expect(sdkOk(await ada.client.messages.getMessage(sent.id)).recipients).toEqual([
      { address: ada.address, relationshipId },
    ]);
    for (const search of [
      query(["recipients.address", ada.address]),
      query(["recipients.relationshipId", relationshipId]),
      query(["content.@type", "Mail"], ["content.@type", "Notification"]),
      query(["participant", org.address], ["createdBy", org.address]),
    ]) {
      const listed = resultOf<ConnectorMessage[]>(await ada.api.call("GET", `/api/v2/Messages${search}`));
      expect({ search, ids: listed.map(({ id }) => id) }).toEqual({ search, ids: [sent.id] });
    }
    const none = resultOf<ConnectorMessage[]>(
      await ada.api.call("GET", `/api/v2/Messages${query(["recipients.address", org.address])}`),
    );
    expect(none).toEqual([]);
  });

  test("the relationship rules answer their codes; unknown 404; malformed 400; nothing is sent", async () => {
    const [org, stranger] = [await side(), await side()];
    const refused = await org.api.call("POST", "/api/v2/Messages", {
      json: { recipients: [stranger.address], content: MAIL },
    });
    expectError(refused, 400, CODE.messagesHasNoActiveRelationship);
    expectError(await org.api.call("GET", `/api/v2/Messages/${UNKNOWN.MSG}`), 404, CODE.recordNotFound);
    for (const json of [
      { recipients: "x", content: 1 },
      { recipients: [], content: 1 },
      { recipients: [stranger.address] },
      { recipients: [stranger.address], content: 1, extra: 1 },
    ]) {
      expectError(await org.api.call("POST", "/api/v2/Messages", { json }), 400, CODE.invalidPropertyValue);
    }
    expectError(
      await org.api.call("GET", `/api/v2/Messages${query(["wasReadAt", "x"])}`),
      400,
      CODE.invalidPropertyValue,
    );
    expect(sdkOk(await org.client.messages.getMessages())).toEqual([]);
    expect(sdkOk(await stranger.client.messages.getMessages())).toEqual([]);
  });
});

describe("requests", () => {
  test("a decided request cannot be decided again; validation says why; unknown 404; malformed 400", async () => {
    const { org, ada } = await related();
    const draft = sdkOk(
      await org.client.outgoingRequests.createRequest({
        peer: ada.address,
        content: { items: [AUTHENTICATION] },
      }),
    );
    sdkOk(await org.client.messages.sendMessage({ recipients: [ada.address], content: draft.content }));
    expect(
      sdkOk(await ada.client.incomingRequests.reject(draft.id, { items: [{ accept: false }] })),
    ).toMatchObject({
      status: "Completed",
      response: { content: { result: "Rejected" } },
    });
    const path = `/api/v2/Requests/Incoming/${draft.id}`;
    expectError(
      await ada.api.call("PUT", `${path}/Accept`, { json: { items: [] } }),
      400,
      CODE.requestsWrongRequestStatus,
    );
    expect(sdkOk(await ada.client.incomingRequests.canAccept(draft.id, { items: [] }))).toEqual({
      isSuccess: false,
      code: CODE.requestsWrongRequestStatus,
      message: expect.stringContaining(draft.id) as unknown,
      items: [],
    });
    expect(
      resultOf<ConnectorRequest[]>(
        await org.api.call(
          "GET",
          `/api/v2/Requests/Outgoing${query(["response.content.result", "Rejected"])}`,
        ),
      ).map(({ id }) => id),
    ).toEqual([draft.id]);

    expectError(
      await ada.api.call("GET", `/api/v2/Requests/Incoming/${UNKNOWN.REQ}`),
      404,
      CODE.recordNotFound,
    );
    expectError(
      await ada.api.call("PUT", `/api/v2/Requests/Incoming/${UNKNOWN.REQ}/Accept`),
      404,
      CODE.recordNotFound,
    );
    expectError(
      await org.api.call("GET", `/api/v2/Requests/Outgoing/${UNKNOWN.REQ}`),
      404,
      CODE.recordNotFound,
    );
    expectError(
      await ada.api.call("PUT", `${path}/Accept`, { json: { items: "all" } }),
      400,
      CODE.invalidPropertyValue,
    );
    expectError(
      await ada.api.call("PUT", `${path}/Reject`, { json: { decision: "no" } }),
      400,
      CODE.invalidPropertyValue,
    );
    for (const json of [
      { content: { items: [] } },
      { peer: ada.address, content: [] },
      { peer: ada.address, content: {}, extra: 1 },
    ]) {
      expectError(
        await org.api.call("POST", "/api/v2/Requests/Outgoing", { json }),
        400,
        CODE.invalidPropertyValue,
      );
      expectError(
        await org.api.call("POST", "/api/v2/Requests/Outgoing/Validate", { json }),
        400,
        CODE.invalidPropertyValue,
      );
    }
    expectError(
      await org.api.call("GET", `/api/v2/Requests/Outgoing${query(["status", "Decided"])}`),
      400,
      CODE.invalidPropertyValue,
    );
    expect(sdkOk(await org.client.outgoingRequests.getRequests({})).map(({ id }) => id)).toEqual([draft.id]);
  });

  test("a request to a stranger: Validate answers isSuccess false with the code, create is 400", async () => {
    const [org, stranger] = [await side(), await side()];
    const request = { peer: stranger.address, content: { items: [AUTHENTICATION] } };
    expect(sdkOk(await org.client.outgoingRequests.canCreateRequest(request))).toEqual({
      isSuccess: false,
      code: CODE.requestsMissingRelationship,
      message: expect.stringContaining(stranger.address) as unknown,
      items: [],
    });
    expectError(
      await org.api.call("POST", "/api/v2/Requests/Outgoing", { json: request }),
      400,
      CODE.requestsMissingRelationship,
    );
  });
});

describe("features not modelled: 501 error.http.notImplemented naming the feature", () => {
  test("through the SDK", async () => {
    const { org, relationshipId, template } = await related();
    const calls: [string, () => Promise<ConnectorHttpResponse<unknown>>][] = [
      ["attributes", () => org.client.attributes.getAttributes({})],
      ["files", () => org.client.files.getOwnFiles()],
      ["tokens", () => org.client.tokens.getOwnTokens()],
      ["challenges", () => org.client.challenges.createChallenge({ challengeType: "Identity" })],
      ["attributes", () => org.client.relationships.getAttributesForRelationship(relationshipId)],
      [
        "relationship reactivation",
        () => org.client.relationships.requestRelationshipReactivation(relationshipId),
      ],
      [
        "relationship reactivation",
        () => org.client.relationships.acceptRelationshipReactivation(relationshipId),
      ],
      ["tokens", () => org.client.relationshipTemplates.createTokenForOwnRelationshipTemplate(template.id)],
      ["message attachments", () => org.client.messages.getAttachment(UNKNOWN.MSG, "FILaaaaaaaaaaaaaaaaa")],
      [
        "message attachments",
        () =>
          org.client.messages.sendMessage({
            recipients: [org.address],
            content: MAIL,
            attachments: ["FILaaaaaaaaaaaaaaaaa"],
          }),
      ],
      [
        "password-protected",
        () =>
          org.client.relationshipTemplates.createOwnRelationshipTemplate({
            content: { "@type": "ArbitraryRelationshipTemplateContent", value: 1 },
            expiresAt: FUTURE,
            passwordProtection: { password: "secret" },
          }),
      ],
      [
        "forIdentity",
        () =>
          org.client.relationshipTemplates.createOwnRelationshipTemplate({
            content: { "@type": "ArbitraryRelationshipTemplateContent", value: 1 },
            expiresAt: FUTURE,
            forIdentity: org.address,
          }),
      ],
      [
        "tokens",
        () =>
          org.client.relationshipTemplates.loadPeerRelationshipTemplate({
            reference: Buffer.from("TOKaaaaaaaaaaaaaaaaa").toString("base64url"),
          }),
      ],
      [
        "password-protected",
        () =>
          org.client.relationshipTemplates.loadPeerRelationshipTemplate({
            reference: template.id,
            password: "x",
          }),
      ],
    ];
    for (const [feature, call] of calls) {
      const response = await call();
      expect({ feature, code: sdkErrorCode(response) }).toEqual({
        feature,
        code: "error.http.notImplemented",
      });
      expect(response.error.message).toContain(feature);
      expect(response.error.message).toContain("identity-runtime does not model");
    }
    // Nothing was created on the way.
    expect(
      sdkOk(await org.client.relationshipTemplates.getOwnRelationshipTemplates()).map(({ id }) => id),
    ).toEqual([template.id]);
    expect(sdkOk(await org.client.messages.getMessages())).toEqual([]);
  });

  test("any method, at any depth, under both prefixes; an empty attachments list is no attachment", async () => {
    const { org, ada } = await related();
    for (const prefix of ["/api/v2", "/api/core/v1"]) {
      for (const path of [
        "/Attributes",
        "/Files/FILaaaaaaaaaaaaaaaaa/Download",
        "/Tokens/Own",
        "/Challenges/Validate/x/y",
        `/Relationships/${UNKNOWN.REL}/Reactivate/Revoke`,
        `/Messages/${UNKNOWN.MSG}/Attachments/FILa/Download`,
      ]) {
        for (const method of [...NOT_MODELLED_METHODS.map((m) => m.toUpperCase()), "HEAD"]) {
          const answer = await org.api.call(
            method,
            `${prefix}${path}`,
            method === "GET" || method === "HEAD"
              ? {}
              : { raw: "not json", headers: { "content-type": "text/plain" } },
          );
          expect({ method, path, status: answer.status }).toEqual({ method, path, status: 501 });
          if (method !== "HEAD") expectError(answer, 501, "error.http.notImplemented");
        }
      }
    }
    const options = await org.api.call("OPTIONS", "/api/v2/Files");
    expectError(options, 405, "error.http.methodNotAllowed");
    expect(options.headers.get("allow")).toBe("GET, PUT, POST, DELETE, PATCH");
    sdkOk(
      await org.client.messages.sendMessage({ recipients: [ada.address], content: MAIL, attachments: [] }),
    );
  });
});
