// Layered layout of a lineage DAG: origins on the left, the product on the right; within a
// column, children follow the mean row of their parents.
export function layoutDag(ids, edges, productId) {
  const parents = new Map(ids.map((i) => [i, []]));
  for (const e of edges) if (parents.has(e.child)) parents.get(e.child).push(e.parent);
  const depth = new Map();
  const visit = (i, seen = new Set()) => {
    if (depth.has(i)) return depth.get(i);
    if (seen.has(i)) return 0;
    seen.add(i);
    const d = parents.get(i).length ? 1 + Math.max(...parents.get(i).map((p) => visit(p, seen))) : 0;
    depth.set(i, d);
    return d;
  };
  ids.forEach((i) => visit(i));
  const columns = Math.max(0, ...depth.values()) + 1;
  const byCol = Array.from({ length: columns }, () => []);
  for (const i of ids) byCol[depth.get(i)].push(i);
  const at = new Map();
  let rows = 0;
  byCol.forEach((col, c) => {
    const key = (i) => {
      const ps = parents.get(i).filter((p) => at.has(p));
      return ps.length ? ps.reduce((s, p) => s + at.get(p).row, 0) / ps.length : i;
    };
    col.sort((a, b) => key(a) - key(b) || a - b);
    col.forEach((i, r) => at.set(i, { col: c, row: r }));
    rows = Math.max(rows, col.length);
  });
  return { at, columns, rows, product: productId };
}
