// One typed method per operation contract, generated from the registry: input and result types
// are the contract's schemas, so a new operation is in the SDK the moment it is in the registry.
import type { ApiClient, CallOptions, ProgressHandler } from "../api/api-client.js";
import type { InputOf, OutputOf } from "../contract/contract.js";
import { contracts, type Contracts } from "../contract/registry.js";

/** A call's options; onProgress receives the progress events of operations that stream them (exec output, orchestrate). */
export type MethodOptions = CallOptions & { onProgress?: ProgressHandler };

export type OperationMethods = {
  [K in keyof Contracts]: (input: InputOf<Contracts[K]>, options?: MethodOptions) => Promise<OutputOf<Contracts[K]>>;
};

// The methods, each a call of its contract through the control API (streamed when onProgress is given).
export function operationMethods(client: ApiClient): OperationMethods {
  const entries = Object.entries(contracts).map(([key, contract]) => [
    key,
    (input: unknown, options: MethodOptions = {}) => {
      const { onProgress, ...call } = options;
      if (!onProgress) return client.run(contract, input as never, call);
      return client.runStreaming(contract, input as never, onProgress, call.signal ? { signal: call.signal } : {});
    },
  ]);
  return Object.fromEntries(entries) as OperationMethods;
}
