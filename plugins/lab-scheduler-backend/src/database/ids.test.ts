import { timeOrderedUuid } from './ids';

describe('timeOrderedUuid', () => {
  it('is an RFC 9562 version 7 UUID carrying the given millisecond', () => {
    const at = Date.parse('2027-03-28T01:30:00.123Z');
    const id = timeOrderedUuid(at);
    expect(id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts by creation time and never repeats', () => {
    const ids = Array.from({ length: 5000 }, (_, i) =>
      timeOrderedUuid(1_800_000_000_000 + Math.floor(i / 10)),
    );
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 10; i < ids.length; i += 10)
      expect(ids[i - 1] < ids[i]).toBe(true);
  });
});
