// Synthetic demo data: customers with names, e-mails, SSNs and card numbers, and documents with
// embeddings. Deterministic (seeded), so tests and screenshots are reproducible. Nothing here is
// a real person's data: card numbers are Luhn-valid test numbers, SSNs use valid-format ranges.
import pg from 'pg';

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'John', 'Radia', 'Ken',
  'Margaret', 'Dennis', 'Katherine', 'Linus', 'Hedy', 'Tim', 'Shafi', 'Leslie', 'Anita', 'Guido'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'McCarthy', 'Perlman',
  'Thompson', 'Hamilton', 'Ritchie', 'Johnson', 'Torvalds', 'Lamarr', 'Berners-Lee', 'Goldwasser', 'Lamport', 'Borg', 'Rossum'];
const CITIES = ['Lisbon', 'Oslo', 'Austin', 'Nairobi', 'Osaka', 'Lyon', 'Denver', 'Porto', 'Leeds', 'Perth'];
const TOPICS = ['refund policy', 'card replacement', 'account closure', 'address change', 'fraud report',
  'loan terms', 'savings rates', 'wire transfer limits', 'mobile app login', 'statement download'];

/** mulberry32: a tiny seeded PRNG, so every run produces the same rows. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function luhnComplete(prefix15) {
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let d = Number(prefix15[14 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return prefix15 + String((10 - (sum % 10)) % 10);
}

function cardNumber(rand) {
  let digits = '4';
  while (digits.length < 15) digits += Math.floor(rand() * 10);
  const n = luhnComplete(digits);
  return `${n.slice(0, 4)} ${n.slice(4, 8)} ${n.slice(8, 12)} ${n.slice(12)}`;
}

function ssn(rand) {
  // Valid ranges: area 001-665 or 667-899, group 01-99, serial 0001-9999.
  let area = 1 + Math.floor(rand() * 898);
  if (area === 666) area = 667;
  const group = 1 + Math.floor(rand() * 99);
  const serial = 1 + Math.floor(rand() * 9999);
  return `${String(area).padStart(3, '0')}-${String(group).padStart(2, '0')}-${String(serial).padStart(4, '0')}`;
}

export const demoPassword = 'demo-reader-password';

/**
 * Creates (or recreates) the demo database and its least-privilege reader role.
 * `adminUrl` points at any database of the server as a superuser.
 */
export async function seedDemoDatabase({ adminUrl, database = 'portcullis_demo', customers = 10_000, role = 'portcullis_demo_reader', password = demoPassword }) {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
    const roleExists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    await admin.query(`SET password_encryption = 'scram-sha-256'`);
    const verb = roleExists.rowCount === 0 ? 'CREATE' : 'ALTER';
    await admin.query(`${verb} ROLE "${role}" LOGIN PASSWORD ${pg.Client.prototype.escapeLiteral(password)}`);
  } finally {
    await admin.end();
  }

  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  try {
    const seeded = await db.query(`SELECT to_regclass('public.customers') IS NOT NULL AS ok`);
    if (seeded.rows[0].ok) {
      const count = await db.query('SELECT count(*)::int AS n FROM customers');
      if (count.rows[0].n === customers) return { database, role, password, customers };
    }
    await db.query('BEGIN');
    await db.query('DROP TABLE IF EXISTS documents, orders, customers');
    await db.query(`
      CREATE TABLE customers (
        id          integer PRIMARY KEY,
        full_name   text NOT NULL,
        email       text NOT NULL,
        ssn         text NOT NULL,
        card_number text NOT NULL,
        phone       text NOT NULL,
        city        text NOT NULL,
        balance     numeric(12,2) NOT NULL,
        created_at  timestamptz NOT NULL
      )`);
    await db.query(`
      CREATE TABLE documents (
        id        integer PRIMARY KEY,
        title     text NOT NULL,
        body      text NOT NULL,
        embedding real[] NOT NULL
      )`);
    const rand = prng(42);
    const batch = 1000;
    for (let start = 1; start <= customers; start += batch) {
      const values = [];
      const params = [];
      for (let id = start; id < Math.min(start + batch, customers + 1); id++) {
        const first = FIRST[Math.floor(rand() * FIRST.length)];
        const last = LAST[Math.floor(rand() * LAST.length)];
        const phone = `+1 415 555 ${String(Math.floor(rand() * 10000)).padStart(4, '0')}`;
        const row = [id, `${first} ${last}`, `${first}.${last}${id}@example.com`.toLowerCase(), ssn(rand), cardNumber(rand),
          phone, CITIES[Math.floor(rand() * CITIES.length)], (rand() * 20000).toFixed(2),
          new Date(Date.UTC(2024, 0, 1) + Math.floor(rand() * 600) * 86400000).toISOString()];
        values.push(`(${row.map((_, i) => `$${params.length + i + 1}`).join(',')})`);
        params.push(...row);
      }
      await db.query(`INSERT INTO customers VALUES ${values.join(',')}`, params);
    }
    for (let id = 1; id <= 200; id++) {
      const topic = TOPICS[id % TOPICS.length];
      const customer = 1 + Math.floor(rand() * customers);
      const embedding = Array.from({ length: 8 }, () => Number((rand() * 2 - 1).toFixed(4)));
      await db.query('INSERT INTO documents VALUES ($1, $2, $3, $4)', [
        id,
        `Note ${id}: ${topic}`,
        `Customer #${customer} asked about ${topic}. Contact on file was checked before replying.`,
        embedding,
      ]);
    }
    await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON customers, documents TO "${role}"`);
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await db.end();
  }
  return { database, role, password, customers };
}
