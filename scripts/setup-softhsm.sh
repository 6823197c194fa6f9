#!/usr/bin/env bash
# Creates (once) a SoftHSM2 token for the pkcs11: root-of-trust tests in a directory of its own:
# <dir>/softhsm2.conf points SoftHSM at <dir>/tokens, where a token labelled `macaw` (user PIN
# 1234, SO PIN 5678) is initialized unless one already exists. Safe to run again.
# Usage: scripts/setup-softhsm.sh <dir>   then   export SOFTHSM2_CONF=<dir>/softhsm2.conf
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 <dir>" >&2
  exit 2
fi
if ! command -v softhsm2-util >/dev/null 2>&1; then
  echo "softhsm2-util not found: install SoftHSM2 (Debian: apt-get install softhsm2)" >&2
  exit 1
fi

mkdir -p "$1/tokens"
dir="$(cd "$1" && pwd)"
conf="$dir/softhsm2.conf"
# Written every time, so a moved directory still points at its own tokens.
cat >"$conf" <<EOF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
slots.mechanisms = ALL
library.reset_on_fork = false
EOF
export SOFTHSM2_CONF="$conf"

# softhsm2-util prints one "Label: <label>" line per slot, blank-padded to 32 characters.
if softhsm2-util --show-slots 2>/dev/null | grep -Eq '^[[:space:]]*Label:[[:space:]]+macaw[[:space:]]*$'; then
  echo "SoftHSM2 token 'macaw' already exists in $dir/tokens"
else
  softhsm2-util --init-token --free --label macaw --pin 1234 --so-pin 5678 >/dev/null
  echo "created SoftHSM2 token 'macaw' in $dir/tokens"
fi
echo "export SOFTHSM2_CONF=$conf"
