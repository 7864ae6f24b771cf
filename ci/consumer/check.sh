#!/usr/bin/env bash
# The library as a dependent crate sees it (default features):
# - README.md's rust code blocks, each pasted as the main of its own binary, build and run;
# - the normal dependency tree has no CLI crate (clap, indicatif, console, anstream).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/consumer}"

# Every ```rust block of README.md becomes src/bin/readme_N.rs.
rm -rf src/bin
mkdir -p src/bin
awk -v dir=src/bin '
  /^```rust/ { n++; file = sprintf("%s/readme_%d.rs", dir, n); inblock = 1; next }
  /^```/ && inblock { inblock = 0; close(file); next }
  inblock { print > file }
' "$root/README.md"
count=$(ls src/bin | wc -l)
if [ "$count" -eq 0 ]; then
  echo "consumer: no rust code blocks found in README.md" >&2
  exit 1
fi

cargo build --quiet --bins
cargo run --quiet --bin sha256d-engine-consumer
for f in src/bin/readme_*.rs; do
  name=$(basename "$f" .rs)
  cargo run --quiet --bin "$name"
done

tree=$(cargo tree -e normal --prefix none)
lines=$(cargo tree -e normal | wc -l)
if echo "$tree" | grep -E '^(clap|clap_builder|clap_derive|indicatif|console|anstream|serde_derive) ' ; then
  echo "consumer: the library's default features pull in a CLI crate (above)" >&2
  exit 1
fi
echo "consumer: $count README examples ran; default dependency tree $lines lines, no CLI crates"
