import { forEachChunk } from './chunks';

describe('forEachChunk', () => {
  it('hands over every item once, in order, in slices of at most the size', async () => {
    const items = Array.from({ length: 1001 }, (_, i) => i);
    const chunks: number[][] = [];
    await forEachChunk(items, 500, async chunk => {
      chunks.push(chunk);
    });
    expect(chunks.map(c => c.length)).toEqual([500, 500, 1]);
    expect(chunks.flat()).toEqual(items);
  });

  it('runs one chunk at a time: the next starts when the last has finished', async () => {
    const events: string[] = [];
    await forEachChunk(['a', 'b', 'c'], 1, async ([item]) => {
      events.push(`start ${item}`);
      await new Promise(resolve => setTimeout(resolve, 5));
      events.push(`end ${item}`);
    });
    expect(events).toEqual([
      'start a',
      'end a',
      'start b',
      'end b',
      'start c',
      'end c',
    ]);
  });

  it('calls nothing for no items', async () => {
    const fn = jest.fn(async () => {});
    await forEachChunk([], 500, fn);
    expect(fn).not.toHaveBeenCalled();
  });

  it('stops at the first chunk that fails', async () => {
    const seen: number[] = [];
    await expect(
      forEachChunk([1, 2, 3, 4], 2, async chunk => {
        seen.push(...chunk);
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(seen).toEqual([1, 2]);
  });

  it.each([0, -1, 1.5, NaN])('refuses a chunk size of %p', async size => {
    await expect(forEachChunk([1], size, async () => {})).rejects.toThrow(
      RangeError,
    );
  });
});
