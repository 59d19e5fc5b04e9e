#!/usr/bin/env bash
# Runs the QEMU builds of the ISA test programs (test/guest/build.sh --qemu) on
# qemu-system-riscv32 -M virt, to check the programs themselves against another
# implementation. Each ends through the virt test finisher: exit status 0 is a pass,
# otherwise the status is the failing test number (mod 256; the console says more).
#   test/guest/run-qemu.sh [NAME...]
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/build.sh" --qemu >/dev/null || exit 1
names=("$@")
if [ "${#names[@]}" = 0 ]; then
  for f in "$here"/build/qemu/*.elf; do names+=("$(basename "$f" .elf)"); done
fi
status=0
for n in "${names[@]}"; do
  out="$(timeout 20 qemu-system-riscv32 -M virt -m 64M -smp 1 -nographic -bios none \
    -kernel "$here/build/qemu/$n.elf" -monitor none -serial stdio 2>&1)"
  rc=$?
  if [ $rc = 0 ]; then echo "pass $n"; else echo "FAIL $n (status $rc) $out"; status=1; fi
done
exit $status
