import type { DownloadDay } from '../downloads/download-service';
import { html, type Html } from './html';

const WIDTH = 300;
const HEIGHT = 60;

/** The last 30 days' downloads as an inline SVG bar chart (no script, no style attribute: CSP allows it), with a text equivalent. */
export function downloadChart(daily: readonly DownloadDay[]): Html {
  if (daily.length === 0) return html``;
  const max = Math.max(1, ...daily.map((d) => d.count));
  const step = WIDTH / daily.length;
  const total = daily.reduce((sum, d) => sum + d.count, 0);
  const bars = daily.map((d, i) => {
    const h = Math.round((d.count / max) * (HEIGHT - 2));
    return html`<rect x="${(step * i).toFixed(1)}" y="${HEIGHT - h}" width="${(step - 1).toFixed(1)}" height="${h}"
      ><title>${d.date}: ${d.count}</title></rect
    >`;
  });
  return html`<svg
    class="chart"
    viewBox="0 0 ${WIDTH} ${HEIGHT}"
    role="img"
    aria-label="${total} downloads in the last 30 days, from ${daily[0]!.date} to ${daily[daily.length - 1]!.date}"
  >
    ${bars}
  </svg>`;
}
