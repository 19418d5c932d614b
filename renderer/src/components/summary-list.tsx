/** A row of labelled figures at the top of a page (cluster, runtime). */
export function SummaryList({ items }: { items: readonly (readonly [string, string])[] }) {
  return (
    <dl className="summary">
      {items.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
