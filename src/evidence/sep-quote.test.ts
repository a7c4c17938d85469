import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { messagesOfDay, quoteMail, quoteSepFile } from './sep-quote.js';
import { writeZip } from './zip-writer.js';
import { SEP_MAIL } from '../testing/sep-files.js';

/** SEP's confirmation quoted in the report: a mail's sender, date and subject; a chat's messages of the sign-off day. */
const root = mkdtempSync(path.join(tmpdir(), 'astm53b-sep-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ANDROID_CHAT = [
  '10/03/2026 18:40 - Chef SEP: bordereaux de la veille envoyés',
  '11/03/2026 20:55 - Dépôt Monaluxe: Merci de confirmer REC-2026-03-01',
  '11/03/2026 21:02 - Chef SEP: REC-2026-03-01 38123,4 L à 15°C, confirmé.',
  'Température relevée 28,6 °C',
  '12/03/2026 07:10 - Chef SEP: bonne journée',
].join('\n');

const IOS_CHAT = ['[10/03/2026, 18:40:02] Chef SEP: hier', '\u200e[11/03/2026, 21:02:13] Chef SEP: REC-2026-03-03 37500,0 L confirmé'].join(
  '\r\n',
);

describe('SEP confirmation quoted', () => {
  it('a mail: sender, date and subject decoded by the MIME parser, and its first lines', async () => {
    const q = await quoteMail(Buffer.from(SEP_MAIL));
    expect(q.kind).toBe('mail');
    expect(q.quote!.slice(0, 3)).toEqual([
      'From: Chef de quart SEP — Pointe-Noire <terrain@sep-congo.example>',
      'Date: 2026-03-11T20:02:13.000Z',
      'Subject: Confirmation volumes à 15 °C — réceptions du 11/03',
    ]);
    expect(q.quote).toContain('Nous confirmons les volumes à 15 °C relevés ce jour :');
    expect(q.quote).toContain('REC-2026-03-01 : 38123,4 L');
    expect(q.note).toBeNull();
  });

  it('a WhatsApp chat (Android or iOS export): the messages of the sign-off day only, continuation lines kept', () => {
    expect(messagesOfDay(ANDROID_CHAT, '2026-03-11')).toEqual({
      lines: [
        '2026-03-11 20:55 Dépôt Monaluxe: Merci de confirmer REC-2026-03-01',
        '2026-03-11 21:02 Chef SEP: REC-2026-03-01 38123,4 L à 15°C, confirmé.',
        '  Température relevée 28,6 °C',
      ],
      days: 3,
    });
    expect(messagesOfDay(IOS_CHAT, '2026-03-11').lines).toEqual(['2026-03-11 21:02 Chef SEP: REC-2026-03-03 37500,0 L confirmé']);
  });

  it('a WhatsApp zip through the hardened zip reader; a day without message, a PDF and a damaged file said plainly', async () => {
    const zip = path.join(root, 'WhatsApp Chat - SEP Congo.zip');
    await writeZip(
      zip,
      [
        { name: '_chat.txt', text: IOS_CHAT },
        { name: 'IMG-20260311-WA0003.jpg', text: '\xff\xd8\xff\xe0 not really a photo' },
      ],
      new Date('2026-03-12T00:00:00Z'),
    );
    const q = await quoteSepFile(zip, path.basename(zip), 1000, '2026-03-11');
    expect(q).toEqual({
      kind: 'whatsapp',
      quote: ['2026-03-11 21:02 Chef SEP: REC-2026-03-03 37500,0 L confirmé'],
      note: 'the messages of 2026-03-11, the sign-off day',
    });
    const other = await quoteSepFile(zip, path.basename(zip), 1000, '2026-03-20');
    expect(other).toEqual({
      kind: 'whatsapp',
      quote: null,
      note: 'NO message on 2026-03-20, the sign-off day (2 other day(s) in the export)',
    });

    const pdf = path.join(root, 'bordereau.pdf');
    writeFileSync(pdf, '%PDF-1.4\n');
    expect(await quoteSepFile(pdf, 'bordereau.pdf', 9, '2026-03-11')).toEqual({ kind: 'file', quote: null, note: null });

    const broken = path.join(root, 'export.zip');
    writeFileSync(broken, 'PK not a zip');
    const b = await quoteSepFile(broken, 'export.zip', 12, '2026-03-11');
    expect(b.quote).toBeNull();
    expect(b.note).toMatch(/^could not be read as a WhatsApp export: .*not a readable zip/);
  });
});
