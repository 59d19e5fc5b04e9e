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

# shellcheck source=../../test/guest/toolchain.sh
source "$root/test/guest/toolchain.sh"
cflags+=(-Wl,-n -I"$isa" -T "$here/link.ld")

mkdir -p "$out"
for s in "$here"/*.S; do
  name="$(basename "$s" .S)"
  tmp="$out/$name.elf.tmp.$$"
  "$cc" "${cflags[@]}" -o "$tmp" "$s"
  mv -f "$tmp" "$out/$name.elf"
  echo "built recordings/build/$name.elf"
done
