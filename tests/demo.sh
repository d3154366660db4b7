#!/bin/sh
# make demo: the whole story with defaults, deterministic under the default seed.
# Each step is an ordinary tinybrain command; lesson 00 walks through the same steps.
set -e
cd "$(dirname "$0")/.."
tb=./tinybrain
step() { printf '\n=== %s\n' "$*"; }

step "1. the toyworld corpus and its entropy floor (lesson 01)"
$tb corpus --stats
