// Serialises operations on the same key (a workspace id) while different keys run in
// parallel: a snapshot must not interleave with a stop of the same workspace.

export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  // Runs fn after every earlier fn with the same key has settled.
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
