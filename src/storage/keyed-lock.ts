// Serialises operations on one volume (snapshot, restore, destroy of the same workspace) while
// operations on different volumes run in parallel: 20 forks from one snapshot never wait on
// each other, two snapshots of one workspace never race on its catalog record.

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
