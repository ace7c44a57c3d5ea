#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run the layer reader's fuzz target for a bounded time, as one TAP test:
#   run.sh FUZZER SEED_DIR SECONDS
# The seeds (tests/layers: hostile and good archives) are copied into a
# scratch corpus; the fuzzer unpacks into a scratch TMPDIR; both go at the
# end.  A crash, leak, timeout or escape fails the test (libFuzzer exits
# non-zero and leaves the input in the scratch dir, whose path is printed).
set -u
fuzzer=$1 seeds=$2 secs=$3
scratch=$(mktemp -d "${TMPDIR:-/tmp}/libbox-fuzz-XXXXXX") || exit 1
mkdir "$scratch/corpus" "$scratch/tmp" "$scratch/artifacts"
cp "$seeds"/*.tar* "$scratch/corpus/" 2>/dev/null
echo "1..1"
TMPDIR=$scratch/tmp "$fuzzer" -max_total_time="$secs" -max_len=65536 -timeout=20 \
	-rss_limit_mb=2048 -artifact_prefix="$scratch/artifacts/" "$scratch/corpus" \
	>"$scratch/log" 2>&1
rc=$?
runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$scratch/log" | tail -n 1)
if [ "$rc" = 0 ]; then
	echo "ok 1 - fuzz_layer: ${runs:-?} inputs in ${secs}s, no crash"
	rm -rf "$scratch"
	exit 0
fi
sed 's/^/# /' "$scratch/log" | tail -n 60
rm -rf "$scratch/tmp" "$scratch/corpus"
echo "not ok 1 - fuzz_layer: exit status $rc (the input: $scratch/artifacts)"
exit 1
