// The enmeshed Connector SDK, unchanged, drives two `serve` processes (Org and Ada) on one PostgreSQL database
// through a whole story, ending with Ada's deletion reaching Org's webhook receiver.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectorClient } from "@nmshd/connector-sdk";
import type { ConnectorHttpResponse } from "@nmshd/connector-sdk";
import { adminQuery, databaseUrl, describePostgres } from "../storage/postgres";
import { startServer } from "./cli";
import { startReceiver } from "./receiver";
import type { Receiver } from "./receiver";

const API_KEY = "connector-story-key";

/** The result of a successful SDK call; fails the test with the Connector error otherwise. */
function result<T>(response: ConnectorHttpResponse<T>): T {
  if (response.isError) throw new Error(`expected success, got ${JSON.stringify(response.error)}`);
  return response.result;
}

/** The error code of a failed SDK call; fails the test otherwise. */
function errorCode<T>(response: ConnectorHttpResponse<T>): string {
  if (response.isSuccess) throw new Error(`expected an error, got ${JSON.stringify(response.result)}`);
  return response.error.code;
}

/** Calls `probe` until it returns a value (not undefined), for what reaches the other server moments later. */
async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("eventually: no value in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describePostgres("the Connector SDK against two serve processes on one PostgreSQL database", () => {
  const database = `story_${process.pid}_${Date.now().toString(36)}`;
  let connectionString = "";
  let directory = "";
  let receiver: Receiver;

  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE ${database}`);
    const url = new URL(databaseUrl());
    url.pathname = `/${database}`;
    connectionString = url.toString();
    directory = mkdtempSync(join(tmpdir(), "identity-runtime-story-"));
    receiver = await startReceiver();
  });

  afterAll(async () => {
    await receiver.close();
    rmSync(directory, { recursive: true, force: true });
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  test("Org and Ada relate, exchange IdentityMetadata, messages and a request; Ada's deletion reaches Org's webhook", async () => {
    const webhooks = join(directory, "org-webhooks.json");
    writeFileSync(
      webhooks,
      JSON.stringify({
        targets: { receiver: { url: `${receiver.url}/org` } },
        webhooks: [{ triggers: ["transport.peerToBeDeleted", "transport.peerDeleted"], target: "receiver" }],
      }),
    );
    const shared = ["--api-key", API_KEY, "--storage", `postgres:${connectionString}`];
    const [orgServer, adaServer] = await Promise.all([
      startServer([...shared, "--identity", "org", "--webhooks", webhooks]),
      startServer([...shared, "--identity", "ada"]),
    ]);
    expect(orgServer.identity).not.toBe(adaServer.identity);
    const org = ConnectorClient.create({ baseUrl: orgServer.url, apiKey: API_KEY });
    const ada = ConnectorClient.create({ baseUrl: adaServer.url, apiKey: API_KEY });
    const orgAddress = result(await org.account.getIdentityInfo()).address;
    const adaAddress = result(await ada.account.getIdentityInfo()).address;
    expect([orgAddress, adaAddress]).toStrictEqual([orgServer.identity, adaServer.identity]);

    // Org creates a template; Ada loads it by its truncated reference and creates a relationship.
    const template = result(
      await org.relationshipTemplates.createOwnRelationshipTemplate({
        content: { "@type": "ArbitraryRelationshipTemplateContent", value: { welcome: "Org" } },
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        maxNumberOfAllocations: 1,
      }),
    );
    const loaded = result(
      await ada.relationshipTemplates.loadPeerRelationshipTemplate({
        reference: template.truncatedReference,
      }),
    );
    expect(loaded).toMatchObject({ id: template.id, isOwn: false, createdBy: orgAddress });
    const created = result(
      await ada.relationships.createRelationship({
        templateId: template.id,
        creationContent: { "@type": "ArbitraryRelationshipCreationContent", value: { hello: "Ada" } },
      }),
    );
    expect(created.status).toBe("Pending");

    // Org accepts; Ada sees it Active after a sync.
    const pending = await eventually(async () => {
      const relationships = result(await org.relationships.getRelationships({ peer: adaAddress }));
      return relationships.find((relationship) => (relationship.status as string) === "Pending");
    });
    expect(result(await org.relationships.acceptRelationship(pending.id)).status).toBe("Active");
    await ada.account.sync();
    expect(result(await ada.relationships.getRelationship(created.id)).status).toBe("Active");

    // Org keeps IdentityMetadata about Ada.
    result(
      await org.identityMetadata.upsertIdentityMetadata({
        reference: adaAddress,
        key: "crm",
        value: { id: 42 },
      }),
    );
    expect(result(await org.identityMetadata.getIdentityMetadata(adaAddress, "crm")).value).toStrictEqual({
      id: 42,
    });

    // Messages both ways.
    const mail = { "@type": "Mail" as const, to: [adaAddress], subject: "Welcome", body: "Hello Ada" };
    const sent = result(await org.messages.sendMessage({ recipients: [adaAddress], content: mail }));
    await ada.account.sync();
    expect(result(await ada.messages.getMessage(sent.id)).content).toStrictEqual(mail);
    const reply = { "@type": "Mail" as const, to: [orgAddress], subject: "Re: Welcome", body: "Thanks" };
    const replied = result(await ada.messages.sendMessage({ recipients: [orgAddress], content: reply }));
    await org.account.sync();
    expect(result(await org.messages.getMessage(replied.id)).createdBy).toBe(adaAddress);

    // Org sends a request; Ada accepts it; Org's request is Completed.
    const requestContent = {
      items: [{ "@type": "AuthenticationRequestItem", mustBeAccepted: true, title: "Log in to Org" }],
    };
    expect(
      result(await org.outgoingRequests.canCreateRequest({ peer: adaAddress, content: requestContent }))
        .isSuccess,
    ).toBe(true);
    const request = result(
      await org.outgoingRequests.createRequest({ peer: adaAddress, content: requestContent }),
    );
    result(await org.messages.sendMessage({ recipients: [adaAddress], content: request.content }));
    await ada.account.sync();
    const incoming = result(await ada.incomingRequests.getRequest(request.id));
    expect(incoming.status).toBe("ManualDecisionRequired");
    expect(
      result(await ada.incomingRequests.canAccept(request.id, { items: [{ accept: true }] })).isSuccess,
    ).toBe(true);
    result(await ada.incomingRequests.accept(request.id, { items: [{ accept: true }] }));
    await org.account.sync();
    const completed = result(await org.outgoingRequests.getRequest(request.id));
    expect(completed.status).toBe("Completed");
    expect(completed.response?.content.result).toBe("Accepted");

    // Ada starts her deletion with a short grace period (our route: the SDK has none).
    const started = await fetch(`${adaServer.url}/api/v2/IdentityDeletionProcesses`, {
      method: "POST",
      headers: { "x-api-key": API_KEY, "content-type": "application/json" },
      body: JSON.stringify({ lengthOfGracePeriodInDays: 3 / 86_400 }),
    });
    expect(started.status).toBe(201);
    const [toBeDeleted] = await receiver.waitFor(1, 10_000);
    expect(toBeDeleted?.path).toBe("/org");
    expect(toBeDeleted?.payload).toMatchObject({
      trigger: "transport.peerToBeDeleted",
      data: { peer: adaAddress, peerDeletionInfo: { deletionStatus: "ToBeDeleted" } },
    });
    await org.account.sync();
    expect(errorCode(await org.messages.sendMessage({ recipients: [adaAddress], content: mail }))).toBe(
      "error.runtime.messages.peerIsInDeletion",
    );
    expect(
      errorCode(await org.outgoingRequests.createRequest({ peer: adaAddress, content: requestContent })),
    ).toBe("error.consumption.requests.peerIsInDeletion");

    // Once the grace period has passed, a Backbone on the database deletes Ada and Org hears it.
    const [, deleted] = await receiver.waitFor(2, 20_000);
    expect(deleted?.payload).toMatchObject({
      trigger: "transport.peerDeleted",
      data: { peer: adaAddress, peerDeletionInfo: { deletionStatus: "Deleted" } },
    });
    await org.account.sync();
    expect(errorCode(await org.messages.sendMessage({ recipients: [adaAddress], content: mail }))).toBe(
      "error.transport.messages.peerIsDeleted",
    );
    expect(
      errorCode(await org.outgoingRequests.createRequest({ peer: adaAddress, content: requestContent })),
    ).toBe("error.consumption.requests.peerIsDeleted");
    expect(receiver.received.map((hook) => hook.payload.trigger)).toStrictEqual([
      "transport.peerToBeDeleted",
      "transport.peerDeleted",
    ]);

    for (const server of [orgServer, adaServer]) server.cli.child.kill("SIGTERM");
    for (const server of [orgServer, adaServer])
      expect(await server.cli.exited()).toStrictEqual({ code: 0, signal: null });
  }, 90_000);
});
