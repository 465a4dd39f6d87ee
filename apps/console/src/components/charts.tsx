/** Hand-drawn SVG charts: a handful of shapes read better than a chart library's defaults. */

export function BarChart({
  bars,
  height = 140,
  label,
  formatX,
}: {
  bars: { start: number; value: number }[];
  height?: number;
  label: string;
  formatX: (start: number) => string;
}) {
  const width = 600;
  const padBottom = 20;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const slot = width / Math.max(1, bars.length);
  const plot = height - padBottom;
  return (
    <svg className="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} preserveAspectRatio="none">
      {[0.25, 0.5, 0.75, 1].map((f) => (
        <line key={f} x1={0} x2={width} y1={plot - plot * f} y2={plot - plot * f} className="chart-grid" />
      ))}
      {bars.map((b, i) => {
        const h = (b.value / max) * (plot - 4);
        return (
          <g key={b.start}>
            <rect x={i * slot + slot * 0.15} width={slot * 0.7} y={plot - h} height={h} rx={2} className="chart-bar">
              <title>{`${formatX(b.start)}: ${b.value}`}</title>
            </rect>
            {i % Math.ceil(bars.length / 6) === 0 && (
              <text x={i * slot + slot / 2} y={height - 5} className="chart-axis" textAnchor="middle">
                {formatX(b.start)}
              </text>
            )}
          </g>
        );
      })}
      {bars.some((b) => b.value > 0) && (
        <text x={2} y={12} className="chart-axis">
          max {max}
        </text>
      )}
    </svg>
  );
}

export function Donut({
  segments,
  label,
}: {
  segments: { label: string; value: number; className: string }[];
  label: string;
}) {
  const total = segments.reduce((s, x) => s + x.value, 0);
  const r = 40;
  const c = 2 * Math.PI * r;
  let offset = 0;
  return (
    <div className="donut">
      <svg viewBox="0 0 100 100" role="img" aria-label={label} width={110} height={110}>
        <circle cx={50} cy={50} r={r} className="donut-track" />
        {total > 0 &&
          segments.map((s) => {
            const length = (s.value / total) * c;
            const el = (
              <circle
                key={s.label}
                cx={50}
                cy={50}
                r={r}
                className={`donut-segment ${s.className}`}
                strokeDasharray={`${length} ${c - length}`}
                strokeDashoffset={-offset}
                transform="rotate(-90 50 50)"
              />
            );
            offset += length;
            return el;
          })}
        <text x={50} y={55} textAnchor="middle" className="donut-total">
          {total}
        </text>
      </svg>
      <ul className="legend">
        {segments.map((s) => (
          <li key={s.label}>
            <span className={`legend-swatch ${s.className}`} /> {s.label} <strong>{s.value}</strong>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function HBarList({ items, unit }: { items: { label: string; value: number }[]; unit?: string }) {
  const max = Math.max(1, ...items.map((i) => i.value));
  return (
    <ul className="hbars">
      {items.map((i) => (
        <li key={i.label}>
          <span className="hbar-label">{i.label}</span>
          <span className="hbar-track">
            <span className="hbar-fill" style={{ width: `${(i.value / max) * 100}%` }} />
          </span>
          <span className="hbar-value">
            {i.value}
            {unit ? ` ${unit}` : ''}
          </span>
        </li>
      ))}
    </ul>
  );
}
