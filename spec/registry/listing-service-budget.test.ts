/**
 * The catalog's scan budget: when more repositories are hidden in a row than
 * one request may examine, the page comes back short (even empty) but still
 * links on from where the scan stopped, so a client following the links
 * lists every visible repository exactly once, and no request examines more
 * than the budget.
 */
import { ListingService, type CursorSeal, type ListingIndex } from '../../src/registry/listing-service';

const NAMES = Array.from({ length: 307 }, (_, i) => `ns/repo-${String(i).padStart(3, '0')}`);
const VISIBLE = new Set(['ns/repo-000', 'ns/repo-001', 'ns/repo-100', 'ns/repo-150', 'ns/repo-151', 'ns/repo-152', 'ns/repo-306']);

/** An index over a sorted name list, as the SQLite index answers (`name > last ORDER BY name LIMIT n`). */
const index: ListingIndex = {
  repositoryExists: async (name) => NAMES.includes(name),
  listTags: async () => [],
  listRepositories: async ({ last, limit }) => NAMES.filter((n) => last === undefined || n > last).slice(0, limit),
};

/** A reversible stand-in for the sealed cursors (src/auth/sealed-cursors.ts has its own test). */
const reversed: CursorSeal = {
  seal: async (position) => `~${[...position].reverse().join('')}`,
  open: async (sealed) => (sealed.startsWith('~x') ? null : [...sealed.slice(1)].reverse().join('')),
};

describe('ListingService catalog scan budget', () => {
  test.each([
    [2, 5, false],
    [2, 1, false],
    [3, 40, false],
    [7, 1000, false],
    [2, 5, true],
    [3, 40, true],
  ])('n=%i, budget %i, sealed %p: every visible repository once, each request within budget', async (n, budget, sealed) => {
    const listing = new ListingService(index, 10_000, budget, sealed ? reversed : undefined);
    const seen: string[] = [];
    let last: string | undefined;
    let requests = 0;
    for (;;) {
      requests += 1;
      if (requests > NAMES.length + 1) throw new Error('the links never end');
      let examined = 0;
      const page = await listing.repositories({ n: String(n), last }, async (name) => {
        examined += 1;
        return VISIBLE.has(name);
      });
      expect(examined).toBeLessThanOrEqual(budget);
      expect(page.entries.length).toBeLessThanOrEqual(n);
      seen.push(...page.entries);
      if (!page.next) break;
      expect(page.next.n).toBe(n);
      // A link never names a repository the caller cannot see: a visible one, or a sealed position.
      if (sealed) expect(VISIBLE.has(page.next.last) || page.next.last.startsWith('~')).toBe(true);
      last = page.next.last;
    }
    expect(seen).toEqual([...VISIBLE].sort());
  });
});

test('a sealed position that does not open is refused, not read as a name', async () => {
  const listing = new ListingService(index, 10_000, 5, reversed);
  await expect(listing.repositories({ n: '2', last: '~xbroken' }, async () => true)).rejects.toThrow(/no longer valid/);
});
