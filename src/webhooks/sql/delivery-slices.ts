import type { NewDelivery } from '../hook-store';

/**
 * Splits a batch of new deliveries into groups of about `rows` for transactions of their own, never splitting an
 * event's deliveries (consecutive, sharing one payload): the store writes each distinct payload once per call.
 */
export function eventSlices(deliveries: readonly NewDelivery[], rows: number): NewDelivery[][] {
  const slices: NewDelivery[][] = [];
  let current: NewDelivery[] = [];
  let previous: NewDelivery | undefined;
  for (const delivery of deliveries) {
    if (current.length >= rows && delivery.payload !== previous?.payload) {
      slices.push(current);
      current = [];
    }
    current.push(delivery);
    previous = delivery;
  }
  if (current.length > 0) slices.push(current);
  return slices;
}
