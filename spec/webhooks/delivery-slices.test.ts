import { eventSlices } from '../../src/webhooks/sql/delivery-slices';
import type { NewDelivery } from '../../src/webhooks/hook-store';

/** `events` events, each to `hooks` hooks, as the relay builds them: an event's deliveries share one payload. */
function batch(events: number, hooks: number): NewDelivery[] {
  return Array.from({ length: events }, (_, e) => {
    const payload = JSON.stringify({ event: e });
    return Array.from({ length: hooks }, (_, h) => ({
      hookId: h + 1,
      source: `index:${e}`,
      guid: `g-${e}-${h}`,
      event: 'package',
      action: 'published',
      payload,
    }));
  }).flat();
}

describe('eventSlices', () => {
  it('cuts a batch into slices of the given rows, in order, losing and repeating nothing', () => {
    const all = batch(62, 3);
    const slices = eventSlices(all, 24);
    expect(slices.map((s) => s.length)).toEqual([24, 24, 24, 24, 24, 24, 24, 18]);
    expect(slices.flat()).toEqual(all);
  });

  it("never splits an event's deliveries, so a slice may run past the rows to end its last event", () => {
    const all = batch(10, 5);
    const slices = eventSlices(all, 12);
    expect(slices.map((s) => s.length)).toEqual([15, 15, 15, 5]);
    for (const slice of slices) {
      const events = new Set(slice.map((d) => d.payload));
      for (const payload of events) expect(all.filter((d) => d.payload === payload)).toEqual(slice.filter((d) => d.payload === payload));
    }
  });

  it('gives no slice for no deliveries, and one slice for a batch under the rows', () => {
    expect(eventSlices([], 24)).toEqual([]);
    expect(eventSlices(batch(2, 3), 24)).toEqual([batch(2, 3)]);
  });
});
