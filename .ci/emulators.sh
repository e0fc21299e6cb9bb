#!/usr/bin/env bash
# Real storage servers for the object-storage tests, installed from the registries at pinned
# versions and run on loopback: moto (S3, PyPI) and Azurite (Azure Blob, npm).
#
#   .ci/emulators.sh install   # once per machine, into .ci/.emulators (about 70 s)
#   .ci/emulators.sh start     # prints the environment the tests read; `eval` it
#   .ci/emulators.sh stop
#
# `start` creates the bucket `demo-bucket` and the container `demo-container`. The tests read
# CE_TEST_S3_ENDPOINT and CE_TEST_AZURITE_ENDPOINT; without them they skip, saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${EMU_DIR:-$PWD/.ci/.emulators}
MOTO_VERSION=5.2.5
AZURITE_VERSION=3.35.0
MOTO_PORT=${MOTO_PORT:-5055}
AZ_PORT=${AZ_PORT:-10000}
ACCOUNT=devstoreaccount1
# Azurite's well-known development key (public, in Microsoft's documentation).
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

wait_http() { # url name
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "$1" && return 0
    kill -0 "$(cat "$DIR/$2.pid")" 2>/dev/null || { echo "$2 died:" >&2; cat "$DIR/$2.log" >&2; return 1; }
    sleep 0.1
  done
  echo "$2 did not answer at $1" >&2
  return 1
}

# A SharedKey-signed `PUT ?restype=container` (object_store cannot create containers).
make_container() {
  local name=$1 version=2021-08-06 date hexkey signature code
  date=$(LC_ALL=C TZ=GMT date '+%a, %d %b %Y %H:%M:%S GMT')
  hexkey=$(printf '%s' "$KEY" | base64 -d | od -An -tx1 | tr -d ' \n')
  signature=$(printf "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:${date}\nx-ms-version:${version}\n/${ACCOUNT}/${ACCOUNT}/${name}\nrestype:container" |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:${hexkey}" -binary | base64 -w0)
  code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
    "http://127.0.0.1:${AZ_PORT}/${ACCOUNT}/${name}?restype=container" \
    -H "x-ms-date: ${date}" -H "x-ms-version: ${version}" -H "Content-Length: 0" \
    -H "Authorization: SharedKey ${ACCOUNT}:${signature}")
  [[ $code == 201 || $code == 409 ]] || { echo "creating container $name: HTTP $code" >&2; return 1; }
}

stop_one() {
  local pidfile=$DIR/$1.pid pid
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

case ${1:-} in
install)
  mkdir -p "$DIR"
  if [[ ! -x $DIR/venv/bin/moto_server ]]; then
    python3 -m venv "$DIR/venv"
    "$DIR/venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
  if [[ ! -x $DIR/node/node_modules/.bin/azurite-blob ]]; then
    mkdir -p "$DIR/node"
    npm install --prefix "$DIR/node" --no-audit --no-fund --silent "azurite@$AZURITE_VERSION"
  fi
  ;;
start)
  "$0" install >&2
  stop_one moto
  stop_one azurite
  # exec: the saved pid is the server's own, not a wrapper's.
  (exec "$DIR/venv/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$DIR/moto.log" 2>&1 &
    echo $! >"$DIR/moto.pid")
  (exec "$DIR/node/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$AZ_PORT" \
    --inMemoryPersistence --skipApiVersionCheck --loose --disableTelemetry --silent \
    >"$DIR/azurite.log" 2>&1 & echo $! >"$DIR/azurite.pid")
  wait_http "http://127.0.0.1:$MOTO_PORT/" moto
  wait_http "http://127.0.0.1:$AZ_PORT/" azurite
  curl -sf -o /dev/null -X PUT "http://127.0.0.1:$MOTO_PORT/demo-bucket"
  make_container demo-container
  echo "export CE_TEST_S3_ENDPOINT=http://127.0.0.1:$MOTO_PORT"
  echo "export CE_TEST_AZURITE_ENDPOINT=http://127.0.0.1:$AZ_PORT"
  ;;
stop)
  stop_one moto
  stop_one azurite
  ;;
*)
  echo "usage: $0 install|start|stop" >&2
  exit 2
  ;;
esac
