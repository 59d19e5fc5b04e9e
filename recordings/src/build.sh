#!/usr/bin/env bash
# Builds the guest programs behind the sample recordings: recordings/src/NAME.S becomes
# recordings/build/NAME.elf, with the flags and header (macros.h) of the bare-metal test
# programs in test/guest/isa, but a compact layout (link.ld here, no file padding) so the
# ELF a recording embeds stays small. The recordings embed their ELF: this is needed only
# to make a recording again (recordings/src/record-ticker.mjs).
#
# Needs a RISC-V cross compiler: riscv64-unknown-elf-gcc (Debian: gcc-riscv64-unknown-elf)
# or riscv64-linux-gnu-gcc. RISCV_CC overrides the choice.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
isa="$root/test/guest/isa"
out="$root/recordings/build"

cc="${RISCV_CC:-}"
if [ -z "$cc" ]; then
  for c in riscv64-unknown-elf-gcc riscv64-linux-gnu-gcc riscv32-unknown-elf-gcc; do
    if command -v "$c" >/dev/null 2>&1; then cc="$c"; break; fi
  done
fi
if [ -z "$cc" ] || ! command -v "$cc" >/dev/null 2>&1; then
  echo "build.sh: no RISC-V cross compiler found; install one with: apt-get install gcc-riscv64-unknown-elf" >&2
  exit 1
fi

cflags=(
  -march=rv32imac_zicsr_zifencei -mabi=ilp32
  -nostdlib -nostartfiles -static -no-pie -fno-pic -ffreestanding
  -Wl,--build-id=none -Wl,--no-relax -Wl,-n
  -I"$isa" -T "$here/link.ld"
)
ld_help="$("$("$cc" -print-prog-name=ld)" --help 2>/dev/null || true)"
if [[ "$ld_help" == *--no-warn-rwx-segments* ]]; then
  cflags+=(-Wl,--no-warn-rwx-segments)
fi

mkdir -p "$out"
for s in "$here"/*.S; do
  name="$(basename "$s" .S)"
  tmp="$out/$name.elf.tmp.$$"
  "$cc" "${cflags[@]}" -o "$tmp" "$s"
  mv -f "$tmp" "$out/$name.elf"
  echo "built recordings/build/$name.elf"
done
