import { readFile } from 'node:fs/promises';
import PostalMime from 'postal-mime';
import type { SepFacts } from '../results/evidence.js';
import { openZipEntry, readZipDirectory } from './zip-reader.js';

/**
 * What the report quotes of SEP's field confirmation (runbook 5.7), so a reader sees what SEP
 * said, not only a hash: for a mail (.eml) its sender, date and subject and the first lines of
 * its text, read with a maintained MIME parser (postal-mime); for a WhatsApp export (_chat.txt,
 * or the zip WhatsApp makes, read with the bundle's own hardened zip reader) the messages of the
 * sign-off day; any other file (a PDF, a photo of the slip) is listed with its hash only.
 */
const BODY_LINES = 12;
const CHAT_LIMIT = 4 * 1024 * 1024;
const MAIL_LIMIT = 16 * 1024 * 1024;

type Quoted = Pick<SepFacts, 'kind' | 'quote' | 'note'>;

const mailbox = (a: { name?: string; address?: string } | undefined): string | null =>
  a ? (a.name && a.address ? `${a.name} <${a.address}>` : (a.address ?? a.name ?? null)) : null;

export async function quoteMail(raw: Buffer): Promise<Quoted> {
  const mail = await PostalMime.parse(raw);
  const from = mail.from && 'address' in mail.from ? mailbox(mail.from) : (mail.from?.name ?? null);
  const body = (mail.text ?? '')
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l, i, all) => l !== '' || (i > 0 && all[i - 1] !== ''));
  const shown = body.slice(0, BODY_LINES);
  return {
    kind: 'mail',
    quote: [
      `From: ${from ?? '(no sender)'}`,
      `Date: ${mail.date ?? '(no date)'}`,
      `Subject: ${mail.subject ?? '(no subject)'}`,
      ...(shown.length ? ['', ...shown] : []),
      ...(body.length > shown.length ? [`[… ${body.length - shown.length} more line(s) in the file]`] : []),
    ],
    note: from && mail.date ? null : 'the mail lacks a sender or a date',
  };
}

/** `11/03/2026 21:02 - Name: text` (Android) or `[11/03/2026, 21:02:13] Name: text` (iOS); day first, as a French phone writes it. */
const CHAT_LINE = /^\u200e?\[?(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4}),? (\d{1,2}:\d{2})(?::\d{2})?\]?(?: -)? (.*)$/;

export function messagesOfDay(chat: string, day: string): { lines: string[]; days: number } {
  const out: string[] = [];
  const seen = new Set<string>();
  let keep = false;
  for (const raw of chat.split(/\r?\n/)) {
    const m = CHAT_LINE.exec(raw);
    if (m) {
      const [, d, mo, y, time, rest] = m;
      const year = y!.length === 2 ? `20${y}` : y!;
      const iso = `${year}-${mo!.padStart(2, '0')}-${d!.padStart(2, '0')}`;
      seen.add(iso);
      keep = iso === day;
      if (keep) out.push(`${iso} ${time!.padStart(5, '0')} ${rest!}`);
    } else if (keep && raw.trim()) out.push(`  ${raw.trim()}`);
  }
  return { lines: out, days: seen.size };
}

async function chatOfZip(file: string): Promise<string | null> {
  const entries = await readZipDirectory(file);
  const chat = entries.find((e) => /(^|\/)(_chat|WhatsApp Chat[^/]*)\.txt$/i.test(e.name));
  if (!chat) return null;
  if (chat.size > CHAT_LIMIT) throw new Error(`${chat.name} is ${chat.size} bytes, more than a chat the report quotes`);
  const chunks: Buffer[] = [];
  for await (const c of await openZipEntry(file, chat)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function quoteChat(text: string, day: string | null): Promise<Quoted> {
  if (!day) return { kind: 'whatsapp', quote: null, note: 'no sign-off day recorded: which messages to quote is unknown' };
  const { lines, days } = messagesOfDay(text, day);
  if (!days) return { kind: 'whatsapp', quote: null, note: 'no WhatsApp message line found in the export' };
  return lines.length
    ? { kind: 'whatsapp', quote: lines, note: `the messages of ${day}, the sign-off day` }
    : { kind: 'whatsapp', quote: null, note: `NO message on ${day}, the sign-off day (${days} other day(s) in the export)` };
}

/** What the report shows of one SEP file; a file that cannot be read as its name says is listed with why. */
export async function quoteSepFile(abs: string, name: string, bytes: number, day: string | null): Promise<Quoted> {
  try {
    if (/\.eml$/i.test(name)) {
      if (bytes > MAIL_LIMIT) return { kind: 'mail', quote: null, note: `${bytes} bytes: too large to quote` };
      return await quoteMail(await readFile(abs));
    }
    if (/\.zip$/i.test(name)) {
      const chat = await chatOfZip(abs);
      return chat === null
        ? { kind: 'file', quote: null, note: 'a zip without a WhatsApp _chat.txt: listed with its hash' }
        : await quoteChat(chat, day);
    }
    if (/\.txt$/i.test(name)) {
      if (bytes > CHAT_LIMIT) return { kind: 'whatsapp', quote: null, note: `${bytes} bytes: too large to quote` };
      return await quoteChat(await readFile(abs, 'utf8'), day);
    }
  } catch (e) {
    return {
      kind: 'file',
      quote: null,
      note: `could not be read as ${/\.eml$/i.test(name) ? 'a mail' : 'a WhatsApp export'}: ${(e as Error).message}`,
    };
  }
  return { kind: 'file', quote: null, note: null };
}
