import { makeStyles, Text, tokens } from '@fluentui/react-components';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * A line chart over time with uPlot (a few tens of KB, canvas): times in epoch seconds, one or more series. The canvas
 * is not readable by assistive technology, so the figure carries a text summary of each series as its label.
 */
export interface Series {
  label: string;
  values: readonly (number | null)[];
  /** A CSS colour; defaults to a palette readable in light and dark themes. */
  color?: string;
}

const PALETTE = ['#0f6cbd', '#c50f1f', '#107c10', '#8764b8', '#ca5010', '#038387'];

const useStyles = makeStyles({
  figure: { margin: 0, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, minWidth: 0 },
  plot: { width: '100%', color: tokens.colorNeutralForeground1 },
});

export function TimeSeriesChart({ title, times, series, height = 200 }: { title: string; times: readonly number[]; series: readonly Series[]; height?: number }) {
  const styles = useStyles();
  const holder = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = holder.current;
    if (!element) return undefined;
    const axisColor = getComputedStyle(element).color;
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 200),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      axes: [
        { stroke: axisColor, grid: { stroke: 'rgba(128,128,128,0.2)' }, ticks: { stroke: 'rgba(128,128,128,0.3)' } },
        { stroke: axisColor, grid: { stroke: 'rgba(128,128,128,0.2)' }, ticks: { stroke: 'rgba(128,128,128,0.3)' }, size: 50 },
      ],
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: s.color ?? PALETTE[i % PALETTE.length]!, width: 2, points: { show: false } }))],
      scales: { y: { range: (_self: uPlot, min: number, max: number): uPlot.Range.MinMax => [Math.min(0, min), Math.max(1, max)] } },
    };
    const data: uPlot.AlignedData = [Array.from(times), ...series.map((s) => Array.from(s.values))];
    const plot = new uPlot(options, data, element);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 200), height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [times, series, height]);
  const summary = series.map((s) => `${s.label}: ${s.values.reduce<number>((sum, v) => sum + (v ?? 0), 0).toLocaleString()} in all`).join('; ');
  return (
    <figure className={styles.figure}>
      <Text as="h3" weight="semibold">{title}</Text>
      <div ref={holder} className={styles.plot} role="img" aria-label={`${title}. ${summary}`} />
    </figure>
  );
}
