#!/usr/bin/env bash
# Property-based API tests: schemathesis (pinned, in a venv under target/) against a live
# `peregrine serve` with an embedded SQLite store in a temporary directory, the sample
# replayed into it, every phase (examples, coverage, fuzzing, stateful) and every check.
# Fails on any failure or error. Bounded: ~30 examples per operation, 10 s per request,
# and the whole run is stopped after PEREGRINE_SCHEMATHESIS_TIMEOUT seconds (600).
#
#   PEREGRINE_BIN    the peregrine binary (default: dist/peregrine, else target/debug/peregrine)
#   PEREGRINE_RULES  a directory of rule modules (default: dist/rules, else the tests' build)
#
# `cargo xtask schemathesis` builds both and runs this; `cargo xtask test` does too with
# PEREGRINE_SCHEMATHESIS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
version=4.32.5
venv=$root/target/schemathesis/venv
examples=${PEREGRINE_SCHEMATHESIS_EXAMPLES:-30}
budget=${PEREGRINE_SCHEMATHESIS_TIMEOUT:-600}

pick() { for p in "$@"; do [ -e "$p" ] && { echo "$p"; return; }; done; echo "$1"; }
bin=${PEREGRINE_BIN:-$(pick dist/peregrine target/debug/peregrine)}
rules=${PEREGRINE_RULES:-$(pick dist/rules target/rules-wasm/modules/rules)}
[ -x "$bin" ] || { echo "schemathesis: no peregrine binary at $bin (cargo xtask schemathesis builds one)" >&2; exit 1; }
ls "$rules"/*.wasm >/dev/null 2>&1 || { echo "schemathesis: no rule modules in $rules" >&2; exit 1; }

if ! "$venv/bin/st" --version 2>/dev/null | grep -qF "$version"; then
    echo "schemathesis: installing schemathesis $version into $venv" >&2
    rm -rf "$venv"
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

work=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/intel"
cp -r samples/intel/. "$work/intel/"
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(16))')
url=http://127.0.0.1:$port

PEREGRINE_ADMIN_TOKENS=$token "$bin" serve \
    --listen "127.0.0.1:$port" \
    --database-url "sqlite://$work/peregrine.db?mode=rwc" \
    --rules "$rules" --intel "$work/intel" \
    --replay samples/attack-scenario.jsonl \
    >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 120); do
    if grep -q "replayed .* to its end" "$work/serve.log" 2>/dev/null; then break; fi
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; echo "schemathesis: serve exited" >&2; exit 1; }
    sleep 0.5
done
grep -q "replayed .* to its end" "$work/serve.log" || { cat "$work/serve.log" >&2; echo "schemathesis: serve did not replay the sample in 60 s" >&2; exit 1; }

# One worker: Python 3.11's ast module is not safe to use from several threads, which
# hypothesis does when it describes strategies.
# Run from target/schemathesis, where st keeps its crash cache (for `st replay`).
status=0
cd "$root/target/schemathesis"
timeout --kill-after=10 "$budget" "$venv/bin/st" --config-file "$root/scripts/schemathesis.toml" run "$url/v1/openapi.json" \
    --url "$url" \
    --header "Authorization: Bearer $token" \
    --phases examples,coverage,fuzzing,stateful \
    --checks all \
    --max-examples "$examples" \
    --request-timeout 10 \
    --workers 1 \
    --no-color \
    --generation-database none \
    "$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "schemathesis: failed (exit $status); the server's log:" >&2
    tail -n 50 "$work/serve.log" >&2
    exit "$status"
fi
echo "schemathesis: no failures"
