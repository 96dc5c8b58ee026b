// Appending to a versioned bucket, run the same way in Node and in a page: what each step answered, as plain data.
// `checkpoint(name)` is awaited between steps so that the caller can look at the emulator's versions there.
import { errorFields, pattern } from './common.js';

const text = (bytes) => Array.from(bytes).join(',');
const bytesOf = (r) => new Uint8Array(r.content);

async function outcome(promise) {
  try {
    return { ok: await promise };
  } catch (err) {
    return { error: errorFields(err) };
  }
}

/** The flow of a recording on a versioned bucket: append, append, put over it, append again, delete, read. */
export async function versionedFlow(OSS, options, key, checkpoint = async () => {}) {
  const client = new OSS(options);
  const first = pattern(3000, 31);
  const second = pattern(1234, 32);
  const appended = new Uint8Array(first.length + second.length);
  appended.set(first);
  appended.set(second, first.length);
  const out = {};

  const a1 = await client.append(key, first);
  const a2 = await client.append(key, second, { position: a1.nextAppendPosition });
  out.appendVersionIds = [a1.versionId, a2.versionId];
  out.afterAppends = await checkpoint('appended');

  const put = await client.put(key, pattern(100, 33));
  out.putVersionId = put.versionId;
  const old = await client.get(key, { versionId: 'null' });
  out.oldIsAppended = text(bytesOf(old)) === text(appended);
  out.oldVersionHeader = old.res.headers['x-oss-version-id'];
  const oldHead = await client.head(key, { versionId: 'null' });
  out.oldHead = { versionId: oldHead.versionId, objectType: oldHead.objectType, length: oldHead.nextAppendPosition };
  const current = await client.head(key);
  out.currentHead = { versionId: current.versionId, objectType: current.objectType };

  const late = await outcome(client.append(key, pattern(10, 34), { position: a2.nextAppendPosition }));
  out.appendAfterPut = late.error ?? { unexpected: 'resolved' };
  const resumeAfterPut = await outcome(client.openAppender(key, { position: 'resume' }));
  out.resumeAfterPut = resumeAfterPut.error ?? { unexpected: 'resolved' };

  const del = await client.delete(key);
  out.deleted = { versionId: del.versionId, deleteMarker: del.deleteMarker, status: del.res.status };
  out.afterDelete = await checkpoint('deleted');
  const gone = await outcome(client.get(key));
  out.getAfterDelete = gone.error ?? { unexpected: 'resolved' };
  const kept = await client.get(key, { versionId: 'null' });
  out.keptIsAppended = text(bytesOf(kept)) === text(appended);
  const putVersion = await client.get(key, { versionId: put.versionId });
  out.putVersionLength = bytesOf(putVersion).length;

  // An appender that continues where the recording was meets the delete marker.
  const w = await client.openAppender(key, { position: a2.nextAppendPosition, minPartSize: 1 });
  const write = await outcome(w.write(pattern(10, 35)));
  out.appenderAfterDelete = write.error ?? { unexpected: 'resolved' };
  await outcome(w.abort?.() ?? w.close());

  const bad = await outcome(client.get(key, { versionId: 'not a version' }));
  out.badVersionId = bad.error ?? { unexpected: 'resolved' };
  return out;
}

/** `'resume'` on a key whose current version is a delete marker starts a new object at 0. */
export async function resumeAfterDelete(OSS, options, key) {
  const client = new OSS(options);
  await client.append(key, pattern(500, 41));
  await client.delete(key);
  const w = await client.openAppender(key, { position: 'resume' });
  const startedAt = w.position;
  const fresh = pattern(700, 42);
  await w.write(fresh);
  const done = await w.close();
  const now = await client.get(key);
  return {
    startedAt,
    nextAppendPosition: done.nextAppendPosition,
    readsFresh: text(new Uint8Array(now.content)) === text(fresh),
  };
}
