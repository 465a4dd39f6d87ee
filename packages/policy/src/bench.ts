// Detector throughput on one core over a mixed corpus: `pnpm --filter @portcullis/policy run bench`.
import { createScanner } from './detectors/scanner.js';
import { createMaskContext, maskText } from './masking/text.js';
import { createStreamMasker } from './masking/stream.js';
import { analyzeSql, init } from './sql/analyze.js';
import { samples } from './testing/corpus.js';

const PROSE =
  'The quarterly report shows revenue grew in every region, while support tickets fell after the new onboarding flow shipped. ' +
  'GET /api/v1/items?page=2 200 35ms user_agent="Mozilla/5.0" region=eu-west-1 build 2024.05.01.1\n' +
  '{"id": 8812, "status": "shipped", "items": [{"sku": "A-1001", "qty": 2}], "updated_at": "2024-05-01T12:30:45Z"}\n';

function corpus(targetBytes: number): string {
  const parts: string[] = [];
  let size = 0;
  const labelled = samples().map((s) => s.text);
  let i = 0;
  while (size < targetBytes) {
    // Mostly ordinary text with PII sprinkled in, as in real responses.
    const piece = i % 4 === 0 ? labelled[(i / 4) % labelled.length]! + '\n' : PROSE;
    parts.push(piece);
    size += piece.length;
    i++;
  }
  return parts.join('');
}

function measure(label: string, bytes: number, fn: () => void): void {
  fn(); // warm up
  const runs = 5;
  const t0 = performance.now();
  for (let r = 0; r < runs; r++) fn();
  const seconds = (performance.now() - t0) / 1000;
  console.log(`${label.padEnd(40)} ${((bytes * runs) / 1e6 / seconds).toFixed(2).padStart(8)} MB/s`);
}

const text = corpus(2_000_000);
const lines = text.split('\n');
const scanner = createScanner();
const ctx = createMaskContext({ scanner });
console.log(`corpus: ${(text.length / 1e6).toFixed(1)} MB, ${lines.length} lines (1 in 4 a labelled PII sample)`);
measure('scan, all entities, per line', text.length, () => lines.forEach((l) => scanner.scan(l)));
measure('scan, all entities, one 2 MB string', text.length, () => scanner.scan(text));
const noPerson = new Set(scanner.entities.filter((e) => e !== 'PERSON' && e !== 'PHONE'));
measure('scan, without PERSON and PHONE', text.length, () => lines.forEach((l) => scanner.scan(l, noPerson)));
measure('maskText, per line', text.length, () => lines.forEach((l) => maskText(l, ctx)));
const small = text.slice(0, 400_000);
const tokens = small.match(/\s*\S+/g)!;
measure('stream masker, SSE-sized tokens', small.length, () => {
  const m = createStreamMasker(ctx);
  for (const t of tokens) m.push(t);
  m.end();
});

await init();
const statements = [
  'SELECT id, email FROM customers WHERE id = $1',
  'WITH d AS (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM d',
  'UPDATE orders SET status = $1 WHERE id = $2',
];
const n = 20_000;
function rate(label: string, sql: (i: number) => string): void {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) analyzeSql(sql(i));
  const perSecond = n / ((performance.now() - t0) / 1000);
  console.log(`${label.padEnd(40)} ${perSecond.toFixed(0).padStart(8)} statements/s`);
}
rate('analyzeSql, distinct texts', (i) => `${statements[i % statements.length]!} /* ${i} */`);
rate('analyzeSql, repeated texts (cached)', (i) => statements[i % statements.length]!);
