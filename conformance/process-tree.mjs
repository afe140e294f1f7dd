// Peak RSS of a server and its descendants (Berth's cluster primary and workers), from /proc.
// VmHWM is each process's own peak; their sum is an upper bound of the tree's peak at any instant.
import { readdirSync, readFileSync } from 'node:fs';

/** The pid and all its live descendants. */
export function treePids(root) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name (field 2) may hold spaces and parentheses: read after its last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {}
  }
  const pids = [];
  const queue = [Number(root)];
  while (queue.length > 0) {
    const pid = queue.shift();
    pids.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return pids;
}

/** VmHWM of each process of the tree, in MiB: { perProcess: [{pid, mib}], sum, max }. */
export function treePeakRss(root) {
  const perProcess = [];
  for (const pid of treePids(root)) {
    try {
      const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
      if (line) perProcess.push({ pid, mib: Number(line.split(/\s+/)[1]) / 1024 });
    } catch {}
  }
  return {
    perProcess,
    sum: perProcess.reduce((a, p) => a + p.mib, 0),
    max: perProcess.reduce((a, p) => Math.max(a, p.mib), 0),
  };
}
