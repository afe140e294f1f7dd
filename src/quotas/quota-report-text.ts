import type { QuotaLimits } from './quota-limits';
import type { QuotaReport } from './quota-service';

/** `berth quota show`'s lines: owner, usage, each limit (and whether the owner's own or the default), packages. */
export function quotaReportText(report: QuotaReport): string {
  const lines = [
    `owner\t${report.owner} (${report.kind === 'org' ? 'organisation' : 'user'})`,
    `used bytes\t${report.usedBytes}`,
    `max bytes\t${limitText(report, 'maxBytes')}`,
    `max versions per package\t${limitText(report, 'maxVersionsPerPackage')}`,
    ...report.packages.map((p) => `package\t${p.name}\t${p.versions} versions`),
  ];
  return `${lines.join('\n')}\n`;
}

function limitText(report: QuotaReport, which: keyof QuotaLimits): string {
  const value = report.limits[which];
  const source = report.own?.[which] != null ? 'own' : 'default';
  return `${value ?? 'unlimited'} (${source})`;
}
