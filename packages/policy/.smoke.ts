import { createScanner, createMaskContext, maskText, createStreamMasker, init, analyzeSql, compilePolicy, decide } from './src/index.js';
const scanner = createScanner();
const ctx = createMaskContext({ scanner });
for (const t of [
  'Card 4111 1111 1111 1111 exp 12/27', 'my SSN is 123-45-6789.', 'ssn 123456789', 'mail john.doe@example.com now',
  'Call (415) 555-2671 or +44 20 7946 0958', 'IBAN DE89 3704 0044 0532 0130 00', 'from 192.168.1.20 and 2001:db8::1',
  'born on 12 March 1990', 'MRN: 00123456', 'key AKIAIOSFODNN7EXAMPLE', 'Patient John Smith was seen by Dr. Whitfield',
  'order 2024-05-01 12:30:45 v1.2.3.4 id 123e4567-e89b-12d3-a456-426614174000', 'password=hunter22 token=abc',
  'postgres://app:s3cretPass@db:5432/x', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
]) console.log(JSON.stringify(maskText(t, ctx).text));
const sm = createStreamMasker(ctx);
let out = '';
for (const c of ['Card 4111 11', '11 1111 1111 ok and ', 'john@exa', 'mple.com', ' end']) out += sm.push(c);
out += sm.end();
console.log(out, sm.counts());
await init();
for (const q of ['with d as (delete from t returning *) select * from d', "DO $$BEGIN PERFORM pg_read_file('/x'); END$$", 'select 1; select 2', 'DELETE FROM documents WHERE id IN (1,2)', 'DELETE FROM documents WHERE id > 3', 'selec 1']) {
  const a = analyzeSql(q);
  const d = decide({ connection: 'c', identity: { subject: 's', groups: [] }, sql: a }, compilePolicy({ version: 1, defaultAction: 'allow' }), new Date());
  console.log(q, '=>', d.action, d.ruleId, d.reason, a.statements.map((s) => s.kind));
}
