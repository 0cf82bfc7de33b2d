// The environment host tools run with (runc, btrfs, ip, nft, git, QEMU, slirp4netns...):
// where to find programs, locale, temp dir, time zone and the operator's network proxy —
// nothing else. Whoever started the daemon may have had model keys in their environment; a
// tool started with it would keep them in its /proc/PID/environ for as long as it runs.

/** Variables a host tool may need; everything else in the daemon's environment stays there. */
export const HOST_TOOL_ENV_VARS = [
  "PATH",
  "HOME",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TZ",
  "TMPDIR",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
] as const;

// The allowed variables of `env` that are set (PATH defaults to the usual system dirs).
export function hostToolEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const picked: NodeJS.ProcessEnv = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };
  for (const name of HOST_TOOL_ENV_VARS) if (env[name] !== undefined) picked[name] = env[name];
  return picked;
}
