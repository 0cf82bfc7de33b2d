// The global --home flag, which may come before the command (shared by the fast path and the full CLI).
export function globalFlags(argv: readonly string[]): { home?: string; rest: string[] } {
  const rest = [...argv];
  const index = rest.findIndex((a) => a === "--home" || a.startsWith("--home="));
  if (index < 0) return { rest };
  const arg = rest[index]!;
  const home = arg.includes("=") ? arg.slice("--home=".length) : rest[index + 1];
  rest.splice(index, arg.includes("=") ? 1 : 2);
  return home === undefined ? { rest } : { home, rest };
}
