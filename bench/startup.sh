#!/usr/bin/env bash
# Start-up of jasni's quick commands against a hello-world Go binary, in the
# same run: the median wall time of N runs of each (alternating, so a noisy
# machine weighs on both alike) and the peak RSS, with the ratios. Beside
# them, binaries whose main does nothing but which link the libraries jasni
# must use (the ngrok SDK, cobra, lipgloss), alone and together, and the MCP
# SDK: what linking each costs before jasni's own code runs.
#   bench/startup.sh            # N=60
#   N=200 bench/startup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-60}
dir=$(mktemp -d)
floor=.startup-floor # inside the module, for its go.mod's versions
trap 'rm -rf "$dir" "$floor"' EXIT
mkdir -p "$dir/hello"
cat >"$dir/hello/main.go" <<'GO'
package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
GO
(cd "$dir/hello" && printf 'module hello\ngo 1.26.0\n' >go.mod && go build -o "$dir/hello.bin" .)
go build -o "$dir/jasni" ./cmd/jasni
# floor NAME IMPORT...: a do-nothing binary linking those packages.
floor() {
  local name=$1; shift
  rm -rf "$floor"; mkdir -p "$floor"
  { echo 'package main'; echo 'import ('; echo '"os"'; printf '_ "%s"\n' "$@"; echo ')'
    echo 'func main() { os.Stdout.WriteString("hello\n") }'; } >"$floor/main.go"
  go build -o "$dir/$name" "./$floor"
}
floor ngrok golang.ngrok.com/ngrok/v2
floor cobra github.com/spf13/cobra
floor lipgloss github.com/charmbracelet/lipgloss
floor required golang.ngrok.com/ngrok/v2 github.com/spf13/cobra github.com/charmbracelet/lipgloss
floor mcp github.com/modelcontextprotocol/go-sdk/mcp
export XDG_CONFIG_HOME="$dir/config" XDG_STATE_HOME="$dir/state" NO_COLOR=1
python3 - "$dir" "$n" <<'PY'
import statistics, subprocess, sys, time
d, n = sys.argv[1], int(sys.argv[2])
cases = {
    "hello world": [f"{d}/hello.bin"],
    "version": [f"{d}/jasni", "version"],
    "--help": [f"{d}/jasni", "--help"],
    "fixtures list": [f"{d}/jasni", "fixtures", "list"],
    "__complete": [f"{d}/jasni", "__complete", "trigger", ""],
    "(ngrok SDK)": [f"{d}/ngrok"],
    "(cobra)": [f"{d}/cobra"],
    "(lipgloss)": [f"{d}/lipgloss"],
    "(all three)": [f"{d}/required"],
    "(MCP SDK)": [f"{d}/mcp"],
}
times = {k: [] for k in cases}
rss = {}
for _ in range(n):
    for k, argv in cases.items():
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[k].append(time.perf_counter() - t)
for k, argv in cases.items():
    # GNU time's own fork is small; a fork of this Python would count its size.
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rss[k] = int(out.stderr.strip().splitlines()[-1]) / 1024
base = statistics.median(times["hello world"])
print(f"{'command':<16}{'median':>10}{'× hello':>9}{'peak RSS':>11}{'× hello':>9}")
print("(in brackets: a main that does nothing, linking only that library)")
for k in cases:
    m = statistics.median(times[k])
    print(f"{k:<16}{m*1000:>8.1f}ms{m/base:>8.2f}×{rss[k]:>8.1f}MiB{rss[k]/rss['hello world']:>8.2f}×")
PY
