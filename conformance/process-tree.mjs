// Peak RSS of a server and its descendants (Berth's cluster primary and workers), from /proc.
// VmHWM is each process's own peak; their sum is an upper bound of the tree's peak at any instant.
// A measurement that cannot be made throws: a memory check must never pass on a peak of 0 because
// /proc was unreadable or the pid was wrong.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** A process that exited between listing /proc and reading its files: the only error skipped. */
function vanished(err) {
  return err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ESRCH');
}

/** The pid and all its live descendants. `proc` is where procfs is mounted. */
export function treePids(root, proc = '/proc') {
  const rootPid = Number(root);
  if (!Number.isInteger(rootPid) || rootPid <= 0) throw new Error(`not a pid: ${root}`);
  const children = new Map();
  let rootSeen = false;
  for (const entry of readdirSync(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`${proc}/${entry}/stat`, 'utf8');
    } catch (err) {
      if (vanished(err)) continue;
      throw err;
    }
    // The command name (field 2) may hold spaces and parentheses: read after its last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isInteger(ppid)) throw new Error(`${proc}/${entry}/stat: no parent pid in ${JSON.stringify(stat)}`);
    if (Number(entry) === rootPid) rootSeen = true;
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(entry));
  }
  if (!rootSeen) throw new Error(`process ${rootPid} not found under ${proc}`);
  const pids = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift();
    pids.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return pids;
}

/** VmHWM of each process of the tree, in MiB: { perProcess: [{pid, mib}], sum, max }. */
export function treePeakRss(root, proc = '/proc') {
  const perProcess = [];
  for (const pid of treePids(root, proc)) {
    let status;
    try {
      status = readFileSync(`${proc}/${pid}/status`, 'utf8');
    } catch (err) {
      // A worker may exit after the listing; the root itself must be measured.
      if (vanished(err) && pid !== Number(root)) continue;
      throw err;
    }
    // A zombie (exited, not yet reaped) has no memory left and no VmHWM line.
    if (/^State:\s+Z/m.test(status) && pid !== Number(root)) continue;
    const line = status.split('\n').find((l) => l.startsWith('VmHWM:'));
    const kib = Number(line?.split(/\s+/)[1]);
    if (!line || !Number.isFinite(kib) || kib <= 0) throw new Error(`${proc}/${pid}/status: no VmHWM (${line ?? 'absent'})`);
    perProcess.push({ pid, mib: kib / 1024 });
  }
  return {
    perProcess,
    sum: perProcess.reduce((a, p) => a + p.mib, 0),
    max: perProcess.reduce((a, p) => Math.max(a, p.mib), 0),
  };
}

let ticksPerSecond;
/** CPU time (user + system) the tree's live processes have used so far, in ms: /proc/PID/stat fields 14 and 15. */
export function treeCpuMs(root, proc = '/proc') {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  if (!Number.isInteger(ticksPerSecond) || ticksPerSecond <= 0) throw new Error(`getconf CLK_TCK: ${ticksPerSecond}`);
  let ticks = 0;
  for (const pid of treePids(root, proc)) {
    let stat;
    try {
      stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    } catch (err) {
      if (vanished(err) && pid !== Number(root)) continue;
      throw err;
    }
    // Fields after the command name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  if (!Number.isFinite(ticks)) throw new Error(`no CPU times under ${proc}/${root}`);
  return (ticks * 1000) / ticksPerSecond;
}
