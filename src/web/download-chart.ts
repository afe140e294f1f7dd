import type { DownloadDay } from '../downloads/download-service';
import { html, type Html } from './html';
import { counted } from './urls';

const WIDTH = 300;
const HEIGHT = 80;
/** Room left of the bars for the axis labels, and under them for the first and last date. */
const AXIS = 34;
const FOOT = 14;
const PLOT = HEIGHT - FOOT;

/**
 * The last 30 days' downloads as an inline SVG bar chart (no script, no style
 * attribute: CSP allows it): a y axis labelled 0 and the busiest day's count,
 * the first and last dates under the bars, and the total in a caption. A
 * screen reader reads the chart's title and description (what the axis and
 * bars show, in words) instead of 30 bars; each bar's own title gives its day.
 */
export function downloadChart(daily: readonly DownloadDay[], id = 'downloads-chart'): Html {
  if (daily.length === 0) return html``;
  const max = Math.max(0, ...daily.map((d) => d.count));
  const scale = Math.max(1, max);
  const busiest = daily.find((d) => d.count === max)!;
  const first = daily[0]!.date;
  const last = daily[daily.length - 1]!.date;
  const total = daily.reduce((sum, d) => sum + d.count, 0);
  const step = (WIDTH - AXIS) / daily.length;
  const bars = daily.map((d, i) => {
    const h = Math.round((d.count / scale) * (PLOT - 6));
    return html`<rect x="${(AXIS + step * i).toFixed(1)}" y="${PLOT - h}" width="${(step - 1).toFixed(1)}" height="${h}"
      ><title>${d.date}: ${counted(d.count, 'download')}</title></rect
    >`;
  });
  const summary = `${counted(total, 'download')} in the last 30 days`;
  const description =
    max === 0
      ? `No downloads on any day from ${first} to ${last}.`
      : `Daily downloads from ${first} to ${last}; the busiest day, ${busiest.date}, had ${counted(max, 'download')}.`;
  return html`<figure class="chart">
    <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="${id}-title ${id}-desc">
      <title id="${id}-title">${summary}</title>
      <desc id="${id}-desc">${description}</desc>
      <line class="axis" x1="${AXIS - 2}" y1="4" x2="${AXIS - 2}" y2="${PLOT}" />
      <line class="axis" x1="${AXIS - 2}" y1="${PLOT}" x2="${WIDTH}" y2="${PLOT}" />
      <text x="${AXIS - 5}" y="10" text-anchor="end">${max}</text>
      <text x="${AXIS - 5}" y="${PLOT}" text-anchor="end">0</text>
      ${bars}
      <text x="${AXIS}" y="${HEIGHT - 2}">${first}</text>
      <text x="${WIDTH}" y="${HEIGHT - 2}" text-anchor="end">${last}</text>
    </svg>
    <figcaption>${summary}${max > 0 ? `, at most ${counted(max, 'download')} a day` : ''}</figcaption>
  </figure>`;
}
