// A time-series chart drawn by uPlot on a canvas. The caption names every
// series with its latest value, so the figures are readable without the
// picture (screen readers, tests).
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  values: (number | null)[];
}

const palette = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#57606a"];

function latest(values: (number | null)[]): string {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && Number.isFinite(v)) return v >= 100 ? v.toFixed(0) : v.toFixed(2);
  }
  return "–";
}

export function Chart({ title, unit, times, series }: { title: string; unit: string; times: number[]; series: Series[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => s.label).join("\u0000");

  // A new set of series makes a new chart; new points only update it.
  useEffect(() => {
    if (!box.current) return;
    const width = Math.max(320, Math.min(box.current.clientWidth || 640, 960));
    const opts: uPlot.Options = {
      width,
      height: 220,
      scales: { x: { time: true } },
      axes: [{}, { label: unit, size: 60 }],
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: palette[i % palette.length], width: 2, spanGaps: true }))],
      legend: { show: false }, // the caption names the series with their latest values
    };
    plot.current = new uPlot(opts, [times, ...series.map((s) => s.values)] as uPlot.AlignedData, box.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, unit]);

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [times, series]);

  const points = times.length;
  const nonEmpty = series.some((s) => s.values.some((v) => v !== null && v > 0));
  return (
    <figure className="chart" data-title={title} data-points={points} data-nonempty={nonEmpty ? "yes" : "no"}>
      <figcaption>
        <strong>{title}</strong>{" "}
        {series.map((s) => (
          <span key={s.label} className="chart-latest">
            {s.label}: {latest(s.values)} {unit}
          </span>
        ))}
      </figcaption>
      <div ref={box} role="img" aria-label={`${title}, chart of the last ${points} intervals`} />
    </figure>
  );
}
