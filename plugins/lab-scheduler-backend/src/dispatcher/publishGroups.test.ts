import { publishGroupEnd } from './publishGroups';

const runs = [100, 101, 102, 104, 106, 200].map(scheduledFor => ({
  scheduledFor,
}));

describe('publishGroupEnd', () => {
  it.each`
    case                                                            | start | nowMs  | windowMs | maxSize | end
    ${'no window: the first, alone when nothing else is due'}       | ${0}  | ${100} | ${0}     | ${10}   | ${1}
    ${'no window: the runs due by now'}                             | ${0}  | ${102} | ${0}     | ${10}   | ${3}
    ${'no window, woken early: the first alone, never a later one'} | ${0}  | ${90}  | ${0}     | ${10}   | ${1}
    ${'window: the runs within it of the first'}                    | ${0}  | ${100} | ${5}     | ${10}   | ${4}
    ${'window, from a later run: within it of that run'}            | ${1}  | ${101} | ${5}     | ${10}   | ${5}
    ${'window, the last run: alone'}                                | ${5}  | ${200} | ${5}     | ${10}   | ${6}
    ${'backlog: every run due by now, past the window'}             | ${0}  | ${150} | ${5}     | ${10}   | ${5}
    ${'backlog: all of them'}                                       | ${0}  | ${300} | ${5}     | ${10}   | ${6}
    ${'backlog: no more than the size'}                             | ${0}  | ${300} | ${5}     | ${2}    | ${2}
    ${'backlog from a later run, no window: up to the size'}        | ${2}  | ${300} | ${0}     | ${3}    | ${5}
  `('$case', ({ start, nowMs, windowMs, maxSize, end }) => {
    expect(publishGroupEnd(runs, start, { nowMs, windowMs, maxSize })).toBe(
      end,
    );
  });
});
