/**
 * Runs a background pass (reading a journal, sending due deliveries) one at a time: a request while a pass is
 * running makes one more pass right after it, so a request is never lost and two passes never overlap.
 */
export class SerialRunner {
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Whether a pass is running now. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  request(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch(this.onError)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.request();
        }
      });
  }

  /** No pass starts after this; resolves once the one running (if any) has ended. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
  }
}
