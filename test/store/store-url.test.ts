// openStore's reading of store URLs (src/store/index.ts): schemes it does not know, and '~' for the home folder.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { errorOf } from '../helpers/errors.js';

describe('store URLs', () => {
  const cwd = process.cwd();
  const home = process.env.HOME;
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ductape-store-url-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    process.chdir(cwd);
    process.env.HOME = home;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("refuses a scheme it does not know instead of making a folder named after it ('file:' says how to write it)", async () => {
    const dir = tempDir();
    process.chdir(dir);
    const file = await errorOf(openStore('file:/tmp/ductape-x.db'));
    expect([file.code, file.message]).toEqual([
      'CONFIG_ERROR',
      `Unknown store URL scheme "file:" in "file:/tmp/ductape-x.db". Use 'sqlite:<path>', ':memory:' or 'postgres://…'. For a SQLite file write sqlite:/tmp/ductape-x.db.`,
    ]);
    expect((await errorOf(openStore('file:///tmp/ductape-x.db'))).message).toContain('For a SQLite file write sqlite:/tmp/ductape-x.db.');
    const mysql = await errorOf(openStore('mysql://root:hunter2@127.0.0.1/db'));
    expect(mysql.code).toBe('CONFIG_ERROR');
    expect(mysql.message).toMatch(/^Unknown store URL scheme "mysql:"/);
    expect(mysql.message).not.toContain('hunter2');
    // Nothing was created where the process runs (before: a folder 'file:' holding tmp/ductape-x.db).
    expect(existsSync(join(dir, 'file:'))).toBe(false);
  });

  it("opens '~/…' under the home folder, for sqlite: URLs and bare paths", async () => {
    const fakeHome = tempDir();
    process.env.HOME = fakeHome;
    process.chdir(tempDir());
    for (const url of ['sqlite:~/a.db', '~/b.db']) {
      const store = await openStore(url);
      await store.close();
    }
    expect([existsSync(join(fakeHome, 'a.db')), existsSync(join(fakeHome, 'b.db')), existsSync(join(process.cwd(), '~'))]).toEqual([true, true, false]);
  });
});
