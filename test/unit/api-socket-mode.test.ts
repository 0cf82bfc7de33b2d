// The control socket is the daemon's root-equivalent door: it must be 0600 from the moment it
// exists, not after a chmod that follows listen().
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApiServer } from "../../src/api/api-server.js";
import { silentLogger } from "../../src/core/logger.js";
import type { OperationServices } from "../../src/operations/operation.js";
import { OperationInvoker } from "../../src/operations/invoke.js";

test("the control socket is created 0600 by the bind itself, and the process umask is left as it was", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ais-api-"));
  const umaskBefore = process.umask();
  const server = await startApiServer({
    socketPath: join(dir, "agentiso.sock"),
    invoker: new OperationInvoker({ operations: [], services: {} as OperationServices, logger: silentLogger }),
    health: () => ({ up: true }),
  });
  try {
    assert.equal((await stat(join(dir, "agentiso.sock"))).mode & 0o777, 0o600);
    assert.equal(process.umask(), umaskBefore);
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: join(dir, "agentiso.sock"), path: "/v1/health" }, (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end();
    });
    assert.deepEqual(JSON.parse(body), { ok: true, result: { up: true } });
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
});
