#!/bin/sh
# Run every cmocka test binary given on the command line and close with one
# summary line "unit: N passed, N failed, N skipped" (test binaries, counted one each).
#
# TINYBRAIN_TEST_EMULATOR=qemu-aarch64-static (set by `make test-cross`) runs each binary
# under that emulator, with a time limit, and leaves out the tests that cannot run
# emulated, saying why:
#   test_oom   caps the address space (RLIMIT_AS) a little above what the process uses;
#              under qemu-user the cap applies to the emulator, which reserves the guest's
#              whole address space, so the child never gets to the allocation under test.
emu=${TINYBRAIN_TEST_EMULATOR:-}
pass=0; fail=0; skip=0; failed=""
for t in "$@"; do
  if [ -n "$emu" ]; then
    case "$(basename "$t")" in
      test_oom) echo "unit: skip $t under $emu (RLIMIT_AS caps the emulator, not the test)"
                skip=$((skip + 1)); continue ;;
    esac
    start=$(date +%s)
    timeout 900 "$emu" "$t"; rc=$?
    echo "unit: $t exit $rc, $(( $(date +%s) - start )) s under $emu"
  else
    "$t"; rc=$?
  fi
  if [ "$rc" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $t"; fi
done
echo "unit: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] || { echo "failed:$failed" >&2; exit 1; }
