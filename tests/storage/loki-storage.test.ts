import { lokiStorage } from "../../src/index";
import {
  runComplianceCase,
  runStorageAdapterComplianceSuite,
  storageAdapterComplianceCases,
} from "../../src/testing";

describe("lokiStorage passes the storage compliance suite", () => {
  test.each(storageAdapterComplianceCases.map((c) => [c.name, c] as const))(
    "%s",
    async (_name, complianceCase) => {
      await runComplianceCase(lokiStorage, complianceCase);
    },
  );

  test("the suite runner reports every case as passed", async () => {
    const passed = await runStorageAdapterComplianceSuite(lokiStorage);
    expect(passed).toEqual(storageAdapterComplianceCases.map((c) => c.name));
  });
});
