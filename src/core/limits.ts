// Limits that both the engine enforces and the operation contracts describe to callers.

/** Most workspaces one fork call creates. */
export const MAX_FORK_COUNT = 64;
