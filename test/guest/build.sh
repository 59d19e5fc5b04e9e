#!/usr/bin/env bash
# Builds the bare-metal guest test programs: every test/guest/isa/NAME.S becomes
# test/guest/build/NAME.elf. Make-like: a program is rebuilt only when its source, the
# common header, the linker script or this script is newer than its ELF.
#
#   test/guest/build.sh           build what is out of date
#   test/guest/build.sh --force   rebuild everything
#   test/guest/build.sh --qemu    also build test/guest/build/qemu/NAME.elf, which end
#                                 through the virt test finisher, to check a program on
#                                 qemu-system-riscv32 -M virt -bios none -kernel NAME.elf
#
# Needs a RISC-V cross compiler: riscv64-unknown-elf-gcc (Debian: gcc-riscv64-unknown-elf)
# or riscv64-linux-gnu-gcc. RISCV_CC overrides the choice.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/isa"
out="$here/build"

force=0
qemu=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --qemu) qemu=1 ;;
    *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# shellcheck source=toolchain.sh
source "$here/toolchain.sh"
cflags+=(-I"$src" -T "$src/link.ld")

# newer A B: true if A is newer than B (or B is missing).
newer() { [ ! -e "$2" ] || [ "$1" -nt "$2" ]; }

# build SRC ELF [extra flags...]
build() {
  local s="$1" elf="$2"
  shift 2
  local stale=$force
  for dep in "$s" "$src/macros.h" "$src/link.ld" "${BASH_SOURCE[0]}" "$here/toolchain.sh"; do
    if newer "$dep" "$elf"; then stale=1; fi
  done
  [ "$stale" = 1 ] || return 0
  # Build to a temporary name and rename: concurrent builds never see half an ELF.
  local tmp="$elf.tmp.$$"
  if ! "$cc" "${cflags[@]}" "$@" -o "$tmp" "$s"; then
    rm -f "$tmp"
    echo "build.sh: failed to build $s" >&2
    return 1
  fi
  mv -f "$tmp" "$elf"
  echo "built ${elf#"$here"/}"
}

mkdir -p "$out"
[ "$qemu" = 1 ] && mkdir -p "$out/qemu"
status=0
shopt -s nullglob
sources=("$src"/*.S)
if [ "${#sources[@]}" = 0 ]; then
  echo "build.sh: no sources in $src" >&2
  exit 1
fi
for s in "${sources[@]}"; do
  name="$(basename "$s" .S)"
  build "$s" "$out/$name.elf" || status=1
  if [ "$qemu" = 1 ]; then build "$s" "$out/qemu/$name.elf" -DQEMU_SYSCON || status=1; fi
done
exit $status
