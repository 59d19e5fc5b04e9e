# Sourced by the bare-metal build scripts (test/guest/build.sh, recordings/src/build.sh):
# picks a RISC-V cross compiler into `cc` (RISCV_CC overrides) and sets `cflags` to the
# flags every bare-metal program is built with; callers add their include path and
# linker script.

cc="${RISCV_CC:-}"
if [ -z "$cc" ]; then
  for c in riscv64-unknown-elf-gcc riscv64-linux-gnu-gcc riscv32-unknown-elf-gcc; do
    if command -v "$c" >/dev/null 2>&1; then cc="$c"; break; fi
  done
fi
if [ -z "$cc" ] || ! command -v "$cc" >/dev/null 2>&1; then
  if [ -n "${RISCV_CC:-}" ]; then
    echo "build.sh: RISCV_CC=$RISCV_CC: no such compiler." >&2
  else
    echo "build.sh: no RISC-V cross compiler found (looked for riscv64-unknown-elf-gcc, riscv64-linux-gnu-gcc)." >&2
  fi
  echo "build.sh: install one with: apt-get install gcc-riscv64-unknown-elf" >&2
  exit 1
fi

cflags=(
  -march=rv32imac_zicsr_zifencei -mabi=ilp32
  -nostdlib -nostartfiles -static -no-pie -fno-pic -ffreestanding
  -Wl,--build-id=none -Wl,--no-relax
)
# Newer binutils warn about the RWX segment a bare-metal program has on purpose.
ld_help="$("$("$cc" -print-prog-name=ld)" --help 2>/dev/null || true)"
if [[ "$ld_help" == *--no-warn-rwx-segments* ]]; then
  cflags+=(-Wl,--no-warn-rwx-segments)
fi
