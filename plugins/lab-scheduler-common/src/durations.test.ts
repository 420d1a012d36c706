import { humanDuration } from './durations';

describe('humanDuration', () => {
  it.each([
    [850, '850 ms'],
    [4200, '4.2 s'],
    [42_000, '42 s'],
    [185_000, '3 min 5 s'],
    [7_203_000, '2 h'],
    [7_800_000, '2 h 10 min'],
    [97_200_000, '1 d 3 h'],
    [-1500, '−1.5 s'],
    [null, '—'],
  ])('%p ms reads "%s"', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});
