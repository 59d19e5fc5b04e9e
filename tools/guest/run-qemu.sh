#!/usr/bin/env bash
# run-qemu.sh MODE [extra qemu args...]
#
# Boot the rv32 reference guest on qemu-system-riscv32 -M virt.
#   MODE: boot | bench | stress | kernel | panic | shell  (default: boot)
#
# Environment:
#   OUT=dir       artifacts from build.sh (default: ./out next to this script)
#   FW=jump|dynamic   OpenSBI flavour (default: jump)
#   APPEND_EXTRA="..."  appended to the kernel command line (e.g. benchiter=1000)
#   QEMU=path     qemu binary (default: qemu-system-riscv32)
#
# Every mode ends the QEMU process by itself: boot/bench/stress/kernel/shell power
# off (SBI SRST shutdown -> OpenSBI -> sifive_test "syscon-poweroff"), panic
# resets (panic=-1 -> SBI SRST reset -> QEMU exits because of -no-reboot).
# QEMU's exit status is 0 in all of these cases.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODE=${1:-boot}
[ $# -gt 0 ] && shift
OUT=${OUT:-${DEJA_GUEST_DIR:-${DEJA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deja}/guest/current}}
FW=${FW:-jump}
QEMU=${QEMU:-qemu-system-riscv32}

case "$MODE" in
    boot|bench|stress|kernel|panic|shell) ;;
    *) echo "usage: $0 boot|bench|stress|kernel|panic|shell [qemu args...]" >&2; exit 2 ;;
esac
for f in "fw_$FW.bin" Image initramfs.cpio; do
    [ -f "$OUT/$f" ] || { echo "run-qemu.sh: $OUT/$f missing (run build.sh)" >&2; exit 2; }
done

APPEND="console=ttyS0 earlycon=sbi panic=-1 initmode=$MODE${APPEND_EXTRA:+ $APPEND_EXTRA}"

exec "$QEMU" -M virt -m 128M -nographic -no-reboot \
    -bios "$OUT/fw_$FW.bin" \
    -kernel "$OUT/Image" \
    -initrd "$OUT/initramfs.cpio" \
    -append "$APPEND" \
    "$@"
