import type { QuotaReport } from './quota-service';

/** An owner's usage and limits as JSON (snake_case), the same for `GET …/quota` and `berth quota show --json`. */
export function quotaReportJson(report: QuotaReport) {
  return {
    owner: report.owner,
    used_bytes: report.usedBytes,
    max_bytes: report.limits.maxBytes,
    max_versions_per_package: report.limits.maxVersionsPerPackage,
    own_limits: report.own && { max_bytes: report.own.maxBytes, max_versions_per_package: report.own.maxVersionsPerPackage },
    packages: report.packages.map((p) => ({ name: p.name, versions: p.versions })),
  };
}
