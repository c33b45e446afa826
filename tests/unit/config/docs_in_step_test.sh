#!/bin/sh
# docs/config.md and docs/hpand.yaml.example are generated from the settings table;
# they must match what this hpand prints. Regenerate with:
#   build/daemon/hpand --config-docs > docs/config.md
#   build/daemon/hpand --dump-default-config > docs/hpand.yaml.example
set -u
hpand="$1"; src="$2"
"$hpand" --config-docs | diff -u "$src/docs/config.md" - || { echo "FAIL: docs/config.md is out of date"; exit 1; }
"$hpand" --dump-default-config | diff -u "$src/docs/hpand.yaml.example" - || { echo "FAIL: docs/hpand.yaml.example is out of date"; exit 1; }
echo "docs in step"
