// The recording's header and image manifest, and finding images again at replay.

import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { MachineConfig, ImageBytes } from '../machine/machine.js';
import type { ImageEntry, RecordingHeader } from './format.js';
import type { Recording } from './reader.js';
import { INSNS_PER_TICK, TIMEBASE_HZ } from '../machine/clock.js';
import { UserError, ExitCode } from '../errors.js';
import { readInput } from '../input-files.js';
import { DEJA_VERSION } from '../version.js';

/** Instructions between checkpoints unless --checkpoint-every says otherwise. */
export const DEFAULT_CHECKPOINT_EVERY = 20_000_000;


type Role = 'bios' | 'kernel' | 'initrd' | 'elf';
const ROLES: Role[] = ['bios', 'kernel', 'initrd', 'elf'];

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function configImages(c: MachineConfig): { role: string; img: ImageBytes }[] {
  const out: { role: string; img: ImageBytes }[] = [];
  for (const r of ROLES) if (c[r]) out.push({ role: r, img: c[r]! });
  c.disks.forEach((d) => out.push({ role: 'disk', img: d }));
  return out;
}

export function recordingHeader(c: MachineConfig, settings: Record<string, unknown>, checkpointEvery: number): RecordingHeader {
  return {
    deja: DEJA_VERSION,
    created: new Date().toISOString(),
    config: { ramBytes: c.ramBytes, append: c.append, disks: c.disks.map((d) => ({ name: d.name, readonly: d.readonly })), checkpointEvery, debugTriggers: c.debugTriggers !== false },
    // Absolute paths, so a replay from another directory finds the images again.
    images: configImages(c).map(({ role, img }): ImageEntry => ({
      role, name: resolve(img.name), size: img.bytes.length, sha256: sha256(img.bytes), addr: 0, embedded: false,
    })),
    argv: process.argv.slice(2),
    clock: { timebaseHz: TIMEBASE_HZ, insnsPerTick: INSNS_PER_TICK },
    settings,
  };
}

export function embeddedImages(c: MachineConfig): { role: string; name: string; sha256: string; bytes: Uint8Array }[] {
  const out = configImages(c).map(({ role, img }) => ({ role, name: resolve(img.name), sha256: sha256(img.bytes), bytes: img.bytes }));
  // Identical images (two copies of one disk) are embedded once.
  return out.filter((img, i) => out.findIndex((o) => o.sha256 === img.sha256) === i);
}

/** Rebuilds the machine configuration of a recording, finding and checking every image. */
export function replayConfig(rec: Recording, imagesDir?: string): MachineConfig {
  const h = rec.header;
  // A folder given to look in must be one, whether or not this recording needs it.
  if (imagesDir !== undefined && !(existsSync(imagesDir) && statSync(imagesDir).isDirectory())) {
    throw new UserError(`--images ${imagesDir}: ${existsSync(imagesDir) ? 'not a folder' : 'no such folder'}`, ExitCode.BadInput);
  }
  const find = (e: ImageEntry): ImageBytes => {
    const emb = rec.embedded.get(e.sha256);
    if (emb) {
      // The frame's checksum covers transport; the hash says it is the image recorded.
      if (sha256(emb.bytes) !== e.sha256) throw new UserError(`${rec.path}: embedded ${e.role} image ${e.name} does not match its sha256 in the manifest (corrupt recording)`, ExitCode.BadInput);
      return { name: e.name, bytes: emb.bytes };
    }
    const candidates = [imagesDir ? join(imagesDir, basename(e.name)) : null, e.name].filter((p): p is string => !!p);
    const path = candidates.find((p) => existsSync(p));
    if (!path) {
      throw new UserError(`${rec.path}: ${e.role} image ${e.name} is not embedded and not found${imagesDir ? ` (also looked in ${imagesDir})` : ''}: give --images DIR`, ExitCode.BadInput);
    }
    const bytes = readInput(path, `${e.role} image`);
    const got = sha256(bytes);
    if (got !== e.sha256) {
      throw new UserError(`${path}: ${e.role} image does not match the one recorded in ${rec.path} (sha256 ${got.slice(0, 12)}…, recorded ${e.sha256.slice(0, 12)}…)`, ExitCode.BadInput);
    }
    return { name: e.name, bytes };
  };
  // A trimmed recording's machine is built blank and gets its starting state (rec.start).
  const config: MachineConfig = { ramBytes: h.config.ramBytes, append: h.config.append, disks: [], debugTriggers: h.config.debugTriggers === true, blank: h.start !== undefined };
  for (const e of h.images) {
    if (e.role === 'disk') {
      const d = h.config.disks[config.disks.length];
      config.disks.push({ ...find(e), readonly: d?.readonly ?? false });
    } else if ((ROLES as string[]).includes(e.role) && !config[e.role as Role]) config[e.role as Role] = find(e);
    else throw new UserError(`${rec.path}: the image manifest has ${config[e.role as Role] ? 'a second' : 'an unknown'} image role '${e.role}'`, ExitCode.BadInput);
  }
  return config;
}

