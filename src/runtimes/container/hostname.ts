// A workspace's name as the hostname its guest gets.

// Workspace names may hold "_" and "." which hostnames may not: map them, keep 63 characters.
export function toHostname(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, 63).replace(/^-+|-+$/g, "");
  return cleaned || "workspace";
}
