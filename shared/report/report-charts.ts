import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { COMPLIANCE_STATES, type ComplianceReport, type ComplianceState } from './compliance-report.ts';
import { ROTATION_OUTCOMES, type RotationOutcome } from './rotation-history.ts';

/** One colour per state, the same in the summary, the charts and the table (colour-blind safe: Okabe–Ito). */
export const COMPLIANCE_COLORS: Readonly<Record<ComplianceState, string>> = {
  compliant: '#009E73',
  due: '#E69F00',
  overdue: '#D55E00',
  unused: '#CC79A7',
  exempt: '#0072B2',
  inactive: '#999999',
};

const OUTCOME_COLORS: Readonly<Record<RotationOutcome, string>> = {
  Succeeded: '#009E73',
  RolledBack: '#E69F00',
  NeedsAttention: '#F0E442',
  Failed: '#D55E00',
  Aborted: '#CC79A7',
  TimedOut: '#56B4E9',
  Running: '#0072B2',
};

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const WIDTH = 640;
const CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11 },
} as const;

/** Key ages binned by day, coloured by state, with the account's default window as a rule. */
export function keyAgeSpec(report: ComplianceReport): TopLevelSpec {
  const values = report.keys.filter((key) => key.status === 'Active').map((key) => ({ age: key.ageDays, state: key.compliance }));
  const states = COMPLIANCE_STATES.filter((state) => state !== 'inactive');
  // Fixed bins from 0 past the window, so the window sits at the same place whatever the ages, and a day-0 key still has a bar.
  const oldest = values.reduce((most, value) => Math.max(most, value.age), 0);
  const upper = Math.max(Math.ceil(report.defaultMaxAgeDays * 1.25), oldest + 1);
  const step = Math.max(1, Math.ceil(upper / 40));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: WIDTH,
    height: 220,
    config: CONFIG,
    layer: [
      {
        data: { values },
        mark: { type: 'bar', tooltip: false },
        encoding: {
          x: {
            field: 'age',
            type: 'quantitative',
            bin: { step, extent: [0, Math.ceil(upper / step) * step] },
            scale: { domain: [0, Math.ceil(upper / step) * step] },
            title: 'key age (days)',
          },
          y: { aggregate: 'count', type: 'quantitative', title: 'Active keys' },
          color: {
            field: 'state',
            type: 'nominal',
            title: 'state',
            legend: { orient: 'bottom', direction: 'horizontal' },
            scale: { domain: states, range: states.map((state) => COMPLIANCE_COLORS[state]) },
          },
          order: { field: 'state', sort: 'ascending' },
        },
      },
      {
        data: { values: [{ window: report.defaultMaxAgeDays, label: `rotation window: ${report.defaultMaxAgeDays} days` }] },
        layer: [
          {
            mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 2, color: '#333' },
            encoding: { x: { field: 'window', type: 'quantitative' } },
          },
          {
            mark: { type: 'text', align: 'left', dx: 4, dy: -4, baseline: 'top', color: '#333' },
            encoding: { x: { field: 'window', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
          },
        ],
      },
    ],
  };
}

/** Rotations started per ISO week, stacked by how they ended. */
export function rotationsPerWeekSpec(report: ComplianceReport): TopLevelSpec {
  const present = ROTATION_OUTCOMES.filter((outcome) => report.history.perWeek.some((row) => row.outcome === outcome));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    // One band per week: a 90-day history is about 13 bars, a week's alone stays a bar, not a wall.
    width: { step: 28 },
    height: 200,
    config: CONFIG,
    data: { values: report.history.perWeek.map((row) => ({ ...row })) },
    mark: { type: 'bar', tooltip: false },
    encoding: {
      x: { field: 'week', type: 'ordinal', title: 'week starting (UTC)', axis: { labelAngle: -45 } },
      y: { field: 'count', type: 'quantitative', aggregate: 'sum', title: 'rotations' },
      color: {
        field: 'outcome',
        type: 'nominal',
        title: 'outcome',
        legend: { orient: 'bottom', direction: 'horizontal' },
        scale: { domain: present, range: present.map((outcome) => OUTCOME_COLORS[outcome]) },
      },
      order: { field: 'outcome', sort: 'ascending' },
    },
  };
}

/**
 * A Vega-Lite chart drawn to SVG here, when the report is built: the page needs no script and no
 * network to show it, and prints as it looks. Without a canvas, Vega estimates text widths, which is
 * close enough for axis labels.
 */
export async function chartSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
