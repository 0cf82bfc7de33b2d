// Limits that both the engine enforces and the operation contracts describe to callers.

/** Most workspaces one fork call creates. */
export const MAX_FORK_COUNT = 64;

/** Most ports one workspace may forward to the host at once (each is a host listener). */
export const MAX_PORT_FORWARDS = 16;

/** Lowest host port a forward may listen on: below it are the host's own services' ports. */
export const MIN_FORWARD_HOST_PORT = 1024;
