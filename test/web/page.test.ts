// The browser page (issue 14) in headless Chromium (Debian's chromium package, driven by
// playwright-core): it loads cross-origin isolated, boots the default guest to its
// prompt in the terminal, answers a typed command, shows non-zero exit counters, keeps a
// snapshot in IndexedDB across a reload, downloads it as the CLI's snapshot files (which
// Machine.restore runs on) and loads them back; boots a picked kernel, initrd and disk
// image (the guest's writes download back) and pastes into the guest; shows a bad
// kernel's, a triple fault's and a missing cross-origin isolation's errors on the page.
// Every wait is for an event on the page (text in the terminal, a counter, a message),
// with hang guards of minutes, not deadlines. A screenshot of the booted page is kept in
// dist/test-artifacts/web-page.png.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Download, Page } from 'playwright-core';
import { Machine } from '../../src/machine/Machine.js';
import { attachSerial } from '../machine/serialSession.js';
import { REPO_ROOT } from '../../src/cli/webBundle.js';
import { launchChromium, noChromium, servePage } from './chromium.js';
import { multibootKernel } from '../boot/images.js';

const skip = noChromium;
/** Hang guard for a boot or a restore on a loaded host (the default guest boots in seconds). */
const HANG_MS = 240_000;
export const ARTIFACTS = join(REPO_ROOT, 'dist', 'test-artifacts');

/** Wait until the terminal's text matches `re` (counting matches after `from` of them). */
export async function waitForScreen(page: Page, re: RegExp, count = 1): Promise<void> {
  await page.waitForFunction(([src, flags, n]) => {
    const text = (globalThis as unknown as { typevisorPage: { screenText(): string } }).typevisorPage.screenText();
    return (text.match(new RegExp(src as string, (flags as string) + 'g')) ?? []).length >= (n as number);
  }, [re.source, re.flags, count] as const, { timeout: HANG_MS, polling: 200 });
}

const screenText = (page: Page): Promise<string> => page.evaluate(() => (globalThis as unknown as { typevisorPage: { screenText(): string } }).typevisorPage.screenText());

describe('browser page', { skip }, () => {
  let served: Awaited<ReturnType<typeof servePage>>;
  let browser: Browser;
  let url: string;

  before(async () => {
    served = await servePage();
    url = served.url;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await served?.stop();
  });

  test('boots the default guest in the terminal, answers uname -a, counts exits, keeps a snapshot across a reload, downloads it as the CLI\'s files and loads them back', { timeout: 4 * HANG_MS }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    const page = await ctx.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { crossOriginIsolated: boolean }).crossOriginIsolated), true, 'the server makes the page cross-origin isolated');
    await page.click('#boot');
    await waitForScreen(page, /typevisor:\/# /);

    await page.click('#term');
    await page.keyboard.type('uname -a');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /Linux typevisor \S+ .*i[3-6]86/);
    assert.match(await screenText(page), /uname -a\s*\n.*Linux/);

    // Exits are counted and reach the panel (it is refreshed twice a second).
    await page.waitForFunction(() => {
      const s = (globalThis as unknown as { typevisorPage: { stats(): { exits: Record<string, number> } | null } }).typevisorPage.stats();
      return s !== null && s.exits['portIo']! > 0 && s.exits['interrupts']! > 0 && s.exits['hlt']! > 0;
    }, undefined, { timeout: HANG_MS });
    const portIo = await page.textContent('#bars .bar[data-kind="portIo"] .count');
    assert.ok(Number(portIo?.replace(/,/g, '')) > 0, `port I/O exits shown: ${portIo}`);
    assert.ok(Number((await page.textContent('#s-insns'))?.replace(/,/g, '')) > 0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-page.png') });

    // A snapshot in IndexedDB, restored after a reload: the shell still answers.
    await page.keyboard.type('echo before-$((6*7))');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /before-42/);
    await page.click('#snap-save');
    await page.waitForFunction('/snapshot saved/.test(typevisorPage.status())', undefined, { timeout: HANG_MS });
    await page.reload();
    assert.doesNotMatch(await screenText(page), /before-42/, 'the reloaded page starts empty');
    await page.click('#snap-restore');
    await page.waitForFunction("typevisorPage.status() === 'running'", undefined, { timeout: HANG_MS });
    await page.click('#term');
    await page.keyboard.type('echo after-$((6*7))');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /after-42/);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { typevisorPage: { error(): string | null } }).typevisorPage.error()), null);

    // Downloaded, the snapshot is the CLI's two files: Machine.restore runs it on, and the
    // page loads them back from files.
    const both = new Promise<Download[]>((resolve) => {
      const got: Download[] = [];
      page.on('download', (d) => { if (got.push(d) === 2) resolve(got); });
    });
    await page.click('#snap-download');
    const downloads = await both; // the test's own timeout guards this
    const byName = new Map(await Promise.all(downloads.map(async (d) => [d.suggestedFilename(), await d.path()] as const)));
    const statePath = byName.get('vm.state')!, memPath = byName.get('vm.mem')!;
    assert.ok(statePath && memPath, `downloads: ${[...byName.keys()].join(', ')}`);
    const m = await Machine.restore(statePath, memPath);
    const { serial, send, run } = attachSerial(m);
    const ran = run();
    send('echo in-node-$((6*7))\n');
    await serial.waitFor(/in-node-42/, 10_000);
    m.stop('done');
    await ran;

    await page.reload();
    await page.setInputFiles('#snap-state-file', statePath);
    await page.setInputFiles('#snap-mem-file', memPath);
    await page.click('#snap-upload');
    await page.waitForFunction("typevisorPage.status() === 'running'", undefined, { timeout: HANG_MS });
    await page.click('#term');
    await page.keyboard.type('echo from-files-$((6*7))');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /from-files-42/);
    assert.deepEqual(pageErrors, []);
    await ctx.close();
  });

  test('a picked disk image is the guest\'s /dev/vda, and its changes download back; paste types into the guest', { timeout: 2 * HANG_MS }, async () => {
    const ctx = await browser.newContext({ acceptDownloads: true, permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await ctx.newPage();
    await page.goto(url);
    const disk = Buffer.alloc(1 << 20);
    disk.write('picked-disk-marker', 0);
    await page.setInputFiles('#kernel-file', join(REPO_ROOT, 'guest/bzImage'));
    await page.setInputFiles('#initrd-file', join(REPO_ROOT, 'guest/initramfs.cpio.gz'));
    await page.setInputFiles('#disk-file', { name: 'disk.img', mimeType: 'application/octet-stream', buffer: disk });
    await page.click('#boot-files');
    await waitForScreen(page, /typevisor:\/# /);
    await page.click('#term');
    await page.keyboard.type('head -c 18 /dev/vda; echo; echo written-by-guest | dd of=/dev/vda bs=512 seek=1 conv=fsync 2>/dev/null; echo wrote-$((6*7))');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /wrote-42/);
    assert.match(await screenText(page), /\npicked-disk-marker\n/);

    // Paste (Ctrl-Shift-V) types the clipboard into the guest.
    await page.evaluate('navigator.clipboard.writeText("echo pasted-$((2+3))\\n")');
    await page.keyboard.press('Control+Shift+V');
    await waitForScreen(page, /\npasted-5\n/);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: HANG_MS }), page.click('#disk-download')]);
    const path = await download.path();
    const image = readFileSync(path);
    assert.equal(image.length, 1 << 20);
    assert.equal(image.toString('latin1', 0, 18), 'picked-disk-marker');
    assert.equal(image.toString('latin1', 512, 528), 'written-by-guest');
    await ctx.close();
  });

  test('a file that is not a kernel, and a kernel that triple-faults, get their errors on the page', { timeout: HANG_MS }, async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(url);
    await page.setInputFiles('#kernel-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('this is not a kernel\n'.repeat(100)) });
    await page.click('#boot-files');
    await page.waitForSelector('#error:not([hidden])', { timeout: HANG_MS });
    const msg = await page.textContent('#error');
    assert.match(msg ?? '', /Cannot boot: .*(not|unrecogni[sz]ed|kernel)/i);

    // A kernel that triple-faults (an empty IDT, then #UD): the page says so.
    const idt = 0x100000 + 48 + 10;
    const code = [0x0f, 0x01, 0x1d, idt & 0xff, (idt >> 8) & 0xff, (idt >> 16) & 0xff, idt >>> 24, 0x0f, 0x0b, 0, 0, 0, 0, 0, 0];
    await page.setInputFiles('#kernel-file', { name: 'fault.elf', mimeType: 'application/octet-stream', buffer: Buffer.from(multibootKernel(code)) });
    await page.click('#boot-files');
    await page.waitForFunction('/triple-faulted/.test(typevisorPage.error() ?? "")', undefined, { timeout: HANG_MS });
    assert.match(await page.textContent('#status') ?? '', /stopped: triple-fault/);
    await ctx.close();
  });

  test('a page without cross-origin isolation says why it cannot run', { timeout: HANG_MS }, async () => {
    // The same page from a server without the COOP/COEP headers: no SharedArrayBuffer.
    const { createServer } = await import('node:http');
    const plain = createServer((req, res) => {
      void fetch(new URL(req.url ?? '/', url)).then(async (r) => {
        res.writeHead(r.status, { 'Content-Type': r.headers.get('content-type') ?? 'application/octet-stream' });
        res.end(Buffer.from(await r.arrayBuffer()));
      });
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const a = plain.address();
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/`);
      await page.waitForSelector('#error:not([hidden])', { timeout: HANG_MS });
      assert.match((await page.textContent('#error')) ?? '', /SharedArrayBuffer.*cross-origin isolated/);
      assert.equal(await page.isDisabled('#boot'), true);
      await ctx.close();
    } finally {
      plain.closeAllConnections();
      await new Promise((r) => plain.close(r));
    }
  });
});
