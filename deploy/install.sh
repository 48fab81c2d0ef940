#!/usr/bin/env bash
# Installs ttad on this machine: binary, systemd unit, default config and the bundled models
# (the Fashion-MNIST CLIP of the default config, the embedding-mode example). Run from a checkout as root after `swift build -c release`.
#   sudo deploy/install.sh            # install (keeps an existing /etc/ttad/ttad.toml)
#   sudo systemctl enable --now ttad
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
ETC=${ETC:-/etc/ttad}
UNITDIR=${UNITDIR:-/etc/systemd/system}
BIN=.build/release/ttad
[[ -x $BIN ]] || { echo "install: $BIN missing; run: swift build -c release" >&2; exit 1; }

install -D -m 0755 "$BIN" "$PREFIX/bin/ttad"
install -d -m 0755 "$ETC" "$PREFIX/share/ttad"
cp -r deploy/models "$PREFIX/share/ttad/"
chmod -R a+rX "$PREFIX/share/ttad/models"   # the service runs as a DynamicUser
if [[ ! -e $ETC/ttad.toml ]]; then
  sed -e "s|models/|$PREFIX/share/ttad/models/|" deploy/ttad.toml > "$ETC/ttad.toml"
  chmod 0644 "$ETC/ttad.toml"
else
  echo "install: keeping existing $ETC/ttad.toml"
fi
install -d -m 0755 "$UNITDIR"
sed -e "s|/usr/local/|$PREFIX/|g" systemd/ttad.service > "$UNITDIR/ttad.service"
chmod 0644 "$UNITDIR/ttad.service"
install -D -m 0644 README.md "$PREFIX/share/doc/ttad/README.md"
if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
fi
"$PREFIX/bin/ttad" check-config --config "$ETC/ttad.toml" >/dev/null
echo "installed: $PREFIX/bin/ttad, $UNITDIR/ttad.service, $ETC/ttad.toml"
echo "start with: systemctl enable --now ttad"
