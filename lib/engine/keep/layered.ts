// The local store with layers behind it: a remote cache pulled on a local miss and pushed
// after a build, and a key lock shared with other machines around each stage build. It is
// a Store like the local one (store-api.ts); the build cannot tell them apart.

import { LocalStore } from './store.ts';
import type { Entry } from './entry.ts';
import type { KeyLock, RemoteTier } from './store-api.ts';
import type { WriteIo } from './atomic-write.ts';

export interface Layers {
  remote?: RemoteTier | null;
  keyLock?: KeyLock | null;
}

export class LayeredStore extends LocalStore {
  readonly remote: RemoteTier | null;
  readonly keyLock: KeyLock | null;

  constructor(root: string, layers: Layers, io: Partial<WriteIo> = {}) {
    super(root, io);
    this.remote = layers.remote ?? null;
    this.keyLock = layers.keyLock ?? null;
  }

  override pull(stage: string, key: string): Promise<boolean> {
    return this.remote ? this.remote.pull(this, stage, key) : Promise.resolve(false);
  }

  override push(entry: Entry): Promise<void> {
    return this.remote ? this.remote.push(this, entry) : Promise.resolve();
  }

  override lockKey(stage: string, key: string, onWait: (holder: string) => void): Promise<(() => Promise<void>) | null> {
    return this.keyLock ? this.keyLock.lock(stage, key, onWait) : Promise.resolve(null);
  }
}
