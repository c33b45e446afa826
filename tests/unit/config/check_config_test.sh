#!/bin/sh
# hpand --check-config: "ok" and exit 0 for a good file; every error, each with
# file:line:col: key, and exit 1 for a bad one; it starts nothing.
set -u
hpand="$1"; data="$2"
fail() { echo "FAIL: $*"; exit 1; }
out=$("$hpand" --check-config "$data/good.yaml" 2>&1) || fail "good.yaml rejected: $out"
[ "$out" = "ok" ] || fail "expected ok, got: $out"
out=$("$hpand" --check-config "$data/bad.yaml" 2>&1) && fail "bad.yaml accepted"
echo "$out" | grep -q '^bad.yaml:3:12: delivery.retry.first: expected a duration' || fail "no retry.first error: $out"
echo "$out" | grep -q '^bad.yaml:4:3: delivery.concurency: unknown key (did you mean delivery.concurrency?)' || fail "no unknown key error: $out"
echo "$out" | grep -q '^bad.yaml:5:15: log.level: expected one of' || fail "no log.level error: $out"
[ "$(echo "$out" | wc -l)" -eq 3 ] || fail "expected exactly 3 errors: $out"
out=$("$hpand" --check-config /nonexistent.yaml 2>&1) && fail "missing file accepted"
echo "$out" | grep -q 'nonexistent.yaml' || fail "missing file not named: $out"
echo "check-config: 3 cases passed"
