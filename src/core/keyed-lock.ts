// Serialises operations on the same keys (a volume, a workspace, an image base) while
// operations on different keys run in parallel: 20 forks from one snapshot never wait on
// each other, a snapshot never interleaves with a stop of the same workspace.

export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  // Runs fn after every earlier fn for the same keys has settled; keys are taken in sorted order.
  async run<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    if (sorted.length === 0) return fn();
    const [first, ...rest] = sorted;
    return this.runOne(first!, () => this.run(rest, fn));
  }

  private async runOne<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
