import { ComponentType } from 'react';
import { Link } from '@backstage/core-components';
import {
  Run,
  RunOutcomeKind,
  runOutcome,
  runOutcomeLabel,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Chip, SvgIconProps, Tooltip } from '@material-ui/core';
import CancelIcon from '@material-ui/icons/Cancel';
import CheckCircleIcon from '@material-ui/icons/CheckCircle';
import DoneIcon from '@material-ui/icons/Done';
import ErrorIcon from '@material-ui/icons/Error';
import HourglassEmptyIcon from '@material-ui/icons/HourglassEmpty';
import PlayCircleFilledIcon from '@material-ui/icons/PlayCircleFilled';
import ReportIcon from '@material-ui/icons/Report';
import ScheduleIcon from '@material-ui/icons/Schedule';
import SkipNextIcon from '@material-ui/icons/SkipNext';
import WarningIcon from '@material-ui/icons/Warning';
import { summaryField } from '../runFormat';

interface OutcomeStyle {
  /** Chip background; the text is white on every one of them (contrast ≥ 4.5:1, tested). */
  background: string;
  icon: ComponentType<SvgIconProps>;
  /** What the chip means, for its tooltip. */
  description: string;
}

/**
 * One colour, icon and sentence per outcome. Colour is never the only signal: the text names the outcome
 * and the icon differs too, so a QC fail, an instrument failure and a dead letter read apart in greyscale.
 */
export const OUTCOME_STYLES: Record<RunOutcomeKind, OutcomeStyle> = {
  qc_pass: {
    background: '#1b5e20',
    icon: CheckCircleIcon,
    description: 'Measured; every QC check passed',
  },
  measured: {
    background: '#00695c',
    icon: DoneIcon,
    description: 'Measured; the task sets no QC thresholds',
  },
  qc_fail: {
    background: '#a33d00',
    icon: WarningIcon,
    description: 'Measured, but QC checks failed',
  },
  failed: {
    background: '#c62828',
    icon: ErrorIcon,
    description: 'No usable measurement',
  },
  dead_lettered: {
    background: '#4a148c',
    icon: ReportIcon,
    description:
      'Every delivery failed; the message went to the dead-letter queue',
  },
  skipped: {
    background: '#546e7a',
    icon: SkipNextIcon,
    description: 'Not measured: skipped by the misfire or overlap policy',
  },
  cancelled: {
    background: '#546e7a',
    icon: CancelIcon,
    description: 'Not measured: cancelled',
  },
  pending: {
    background: '#455a64',
    icon: ScheduleIcon,
    description: 'Waiting to be queued',
  },
  queued: {
    background: '#455a64',
    icon: HourglassEmptyIcon,
    description: 'Queued for the instrument',
  },
  running: {
    background: '#1565c0',
    icon: PlayCircleFilledIcon,
    description: 'Measuring now',
  },
};

/** Text colour of every chip. */
export const OUTCOME_TEXT_COLOR = '#ffffff';

/**
 * A run's outcome (see `runOutcome` in the common package) as a chip with colour, icon and text:
 * "QC fail: Peak absorbance", "Failed: instrument", "Dead-lettered"… With `to`, the chip links there (the run page).
 */
export const RunOutcomeChip = ({
  run,
  to,
}: {
  run: Pick<Run, 'status' | 'result' | 'error'> | null;
  to?: string;
}) => {
  if (!run) return <span>never run</span>;
  const outcome = runOutcome(run);
  const style = OUTCOME_STYLES[outcome.kind] ?? OUTCOME_STYLES.pending;
  const Icon = style.icon;
  const label = runOutcomeLabel(outcome, {
    checkLabel: check => summaryField(check).label,
  });
  const chip = (
    <Chip
      size="small"
      label={label}
      data-outcome={outcome.kind}
      icon={<Icon style={{ color: OUTCOME_TEXT_COLOR }} aria-hidden />}
      style={{
        background: style.background,
        color: OUTCOME_TEXT_COLOR,
        maxWidth: '100%',
        cursor: to ? 'pointer' : undefined,
      }}
    />
  );
  return (
    <Tooltip title={style.description}>
      {to ? (
        <Link to={to} aria-label={`${label}: open the run`} underline="none">
          {chip}
        </Link>
      ) : (
        <span>{chip}</span>
      )}
    </Tooltip>
  );
};
