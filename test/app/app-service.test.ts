// The app service (what both Electron main and the browser host expose) on the real engine
// against the demo server on 127.0.0.1: connect, folders, a whole job, history, interrupted
// jobs offered after a restart, and the limits on what it opens.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createAppService } from '../../electron/core/app/app-service.ts';
import type { AppService, AppServiceOptions } from '../../electron/core/app/app-service.ts';
import { dispatchCommand } from '../../electron/core/contract.ts';
import type { Events, FolderPlan, JobStatus } from '../../electron/core/contract.ts';
import { freePort } from '../helpers/servers.ts';
import { startDemoServer } from '../servers/demo-server.ts';
import type { DemoServer } from '../servers/demo-server.ts';
import { startSlowListingServer } from '../servers/slow-listing-server.ts';

let demo: DemoServer;
let slow: DemoServer;
let tmp: string;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reelpack-app-'));
  demo = await startDemoServer({ count: 12, size: 64 * 1024, processingEvery: 5 });
  slow = await startDemoServer({ count: 8, size: 256 * 1024, rateBytesPerSec: 256 * 1024 });
});
after(async () => {
  await demo.close();
  await slow.close();
  await rm(tmp, { recursive: true, force: true });
});

function service(configDir: string, opened: string[] = [], extra: Partial<AppServiceOptions> = {}): Promise<AppService> {
  return createAppService({
    configDir,
    eventThrottleMs: 20,
    jobDefaults: { stallTimeoutMs: 5000, retries: 2 },
    platform: { shell: 'browser', openPath: async (p) => void opened.push(p), showItemInFolder: async (p) => void opened.push(`show:${p}`) },
    ...extra,
  });
}

/** Resolves with the job once it is in one of `statuses`, including when it already is (a job may fail before startJob returns). */
function waitForStatus(app: AppService, jobId: string, statuses: JobStatus[]): Promise<Events['job']> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (change: Events['job']) => {
      if (settled) return;
      settled = true;
      off();
      resolve(change);
    };
    const off = app.subscribe((name, payload) => {
      const change = payload as Events['job'];
      if (name === 'job' && change.job.id === jobId && statuses.includes(change.job.status)) finish(change);
    });
    void app.getJob({ jobId }).then((snap) => {
      if (statuses.includes(snap.job.status)) finish({ ...snap, warningsFrom: 0 });
    });
  });
}

test('connect lists every page, remembers the server, and reports what is not ready', async () => {
  const config = path.join(tmp, 'connect');
  const app = await service(config);
  const c = await app.connect({ url: demo.url });
  assert.equal(c.kind, 'api');
  assert.equal(c.items.length, 10); // 12 minus every 5th still processing
  assert.equal(c.skipped.length, 2);
  assert.equal(c.totalBytes, 10 * 64 * 1024);
  assert.match(c.items[0]!.params, /avatar=presenter-1/);
  const settings = await app.getSettings({});
  assert.equal(settings.recentServers[0]!.url, c.source);
  assert.equal(settings.recentServers[0]!.hasToken, false);
  await app.close();
  // Settings survive a restart.
  const again = await service(config);
  assert.equal((await again.getSettings({})).recentServers[0]!.count, 10);
  assert.deepEqual(await dispatchCommand(again, 'setLocale', { locale: 'zh-CN' }), { ok: true, value: { ...(await again.getSettings({})), locale: 'zh-CN' } });
  await again.close();
});

test('an unreachable server comes back as error data with a stable code', async () => {
  const app = await service(path.join(tmp, 'unreachable'));
  const reply = await dispatchCommand(app, 'connect', { url: 'http://127.0.0.1:9/' });
  assert.equal(reply.ok, false);
  assert.equal(!reply.ok && reply.error.code, 'SOURCE_UNUSABLE');
  // A server typed without http:// is a server; a relative path is refused, not resolved against the app's folder.
  const bare = await app.connect({ url: demo.url.replace('http://', '') });
  assert.equal(bare.source, `${demo.url}/`);
  const relative = await dispatchCommand(app, 'connect', { url: 'some/folder' });
  assert.equal(!relative.ok && relative.error.code, 'BAD_ARGUMENT');
  assert.match(!relative.ok ? relative.error.message : '', /full folder path/);
  const pathName = await dispatchCommand(app, 'startJob', { source: bare.source, outDir: path.join(tmp, 'named'), mode: 'zip', zipName: 'batch/../one.zip', onlyNew: false });
  assert.equal(!pathName.ok && pathName.error.code, 'BAD_ARGUMENT', 'a bundle name with a slash is refused');
  const browse = await dispatchCommand(app, 'chooseFolder', {});
  assert.equal(!browse.ok && browse.error.code, 'UNSUPPORTED');
  await app.close();
});

test('a connect reports its count page by page, and can be stopped or replaced while the server is slow', async () => {
  const slowList = await startSlowListingServer({ pageSize: 3, total: 12, pageDelayMs: 200 });
  const base = slowList.url;
  const app = await service(path.join(tmp, 'slow-connect'));
  const counts: Array<Events['listing']> = [];
  const off = app.subscribe((name, payload) => void (name === 'listing' && counts.push(payload as Events['listing'])));
  try {
    const c = await app.connect({ url: base });
    assert.equal(c.items.length, 12);
    assert.deepEqual(counts, [3, 6, 9, 12].map((found) => ({ found, total: 12 })));

    const stopped = dispatchCommand(app, 'connect', { url: slowList.trickleUrl });
    setTimeout(() => void app.cancelConnect({}), 300);
    const reply = await stopped;
    assert.equal(!reply.ok && reply.error.code, 'CANCELLED');

    // Connecting elsewhere while a connect hangs: the first one stops, the second one lists.
    const replaced = dispatchCommand(app, 'connect', { url: slowList.trickleUrl });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await app.connect({ url: base })).items.length, 12);
    const first = await replaced;
    assert.equal(!first.ok && first.error.code, 'CANCELLED');
    assert.equal(await app.cancelConnect({}), null, 'nothing in progress: nothing to stop');

    // A job lists its source again before it downloads: its screen has the selection's count at
    // once, then the listing's progress, and no listing once it is over.
    const snap = await app.startJob({ source: c.source, outDir: path.join(tmp, 'slow-connect-out'), mode: 'zip', onlyNew: false, selectIds: c.items.slice(0, 5).map((i) => i.id) });
    assert.deepEqual([snap.progress.filesTotal, snap.progress.bytesTotal], [5, 50]);
    const listed: Array<Events['job']['listing']> = [];
    const offJob = app.subscribe((name, payload) => void (name === 'job' && listed.push((payload as Events['job']).listing)));
    await waitForStatus(app, snap.job.id, ['failed', 'done']); // its "videos" are JSON pages: they fail
    offJob();
    assert.ok(listed.some((l) => l !== null && l.found >= 3 && l.total === 12), JSON.stringify(listed));
    assert.equal(listed.at(-1), null);
  } finally {
    off();
    await app.close();
    await slowList.close();
  }
});

test('checkFolder validates typed paths and reports free space', async () => {
  const app = await service(path.join(tmp, 'folders'));
  assert.equal((await app.checkFolder({ path: 'relative/dir' })).problem, 'not-absolute');
  assert.equal((await app.checkFolder({ path: '' })).problem, 'empty');
  const file = path.join(tmp, 'a-file');
  await writeFile(file, 'x');
  assert.equal((await app.checkFolder({ path: file })).problem, 'not-a-folder');
  assert.equal((await app.checkFolder({ path: path.join(tmp, 'x'.repeat(256), 'y') })).problem, 'name-too-long');
  if (process.platform === 'linux') assert.equal((await app.checkFolder({ path: '/proc/reelpack-out' })).problem, 'not-writable');
  const fresh = await app.checkFolder({ path: path.join(tmp, 'new', 'deeper') });
  assert.equal(fresh.problem, null);
  assert.equal(fresh.exists, false);
  assert.ok((fresh.freeBytes ?? 0) > 0);
  assert.equal((await app.checkFolder({ path: '~' })).path, os.homedir());
  assert.equal(fresh.neededBytes, null, 'no plan, no estimate');
  await app.close();
});

test('checkFolder estimates the space a planned job needs, as the job itself checks it', async () => {
  const app = await service(path.join(tmp, 'estimates'), [], { jobDefaults: { concurrency: 3 } });
  const MiB = 1024 * 1024;
  const url = 'http://127.0.0.1:9/';
  const needed = async (plan: Omit<FolderPlan, 'source'>, source = url) => (await app.checkFolder({ path: tmp, plan: { source, ...plan } })).neededBytes;
  const batch = { bytes: 1000 * MiB, largestBytes: 10 * MiB };
  // Zip mode stages every download until its archive is finished: twice the batch.
  assert.equal(await needed({ mode: 'zip', ...batch }), 2000 * MiB);
  assert.equal(await needed({ mode: 'both', ...batch }), 2000 * MiB);
  assert.equal(await needed({ mode: 'folder', ...batch }), 1000 * MiB);
  assert.equal(await needed({ mode: 'folder', volumeSize: 100 * MiB, ...batch }), 1000 * MiB, 'folder mode has no volumes');
  // Volumes of 100 MiB: the archives, plus the open volume, the staging limit (a volume and a
  // file per connection) and four files per connection.
  assert.equal(await needed({ mode: 'zip', volumeSize: 100 * MiB, ...batch }), 1000 * MiB + 100 * MiB + (100 + 30) * MiB + 4 * 3 * 10 * MiB);
  // A local folder is read in place.
  assert.equal(await needed({ mode: 'zip', ...batch }, tmp), 1000 * MiB);
  // A URL list in a local file downloads: known from its listing once connected, and assumed
  // (estimated high) for a local file the app has not listed.
  const list = path.join(tmp, 'urls.txt');
  await writeFile(list, demo.files.slice(0, 2).map((f) => `${demo.url}/outputs/${f.name}`).join('\n') + '\n');
  const listed = await app.connect({ url: list });
  assert.ok(listed.items.length > 0);
  assert.equal(await needed({ mode: 'zip', ...batch }, listed.source), 2000 * MiB);
  assert.equal(await needed({ mode: 'zip', ...batch }, path.join(tmp, 'never-listed.txt')), 2000 * MiB);
  const bad = await dispatchCommand(app, 'checkFolder', { path: tmp, plan: { source: url, mode: 'zip', bytes: -1, largestBytes: 0 } });
  assert.equal(!bad.ok && bad.error.code, 'BAD_ARGUMENT');
  await app.close();
});

test('a whole job: zip written, history kept, folder opened, outputs only', async () => {
  const opened: string[] = [];
  const config = path.join(tmp, 'job');
  const app = await service(config, opened);
  const c = await app.connect({ url: demo.url });
  const outDir = path.join(tmp, 'job-out');
  for (const zipName of ['..', '.zip']) {
    const refused = await dispatchCommand(app, 'startJob', { source: c.source, outDir, mode: 'zip', zipName, onlyNew: false });
    assert.equal(!refused.ok && refused.error.code, 'BAD_ARGUMENT', `${zipName}: ${JSON.stringify(refused)}`);
  }
  const snap = await app.startJob({ source: c.source, outDir, mode: 'zip', zipName: 'batch.zip', onlyNew: false, selectIds: c.items.slice(0, 6).map((i) => i.id) });
  assert.equal(snap.files.length, 6); // rows are there before the first event
  const done = await waitForStatus(app, snap.job.id, ['done', 'failed']);
  assert.equal(done.job.status, 'done', JSON.stringify(done.job.error));
  assert.equal(done.summary?.files, 6);
  assert.equal(done.job.kind, 'api', 'the record says what the source turned out to be (the screens word failures by it)');
  const zip = done.job.outputs.find((o) => o.path.endsWith('batch.zip'));
  assert.ok(zip, JSON.stringify(done.job.outputs));
  assert.match(zip.sha256, /^[0-9a-f]{64}$/);
  assert.ok((await readdir(outDir)).includes('batch.zip'));
  const full = await app.getJob({ jobId: snap.job.id });
  assert.ok(full.files.every((f) => f.state === 'zipped' || f.state === 'verified'), JSON.stringify(full.files.map((f) => f.state)));

  await app.openJobFolder({ jobId: snap.job.id });
  await app.showOutput({ jobId: snap.job.id, path: zip.path });
  assert.deepEqual(opened, [outDir, `show:${path.resolve(outDir, zip.path)}`]);
  const refused = await dispatchCommand(app, 'showOutput', { jobId: snap.job.id, path: '/etc/passwd' });
  assert.equal(!refused.ok && refused.error.code, 'NOT_FOUND');

  // The catalog now marks them fetched ("only new").
  const again = await app.connect({ url: demo.url });
  assert.equal(again.fetchedIds.length, 6);
  await app.close();
  const history = JSON.parse(await readFile(path.join(config, 'jobs.json'), 'utf8')) as { jobs: { record: { status: string } }[] };
  assert.equal(history.jobs[0]!.record.status, 'done');
});

test('the default archive name the connection offers is the one the job writes (a local folder: its name, not a host)', async () => {
  const app = await service(path.join(tmp, 'default-name'));
  const folder = path.join(tmp, 'My clips');
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'a.mp4'), randomBytes(10_000));
  const c = await app.connect({ url: folder });
  assert.match(c.defaultArchiveName, /^My_clips_results_\d{8}_\d{4}\.zip$/);
  const outDir = path.join(tmp, 'default-name-out');
  const snap = await app.startJob({ source: c.source, outDir, mode: 'zip', onlyNew: false });
  const done = await waitForStatus(app, snap.job.id, ['done', 'failed']);
  assert.equal(done.job.status, 'done', JSON.stringify(done.job.error));
  const stamp = /_\d{8}_\d{4}\.zip$/;
  assert.deepEqual(done.job.outputs.map((o) => path.basename(o.path).replace(stamp, '')), [c.defaultArchiveName.replace(stamp, '')]);
  assert.equal((await app.getAppInfo({})).minVolumeBytes, 1024 * 1024);
  await app.close();
});

test('both mode: the record lists the archive and counts the loose files; warnings add up without repeats', async () => {
  const app = await service(path.join(tmp, 'both'));
  const c = await app.connect({ url: demo.url });
  const outDir = path.join(tmp, 'both-out');
  // As the UI applies events: keep the first warningsFrom warnings, append the new ones.
  const apply = (list: string[], e: Events['job']) => [...list.slice(0, e.warningsFrom), ...e.warnings];
  let fromStart: string[] = [];
  let fromMidway: string[] | null = null;
  let jobId = '';
  const events: Events['job'][] = [];
  const off = app.subscribe((name, payload) => {
    if (name !== 'job') return;
    const e = payload as Events['job'];
    events.push(e);
    fromStart = apply(fromStart, e);
    if (fromMidway) fromMidway = apply(fromMidway, e);
  });
  const snap = await app.startJob({ source: c.source, outDir, mode: 'both', zipName: 'batch.zip', onlyNew: false, selectIds: c.items.slice(0, 5).map((i) => i.id) });
  jobId = snap.job.id;
  fromStart = [...snap.warnings];
  // A second view opens the job midway (a snapshot may hold warnings not sent yet).
  while (events.length === 0) await new Promise((r) => setTimeout(r, 5));
  fromMidway = [...(await app.getJob({ jobId })).warnings];
  const done = await waitForStatus(app, jobId, ['done', 'failed']);
  off();
  assert.equal(done.job.status, 'done', JSON.stringify(done.job.error));
  assert.deepEqual(done.job.outputs.map((o) => path.basename(o.path)), ['batch.zip']);
  assert.equal(done.job.looseFiles, 5);
  const full = await app.getJob({ jobId });
  assert.ok(full.warnings.length > 0, 'the listing skipped the results still processing');
  assert.deepEqual(fromStart, full.warnings);
  assert.deepEqual(fromMidway, full.warnings);
  assert.equal(events.reduce((n, e) => n + e.warnings.length, 0), full.warnings.length, 'each warning is sent once, not again with every event');
  await app.close();
});

test('a history written before looseFiles existed is read with its loose files counted, not listed', async () => {
  const config = path.join(tmp, 'old-history');
  const record = {
    id: 'old-1', source: demo.url, outDir: path.join(tmp, 'old-out'), mode: 'both', zipName: 'a.zip', status: 'done',
    createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', filesTotal: 2, bytesTotal: 2, failedCount: 0, error: null,
    outputs: [{ path: 'a.zip', size: 1, sha256: 'x' }, { path: 'one.mp4', size: 1, sha256: 'y' }, { path: 'two.mp4', size: 1, sha256: 'z' }],
  };
  await mkdir(config, { recursive: true });
  await writeFile(path.join(config, 'jobs.json'), JSON.stringify({ jobs: [{ record, args: { source: demo.url, outDir: record.outDir, mode: 'both', onlyNew: false } }] }));
  const app = await service(config);
  const [job] = await app.listJobs({});
  assert.deepEqual(job?.outputs.map((o) => o.path), ['a.zip']);
  assert.equal(job?.looseFiles, 2);
  await app.close();
  // A damaged record (an output that is not an object) is read, not fatal.
  await writeFile(path.join(config, 'jobs.json'), JSON.stringify({ jobs: [{ record: { ...record, outputs: [null, { path: 'b.zip', size: 1, sha256: 'x' }] }, args: { source: demo.url, outDir: record.outDir, mode: 'both', onlyNew: false } }] }));
  const again = await service(config);
  assert.deepEqual((await again.listJobs({}))[0]?.outputs.map((o) => o.path), ['b.zip']);
  await again.close();
});

test('a job stopped by quitting is offered as interrupted on the next launch, and resumes', async () => {
  const config = path.join(tmp, 'interrupted');
  const outDir = path.join(tmp, 'interrupted-out');
  const first = await service(config);
  const c = await first.connect({ url: slow.url });
  const snap = await first.startJob({ source: c.source, outDir, mode: 'zip', onlyNew: false });
  assert.equal(snap.job.filesTotal, 8, 'the record counts the selection from the start');
  // Until a few files are done (3 at a time, 1 s each at this rate).
  while ((await first.getJob({ jobId: snap.job.id })).progress.filesDone < 3) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 400)); // the next files are part way
  await first.close(); // pauses: the journal keeps it
  const second = await service(config);
  const jobs = await second.listJobs({});
  assert.equal(jobs[0]!.id, snap.job.id);
  assert.equal(jobs[0]!.status, 'interrupted');
  // How far it got is read back from the journal: the banner, Jobs and the file list show it.
  assert.equal(jobs[0]!.filesTotal, 8);
  assert.ok(jobs[0]!.filesDone >= 3, `filesDone ${jobs[0]!.filesDone}`);
  const view = await second.getJob({ jobId: snap.job.id });
  assert.equal(view.files.length, 8);
  assert.equal(view.files.filter((f) => f.state === 'verified').length, jobs[0]!.filesDone);
  assert.equal(view.progress.filesDone, jobs[0]!.filesDone);
  assert.equal(view.progress.filesTotal, 8);
  // Bytes of the files it was part way through count too (they are where the resume starts).
  const partWay = view.files.filter((f) => f.state === 'queued' && f.bytesDone > 0);
  assert.ok(partWay.length > 0, JSON.stringify(view.files.map((f) => [f.state, f.bytesDone])));
  const sum = view.files.reduce((n, f) => n + f.bytesDone, 0);
  assert.equal(view.progress.bytesDone, sum);
  assert.equal(jobs[0]!.bytesDone, sum, 'the Jobs list shows the same');
  assert.equal((await second.checkFolder({ path: outDir })).interruptedJob?.source, c.source);
  const resumed = await second.resumeJob({ jobId: snap.job.id });
  assert.equal(resumed.job.status, 'running');
  const done = await waitForStatus(second, snap.job.id, ['done', 'failed']);
  assert.equal(done.job.status, 'done', JSON.stringify(done.job.error));
  assert.equal(done.summary?.files, 8);
  await second.close();
});

test('pause then cancel deletes the staging; a cancelled job cannot resume', async () => {
  const app = await service(path.join(tmp, 'cancel'));
  const c = await app.connect({ url: slow.url });
  const outDir = path.join(tmp, 'cancel-out');
  const snap = await app.startJob({ source: c.source, outDir, mode: 'zip', onlyNew: false });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await app.pauseJob({ jobId: snap.job.id })).status, 'paused');
  const paused = await app.getJob({ jobId: snap.job.id });
  assert.ok(paused.files.length > 0);
  assert.deepEqual(paused.files.filter((f) => f.state === 'downloading' || f.state === 'retrying'), [], 'nothing shows as downloading once paused');
  assert.ok(paused.files.some((f) => f.state === 'queued' && f.bytesDone > 0), 'a file cut short keeps its bytes');
  assert.ok((await app.checkFolder({ path: outDir })).interruptedJob);
  const busy = await dispatchCommand(app, 'startJob', { source: c.source, outDir, mode: 'zip', onlyNew: false });
  assert.equal(busy.ok, true); // a paused job does not block the folder; the engine resumes its journal
  const second = (busy as { value: { job: { id: string } } }).value.job.id;
  assert.equal((await app.cancelJob({ jobId: second })).status, 'cancelled');
  assert.equal((await app.checkFolder({ path: outDir })).interruptedJob, null);
  const again = await dispatchCommand(app, 'resumeJob', { jobId: second });
  assert.equal(!again.ok && again.error.code, 'BAD_ARGUMENT');
  await app.close();
});

test('removing a paused job from the list discards its downloads (nothing left in the folder that no job points to); a finished one keeps its archive', async () => {
  const app = await service(path.join(tmp, 'forget'));
  const c = await app.connect({ url: slow.url });
  const outDir = path.join(tmp, 'forget-out');
  const snap = await app.startJob({ source: c.source, outDir, mode: 'zip', onlyNew: false });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await app.pauseJob({ jobId: snap.job.id })).status, 'paused');
  assert.ok((await app.checkFolder({ path: outDir })).interruptedJob, 'its downloads are in the folder');
  assert.deepEqual(await app.forgetJob({ jobId: snap.job.id }), []);
  assert.equal((await app.checkFolder({ path: outDir })).interruptedJob, null);
  assert.deepEqual(await readdir(outDir), []);
  const gone = await dispatchCommand(app, 'getJob', { jobId: snap.job.id });
  assert.equal(!gone.ok && gone.error.code, 'NOT_FOUND');

  const finished = await app.startJob({ source: (await app.connect({ url: demo.url })).source, outDir: path.join(tmp, 'forget-done'), mode: 'zip', onlyNew: false });
  await waitForStatus(app, finished.job.id, ['done']);
  await app.forgetJob({ jobId: finished.job.id });
  assert.equal((await readdir(path.join(tmp, 'forget-done'))).filter((name) => name.endsWith('.zip')).length, 1, 'the archive stays');
  await app.close();
});

test('a job started again in a stopped job\'s folder takes its place in the list: removing the old record later cannot delete the new job\'s downloads', async () => {
  const app = await service(path.join(tmp, 'supersede'));
  const c = await app.connect({ url: slow.url });
  const outDir = path.join(tmp, 'supersede-out');
  const first = await app.startJob({ source: c.source, outDir, mode: 'zip', onlyNew: false });
  await new Promise((r) => setTimeout(r, 300));
  await app.pauseJob({ jobId: first.job.id });
  const second = await app.startJob({ source: c.source, outDir, mode: 'zip', onlyNew: false }); // resumes the same journal
  await new Promise((r) => setTimeout(r, 300));
  await app.pauseJob({ jobId: second.job.id });
  assert.deepEqual((await app.listJobs({})).map((j) => j.id), [second.job.id], 'the older record is gone');
  const forgotten = await dispatchCommand(app, 'forgetJob', { jobId: first.job.id });
  assert.equal(!forgotten.ok && forgotten.error.code, 'NOT_FOUND');
  assert.ok((await app.checkFolder({ path: outDir })).interruptedJob, 'the new job\'s downloads are still there');
  const resumed = await app.resumeJob({ jobId: second.job.id });
  assert.equal(resumed.job.status, 'running');
  assert.equal((await waitForStatus(app, second.job.id, ['done', 'failed'])).job.status, 'done');
  await app.close();
});

test('Cancel pressed twice on a stopped job deletes once and records no error', async () => {
  const app = await service(path.join(tmp, 'cancel-twice'));
  const c = await app.connect({ url: slow.url });
  const outDir = path.join(tmp, 'cancel-twice-out');
  const snap = await app.startJob({ source: c.source, outDir, mode: 'zip', onlyNew: false });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await app.pauseJob({ jobId: snap.job.id })).status, 'paused');
  const both = await Promise.all([app.cancelJob({ jobId: snap.job.id }), app.cancelJob({ jobId: snap.job.id })]);
  for (const record of both) assert.equal(record.status, 'cancelled');
  const after = (await app.getJob({ jobId: snap.job.id })).job;
  assert.equal(after.discarded, true);
  assert.equal(after.error, null, JSON.stringify(after.error));
  assert.equal((await app.checkFolder({ path: outDir })).interruptedJob, null);
  await app.close();
});

test('cancelling a job refused because its folder holds another source\'s job leaves that job alone', async () => {
  const app = await service(path.join(tmp, 'other-job'));
  const outDir = path.join(tmp, 'other-job-out');
  const slowConn = await app.connect({ url: slow.url });
  const first = await app.startJob({ source: slowConn.source, outDir, mode: 'zip', onlyNew: false });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await app.pauseJob({ jobId: first.job.id })).status, 'paused');
  const demoConn = await app.connect({ url: demo.url });
  assert.equal((await app.checkFolder({ path: outDir })).interruptedJob?.source, slowConn.source);
  const refused = await app.startJob({ source: demoConn.source, outDir, mode: 'zip', onlyNew: false });
  const failed = await waitForStatus(app, refused.job.id, ['failed', 'done']);
  assert.equal(failed.job.error?.code, 'JOB_MISMATCH');
  const cancelled = await app.cancelJob({ jobId: refused.job.id });
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.discarded, false, 'the screen must not say its downloads were deleted');
  assert.equal((await app.checkFolder({ path: outDir })).interruptedJob?.source, slowConn.source, 'the other job is still there');
  const resumed = await app.resumeJob({ jobId: first.job.id });
  assert.equal(resumed.job.status, 'running');
  const done = await waitForStatus(app, first.job.id, ['done', 'failed']);
  assert.equal(done.job.status, 'done', JSON.stringify(done.job.error));
  await app.close();
});

test('two jobs for one folder: a second start at the same moment is refused, and cancelling a stopped job cannot delete the files of the job now running there', async () => {
  const app = await service(path.join(tmp, 'one-folder'));
  const outDir = path.join(tmp, 'one-folder-out');
  const c = await app.connect({ url: slow.url });
  const starts = await Promise.allSettled([1, 2].map(() => app.startJob({ source: c.source, outDir, mode: 'zip', onlyNew: false })));
  assert.deepEqual(starts.map((s) => s.status).sort(), ['fulfilled', 'rejected']);
  const first = (starts.find((s) => s.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<AppService['startJob']>>>).value;
  assert.equal(((starts.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason as { code?: string }).code, 'BUSY');
  assert.equal((await app.checkFolder({ path: outDir })).busy, true, 'the bundle screen is told before Start');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await app.pauseJob({ jobId: first.job.id })).status, 'paused');
  // A new job for the same source and folder continues the paused one's journal…
  const second = await app.startJob({ source: c.source, outDir, mode: 'zip', onlyNew: false });
  await new Promise((r) => setTimeout(r, 200));
  // …so the paused one's record is gone (superseded): cancelling it cannot delete the running one's downloads.
  const refused = await dispatchCommand(app, 'cancelJob', { jobId: first.job.id });
  assert.equal(!refused.ok && refused.error.code, 'NOT_FOUND');
  const done = await waitForStatus(app, second.job.id, ['done', 'failed']);
  assert.equal(done.job.status, 'done', JSON.stringify(done.job.error));
  assert.equal((await app.checkFolder({ path: outDir })).busy, false);
  await app.close();
});

test('Pause or Cancel pressed while a finished job closes is too late: it is done, not paused (Resume would fetch it all again) nor cancelled', async () => {
  for (const action of ['pauseJob', 'cancelJob'] as const) {
    const app = await service(path.join(tmp, `late-${action}`), [], { eventThrottleMs: 1 }); // every change seen
    const c = await app.connect({ url: demo.url });
    let pressed = false;
    const settled = new Promise<Events['job']>((resolve) => app.subscribe((name, payload) => {
      const change = payload as Events['job'];
      if (name !== 'job') return;
      // The archive is reported once it is renamed into place: the job has finished its work.
      if (!pressed && change.job.outputs.length > 0 && change.job.status === 'running') {
        pressed = true;
        void app[action]({ jobId: change.job.id });
      }
      if (['paused', 'done', 'failed', 'cancelled'].includes(change.job.status)) resolve(change);
    }));
    const outDir = path.join(tmp, `late-${action}-out`);
    await app.startJob({ source: c.source, outDir, mode: 'zip', onlyNew: false });
    const end = await settled;
    assert.ok(pressed, `${action} was pressed before the end`);
    assert.equal(end.job.status, 'done', `${action}: ${end.job.status}`);
    assert.equal((await readdir(outDir)).filter((f) => f.endsWith('.zip')).length, 1);
    await app.close();
  }
});

test('a volume finished before a cancel is kept and reported, so the screen can say what stayed', async () => {
  const app = await service(path.join(tmp, 'cancel-volumes'));
  const outDir = path.join(tmp, 'cancel-volumes-out');
  const c = await app.connect({ url: slow.url });
  const snap = await app.startJob({ source: c.source, outDir, mode: 'zip', zipName: 'set', volumeSize: 1024 * 1024, onlyNew: false });
  while ((await app.getJob({ jobId: snap.job.id })).job.outputs.length === 0) await new Promise((r) => setTimeout(r, 50));
  const cancelled = await app.cancelJob({ jobId: snap.job.id });
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.discarded, true);
  assert.deepEqual(cancelled.outputs.map((o) => path.basename(o.path)), ['set.part1.zip']);
  assert.ok((await readdir(outDir)).includes('set.part1.zip'), 'the finished volume stays');
  await app.close();
});

test('paused after a volume is in place: its files read zipped, files of the deleted unfinished volume read verified', async () => {
  const app = await service(path.join(tmp, 'pause-volumes'));
  const c = await app.connect({ url: slow.url });
  const snap = await app.startJob({ source: c.source, outDir: path.join(tmp, 'pause-volumes-out'), mode: 'zip', zipName: 'set', volumeSize: 1024 * 1024, onlyNew: false });
  // Pause once a file is zipped into the second volume.
  await new Promise<void>((resolve) => {
    let volumeDone = false;
    const off = app.subscribe((name, payload) => {
      const change = payload as Events['job'];
      if (name !== 'job' || change.job.id !== snap.job.id) return;
      volumeDone ||= change.job.outputs.length > 0;
      if (volumeDone && change.files.some((f) => f.state === 'zipped')) {
        off();
        resolve();
      }
    });
  });
  await app.pauseJob({ jobId: snap.job.id });
  const paused = await app.getJob({ jobId: snap.job.id });
  assert.equal(paused.job.status, 'paused');
  assert.deepEqual(paused.job.outputs.map((o) => path.basename(o.path)), ['set.part1.zip']);
  const inFirst = execFileSync('unzip', ['-Z1', paused.job.outputs[0]!.path], { encoding: 'utf8' }).split('\n').filter((n) => n.endsWith('.mp4'));
  assert.deepEqual(paused.files.filter((f) => f.state === 'zipped').map((f) => f.name).sort(), inFirst.sort());
  assert.ok(paused.files.some((f) => f.state === 'verified'), 'the file zipped into the unfinished volume is verified again');
  await app.cancelJob({ jobId: snap.job.id });
  await app.close();
});

test('a resumed job starts from the bytes it kept, not from the files it finished', async () => {
  const big = await startDemoServer({ count: 3, size: 2 * 1024 * 1024, rateBytesPerSec: 512 * 1024 });
  try {
    const app = await service(path.join(tmp, 'resume-bytes'));
    const c = await app.connect({ url: big.url });
    const snap = await app.startJob({ source: c.source, outDir: path.join(tmp, 'resume-bytes-out'), mode: 'zip', onlyNew: false });
    while ((await app.getJob({ jobId: snap.job.id })).progress.bytesDone < 1024 * 1024) await new Promise((r) => setTimeout(r, 50));
    const before = (await app.getJob({ jobId: snap.job.id })).progress.bytesDone;
    assert.equal((await app.pauseJob({ jobId: snap.job.id })).status, 'paused');
    assert.equal((await app.getJob({ jobId: snap.job.id })).progress.filesDone, 0, 'no file finished: all of it is in part files');
    const shown: number[] = []; // every figure the progress screen gets while it runs again
    const off = app.subscribe((name, payload) => {
      const change = payload as Events['job'];
      if (name === 'job' && change.job.id === snap.job.id && change.job.status === 'running') shown.push(change.progress.bytesDone);
    });
    await app.resumeJob({ jobId: snap.job.id });
    const done = await waitForStatus(app, snap.job.id, ['done', 'failed']);
    off();
    assert.ok(shown.length > 2, `${shown.length} progress events`);
    assert.ok(Math.min(...shown) >= before * 0.7, `resumed showing ${Math.min(...shown)} bytes, paused at ${before}`);
    assert.equal(done.job.status, 'done', JSON.stringify(done.job.error));
    assert.equal(done.progress.bytesDone, 3 * 2 * 1024 * 1024, 'every byte counted once');
    await app.close();
  } finally {
    await big.close();
  }
});

test('a file whose server cannot be reached is shown waiting for the server, not burning attempts', async () => {
  const port = await freePort(); // nothing listens there: connections are refused
  const list = path.join(tmp, 'down-list.txt');
  await writeFile(list, `http://127.0.0.1:${port}/clip.mp4\n`);
  const app = await service(path.join(tmp, 'down'));
  const c = await app.connect({ url: list });
  const waiting = new Promise<Events['job']['files'][number]>((resolve) => {
    const off = app.subscribe((name, payload) => {
      const row = (payload as Events['job']).files?.find((f) => f.state === 'retrying');
      if (name === 'job' && row) {
        off();
        resolve(row);
      }
    });
  });
  const snap = await app.startJob({ source: c.source, outDir: path.join(tmp, 'down-out'), mode: 'folder', onlyNew: false });
  const row = await waiting;
  assert.equal(row.waitingForServer, true, JSON.stringify(row));
  assert.match(row.reason ?? '', /cannot reach the server \(ECONNREFUSED\)/);
  assert.equal((await app.cancelJob({ jobId: snap.job.id })).status, 'cancelled');
  await app.close();
});
