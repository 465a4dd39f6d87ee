// Types for demo-data.mjs, which the e2e tests import.
export const demoPassword: string;
export function seedDemoDatabase(options: {
  adminUrl: string;
  database?: string;
  customers?: number;
  role?: string;
  password?: string;
}): Promise<{ database: string; role: string; password: string; customers: number }>;
