// One typed method per operation contract, generated from the registry: input and result types
// are the contract's schemas, so a new operation is in the SDK the moment it is in the registry.
import type { ApiClient, CallOptions } from "../api/api-client.js";
import type { InputOf, OutputOf } from "../contract/contract.js";
import { contracts, type Contracts } from "../contract/registry.js";

export type OperationMethods = {
  [K in keyof Contracts]: (input: InputOf<Contracts[K]>, options?: CallOptions) => Promise<OutputOf<Contracts[K]>>;
};

// The methods, each a call of its contract through the control API.
export function operationMethods(client: ApiClient): OperationMethods {
  const entries = Object.entries(contracts).map(([key, contract]) => [key, (input: unknown, options?: CallOptions) => client.run(contract, input as never, options)]);
  return Object.fromEntries(entries) as OperationMethods;
}
