// A remote tier for the Store that adds the Redis key lock to a remote cache (either may
// be absent: a queue without a remote cache still never builds one key twice at once).

import type { Store, Entry } from '../engine/keep/store.ts';
import type { RemoteTier } from '../engine/keep/remote.ts';
import type { RedisKeyLock } from './keylock.ts';

export function withLock(remote: RemoteTier | null, locker: RedisKeyLock): RemoteTier {
  return {
    pull: (store: Store, stage: string, key: string) => (remote ? remote.pull(store, stage, key) : Promise.resolve(false)),
    push: (store: Store, entry: Entry) => (remote ? remote.push(store, entry) : Promise.resolve()),
    lock: (stage, key, onWait) => locker.lock(stage, key, onWait),
  };
}
