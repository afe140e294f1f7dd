/** A message on the cluster's channel (process.send / worker.send) is one of ours when its `type` says so. */
export function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}
