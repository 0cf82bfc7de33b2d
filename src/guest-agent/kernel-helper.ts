// A resident perl process that makes the two system calls Node cannot: settimeofday and the
// RNDRESEEDCRNG ioctl. It is started at the first `configure` that needs it and then stays,
// so a VM saved after that (a memory template) wakes up with it already running: setting the
// clock and reseeding after a restore cost a line on a pipe, not a program start (~0.3 s
// under TCG). Setting the clock is x86-64 only (the syscall number): elsewhere the caller runs
// `date`. A helper that died is started again by the next command.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

const SYS_SETTIMEOFDAY_X64 = 164;
const RNDRESEEDCRNG = 0x5207; // _IO('R', 0x07)
const REPLY_TIMEOUT_MS = 10_000;

const SCRIPT = `
$| = 1;
while (my $line = <STDIN>) {
  chomp $line;
  my ($cmd, @args) = split / /, $line;
  my $ok;
  # syscall() may write into string arguments, so the timeval must be a variable
  if ($cmd eq "time") { my $tv = pack("qq", $args[0], $args[1]); $ok = syscall(${SYS_SETTIMEOFDAY_X64}, $tv, 0) == 0; }
  elsif ($cmd eq "reseed") { if (open(my $f, "<", "/dev/urandom")) { $ok = ioctl($f, ${RNDRESEEDCRNG}, 0); } }
  print $ok ? "ok\\n" : "err $!\\n";
}
`;

export class KernelHelper {
  private child: ChildProcessWithoutNullStreams | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  // True where the helper knows settimeofday's syscall number.
  static canSetClock(): boolean {
    return process.platform === "linux" && process.arch === "x64";
  }

  // Sets the wall clock; rejects with the kernel's reason (e.g. EPERM without CAP_SYS_TIME).
  setClock(epochMs: number): Promise<void> {
    const seconds = Math.floor(epochMs / 1000);
    return this.command(`time ${seconds} ${(epochMs - seconds * 1000) * 1000}`);
  }

  // Makes the kernel's CRNG reseed from its input pool now.
  reseed(): Promise<void> {
    return this.command("reseed");
  }

  // One command at a time: the helper answers in order, one line each.
  private command(line: string): Promise<void> {
    const run = this.queue.then(() => this.send(line));
    this.queue = run.catch(() => {});
    return run;
  }

  private send(line: string): Promise<void> {
    const child = this.start();
    return new Promise((resolve, reject) => {
      let buffered = "";
      const done = (err?: Error) => {
        clearTimeout(timer);
        child.stdout.off("data", onData);
        child.off("exit", onExit);
        child.off("error", onError);
        if (err) reject(err);
        else resolve();
      };
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString();
        const end = buffered.indexOf("\n");
        if (end < 0) return;
        const reply = buffered.slice(0, end);
        done(reply === "ok" ? undefined : new Error(reply.replace(/^err /, "") || "failed"));
      };
      const onExit = () => done(new Error("the kernel helper exited"));
      const onError = (err: Error) => done(err);
      const timer = setTimeout(() => {
        this.close();
        done(new Error("the kernel helper did not answer"));
      }, REPLY_TIMEOUT_MS);
      child.stdout.on("data", onData);
      child.once("exit", onExit);
      child.once("error", onError);
      child.stdin.write(`${line}\n`);
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child && this.child.exitCode === null) return this.child;
    const child = spawn("perl", ["-e", SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
    child.on("error", () => {});
    child.stdin.on("error", () => {});
    child.once("exit", () => {
      if (this.child === child) this.child = undefined;
    });
    // the helper must not keep a finished agent alive
    child.unref();
    this.child = child;
    return child;
  }

  // Ends the helper process (the agent's exit ends it too: its stdin closes).
  close(): void {
    this.child?.kill("SIGKILL");
    this.child = undefined;
  }
}
