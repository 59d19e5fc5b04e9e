// `deja extract FILE DIR`: the images a recording embeds (--embed), written to DIR under
// the file names they were recorded with, so that `replay --images DIR` finds them and a
// recording received in a bug report also gives the images to boot.

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError, ExitCode, fileError } from '../errors.js';
import { sha256 } from '../record/manifest.js';
import { loadRecording } from '../session/replay-session.js';
import { plural } from '../plural.js';

/** The `deja run` option that boots an image of each role. */
const RUN_OPTION: Record<string, string> = { bios: '--bios', kernel: '--kernel', initrd: '--initrd', elf: '--elf', disk: '--disk' };

export async function extractCommand(file: string, dir: string): Promise<number> {
  const rec = await loadRecording(file);
  const images = rec.header.images;
  const missing = images.filter((e) => !rec.embedded.has(e.sha256));
  if (!images.length) throw new UserError(`${file}: names no images (a trimmed recording needs none but its disks)`, ExitCode.BadInput);
  if (missing.length === images.length) throw new UserError(`${file}: no image is embedded (recorded without --embed); deja inspect ${file} lists them by path and sha256`, ExitCode.BadInput);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`${dir}: a file, not a folder (extract writes the images into a folder)`, ExitCode.BadInput);
  // Everything is checked before anything is written: a refusal leaves the folder as it was.
  const plan: { e: (typeof images)[number]; out: string; bytes: Uint8Array | null }[] = [];
  const names = new Map<string, string>(); // file name -> sha256
  for (const e of images) {
    const emb = rec.embedded.get(e.sha256);
    const name = basename(e.name);
    const out = join(dir, name);
    if (!emb) {
      plan.push({ e, out, bytes: null });
      continue;
    }
    // The frame's checksum covers transport; the hash says it is the image recorded.
    if (sha256(emb.bytes) !== e.sha256) throw new UserError(`${file}: embedded ${e.role} image ${e.name} does not match its sha256 in the manifest (corrupt recording)`, ExitCode.BadInput);
    if (names.has(name) && names.get(name) !== e.sha256) throw new UserError(`${file}: two different images are named ${name} (${e.role} and another); --images DIR could not tell them apart`, ExitCode.BadInput);
    if (!names.has(name) && existsSync(out) && sha256(readSafe(out)) !== e.sha256) throw new UserError(`${out}: exists with other bytes than the ${e.role} image recorded; not replaced (extract to an empty folder)`, ExitCode.BadInput);
    names.set(name, e.sha256);
    plan.push({ e, out, bytes: emb.bytes });
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw fileError(dir, 'make the folder', e);
  }
  const written = new Set<string>();
  const run: string[] = [];
  for (const { e, out, bytes } of plan) {
    if (!bytes) {
      process.stdout.write(`${e.role.padEnd(7)} ${basename(e.name)}: not embedded (sha256 ${e.sha256}); not written\n`);
      continue;
    }
    if (!written.has(out)) {
      try {
        writeFileSync(out, bytes);
      } catch (err) {
        throw fileError(out, 'write it', err);
      }
      written.add(out);
    }
    process.stdout.write(`${e.role.padEnd(7)} ${out}  ${bytes.length} bytes, sha256 ${e.sha256}\n`);
    run.push(RUN_OPTION[e.role] ?? `--${e.role}`, out);
  }
  const append = rec.header.config.append ? ` --append '${rec.header.config.append}'` : '';
  const boot = rec.header.start || !run.length ? '' : ` (boot them: deja run ${run.join(' ')}${append})`;
  process.stdout.write(`deja: extract: ${plural(written.size, 'image')} written to ${dir}${boot}\n`);
  if (missing.length) throw new UserError(`${file}: ${missing.length} of ${images.length} images are not embedded (${missing.map((e) => basename(e.name)).join(', ')}): the recording was made without them`, ExitCode.BadInput);
  return ExitCode.Ok;
}

function readSafe(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw fileError(path, 'read it', e);
  }
}
