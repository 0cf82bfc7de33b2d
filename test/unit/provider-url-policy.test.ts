// The provider URL an MCP orchestration may use: under an allowed base URL, and never a private,
// loopback or link-local address (the cloud metadata service, host services) unless the operator
// allows it. Name resolution is injected, so a hostname that resolves into 10/8 is tested too.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isAgentisoError } from "../../src/core/errors.js";
import { isPublicAddress } from "../../src/core/address-ranges.js";
import { assertProviderUrlAllowed, type AddressLookup } from "../../src/orchestrator/provider-url-policy.js";

const DEFAULT = { allowedBaseUrls: ["https://api.openai.com/v1", "https://api.anthropic.com/v1"], allowPrivateBaseUrls: false };
const dns: Record<string, string[]> = {
  "api.openai.com": ["162.159.140.245"],
  "api.anthropic.com": ["160.79.104.10"],
  "llm.internal.example": ["10.0.0.7"],
  "rebind.example": ["93.184.215.14", "169.254.169.254"],
};
const lookup: AddressLookup = async (host) => {
  const found = dns[host];
  if (!found) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
  return found;
};

async function refusal(url: string, policy = DEFAULT): Promise<{ code: string; message: string }> {
  const err = await assertProviderUrlAllowed(url, policy, lookup).then(() => undefined, (e: unknown) => e);
  assert.ok(isAgentisoError(err), `${url} should be refused`);
  return { code: err.code, message: err.message };
}

describe("provider URL policy", () => {
  test("the built-in providers' URLs and paths under them are allowed", async () => {
    for (const url of ["https://api.openai.com/v1", "https://api.openai.com/v1/", "https://api.anthropic.com/v1"]) await assertProviderUrlAllowed(url, DEFAULT, lookup);
  });

  test("the metadata service, RFC 1918, loopback and look-alike URLs are refused before any connection", async () => {
    for (const url of [
      "http://169.254.169.254/latest/meta-data",
      "http://10.1.2.3/v1",
      "http://127.0.0.1:8080/v1",
      "http://[::1]/v1",
      "http://[::ffff:169.254.169.254]/v1",
      "http://0x7f.1/v1",
      "https://api.openai.com.evil.example/v1",
      "https://api.openai.com/v10",
      "https://api.openai.com/v1/../files",
      "http://api.openai.com/v1",
      "https://api.openai.com:444/v1",
      "https://user:pw@api.openai.com/v1",
      "file:///etc/passwd",
    ]) {
      const { code, message } = await refusal(url);
      assert.equal(code, "PERMISSION_DENIED", url);
      assert.ok(message.length > 30, message);
    }
    assert.match((await refusal("http://169.254.169.254/v1")).message, /not an allowed provider.*allowedBaseUrls/);
  });

  test("an allowed host that resolves to a private or link-local address is refused unless the operator allows private URLs", async () => {
    const policy = { allowedBaseUrls: ["https://llm.internal.example/v1", "https://rebind.example/v1"], allowPrivateBaseUrls: false };
    assert.match((await refusal("https://llm.internal.example/v1", policy)).message, /resolves to 10\.0\.0\.7, a private.*allowPrivateBaseUrls/);
    assert.match((await refusal("https://rebind.example/v1", policy)).message, /169\.254\.169\.254/);
    await assertProviderUrlAllowed("https://llm.internal.example/v1", { ...policy, allowPrivateBaseUrls: true }, lookup);
  });

  test("an IP literal the operator lists is allowed as the operator's explicit choice", async () => {
    await assertProviderUrlAllowed("http://127.0.0.1:8080/v1/chat", { allowedBaseUrls: ["http://127.0.0.1:8080/v1"], allowPrivateBaseUrls: false }, lookup);
    assert.equal((await refusal("http://127.0.0.1:9090/v1", { allowedBaseUrls: ["http://127.0.0.1:8080/v1"], allowPrivateBaseUrls: false })).code, "PERMISSION_DENIED");
  });

  test("a host that does not resolve is refused with the resolver's words", async () => {
    const err = await assertProviderUrlAllowed("https://nowhere.example/v1", { allowedBaseUrls: ["https://nowhere.example"], allowPrivateBaseUrls: false }, lookup).catch((e: Error) => e);
    assert.match(String((err as Error).message), /cannot resolve.*ENOTFOUND/);
  });

  test("address ranges: public addresses pass, every non-public family does not", () => {
    for (const address of ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"]) assert.ok(isPublicAddress(address), address);
    for (const address of ["10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "127.0.0.1", "169.254.169.254", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00::1", "ff02::1", "::ffff:10.0.0.1", "::ffff:a9fe:a9fe", "64:ff9b::a9fe:a9fe", "not-an-ip"]) {
      assert.ok(!isPublicAddress(address), address);
    }
  });
});
