#!/usr/bin/env bash
# Prints the shipped default configuration (deploy/ttad.toml) with its model path made absolute and
# its [adaptation] table replaced by `preset = PRESET` plus any EXTRA keys, for the evaluation
# scripts (frozen_baselines.sh, preset_runs.sh, live_latency.sh).
#
#   tools/preset_config.sh PRESET [EXTRA] > my.toml      # e.g. tools/preset_config.sh ttad 'anchor_weight = 0.1'
set -euo pipefail
cd "$(dirname "$0")/.."
sed -e "s|^folder = \"models/|folder = \"$PWD/deploy/models/|" -e '/^\[adaptation\]/,/^preset/d' deploy/ttad.toml
printf '\n[adaptation]\npreset = "%s"\n%s\n' "$1" "${2:-}"
