import { createTestWorld } from "identity-runtime/testing";
import "identity-runtime/testing/jest";
import { Crm } from "../crm";

test("our CRM closes the account of a customer whose identity is deleted", async () => {
  const world = await createTestWorld({ identities: ["shop", "customer"], connected: true });
  const crm = new Crm(world.runtime("shop"));
  expect(await world.runtime("customer").identityDeletion.initiateIdentityDeletionProcess()).toBeOk();
  await world.advance({ days: 15 }); // past the grace period of 14 days
  expect(crm.isClosed(world.address("customer"))).toBe(true);
  await world.close();
});

test("a matcher's failure names the expected and the actual code", async () => {
  const world = await createTestWorld({ identities: ["shop"] });
  const active = await world.runtime("shop").identityDeletion.getActiveIdentityDeletionProcess();
  expect(active).toBeErr("error.runtime.identityDeletionProcess.noActiveIdentityDeletionProcess");
  expect(() => expect(active).toBeErr("error.runtime.identityDeleted")).toThrow(
    "expected Err error.runtime.identityDeleted, got Err error.runtime.identityDeletionProcess.noActiveIdentityDeletionProcess",
  );
  await world.close();
});
