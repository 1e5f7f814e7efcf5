#!/usr/bin/env bash
# Benchmarks `jasni trigger` in load mode against hey and wrk, in one run
# on loopback, so a noisy machine moves all alike: the same nginx `return
# 200` endpoint, the same body and headers, the same concurrency. hey and
# jasni send N requests, whole processes timed (start-up included); wrk
# runs for as long as hey took (it has no request count) with a Lua script
# sending the same request, and reports its own requests/s. jasni runs
# twice: fresh signed deliveries (the default) and one identical delivery
# (--same, what hey and wrk send). Prints each requests/s and the ratios.
# nginx, hey and wrk come from Debian (installed here if missing). Usage:
#   bench/trigger.sh                     # N=100000 CONC=32 RUNS=3
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-100000}
conc=${CONC:-32}
runs=${RUNS:-3}

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v hey >/dev/null 2>&1 || need+=(hey)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]} from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/body;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$port; location / { return 200; } }
}
CONF
"$nginx" -c "$work/nginx.conf" -p "$work"
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port/webhooks/jasni"

echo "== building jasni"
go build -o "$work/jasni" ./cmd/jasni
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
secret=whsec_bench
# The body hey sends: the one jasni sends, taken from a real delivery.
"$work/jasni" fixtures show email.received | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), separators=(",",":")), end="")' >"$work/body.json"

# wrk sends the same request: the body, its content type and a signature.
sig=$("$work/jasni" sign "$work/body.json" --secret "$secret")
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
local f = io.open("$work/body.json", "rb"); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Webhook-Signature"] = "$sig"
LUA
threads=$(nproc)

# rps runs a command and prints requests/s over the whole process's time.
rps() {
  local start end
  start=$(date +%s.%N)
  "$@" >"$work/out" 2>&1 || { cat "$work/out"; return 1; }
  end=$(date +%s.%N)
  python3 -c "print(f'{$n/($end-$start):.0f}')"
}

echo "== $n requests at concurrency $conc, $runs rounds (nginx return 200 on one worker; wrk -t $threads)"
printf "%-6s %9s %9s %12s %13s %9s %9s %9s %9s\n" round hey wrk "jasni fresh" "jasni --same" fresh/hey same/hey fresh/wrk same/wrk
for r in $(seq "$runs"); do
  h=$(rps hey -n "$n" -c "$conc" -m POST -T application/json -D "$work/body.json" -disable-compression "$url")
  secs=$(python3 -c "print(max(2, round($n/$h)))")
  w=$(wrk -t "$threads" -c "$conc" -d "${secs}s" -s "$work/post.lua" "$url" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  f=$(rps "$work/jasni" trigger email.received --count "$n" -c "$conc" --url "$url" --secret "$secret" -o json)
  s=$(rps "$work/jasni" trigger email.received --count "$n" -c "$conc" --same --url "$url" --secret "$secret" -o json)
  python3 -c "print(f'{$r:<6} {$h:>9} {$w:>9} {$f:>12} {$s:>13} {$f/$h:>9.2f} {$s/$h:>9.2f} {$f/$w:>9.2f} {$s/$w:>9.2f}')"
done
