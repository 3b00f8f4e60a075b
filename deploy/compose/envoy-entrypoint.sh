#!/bin/sh
# Renders deploy/envoy/envoy.yaml with the sensor's two secrets read from files (compose secrets), so neither sits
# in a committed file, then runs the command (envoy -c "$ENVOY_CONFIG" ...). Refuses values that would need quoting.
set -eu

ENVOY_CONFIG_TEMPLATE="${ENVOY_CONFIG_TEMPLATE:-/etc/meshward/envoy.yaml}"
ENVOY_CONFIG="${ENVOY_CONFIG:-/tmp/envoy.yaml}"
SENSOR_TOKEN_FILE="${SENSOR_TOKEN_FILE:-/run/secrets/envoy_sensor_token}"
TOKEN_HASH_KEY_FILE="${TOKEN_HASH_KEY_FILE:-/run/secrets/token_hash_key}"

# the first line that is neither blank nor a # comment
secret() {
  value="$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$1" | head -n 1 | tr -d '[:space:]')"
  case "$value" in
    '' | *[!A-Za-z0-9._~-]*)
      echo "envoy-entrypoint: $1 must hold one value of [A-Za-z0-9._~-]" >&2
      exit 1
      ;;
  esac
  printf '%s' "$value"
}

token="$(secret "$SENSOR_TOKEN_FILE")"
key="$(secret "$TOKEN_HASH_KEY_FILE")"
sed -e "s|REPLACE_WITH_SENSOR_TOKEN|$token|" -e "s|REPLACE_WITH_32_BYTE_HASH_KEY_000|$key|" \
  "$ENVOY_CONFIG_TEMPLATE" >"$ENVOY_CONFIG"
if grep -q 'REPLACE_WITH_' "$ENVOY_CONFIG"; then
  echo "envoy-entrypoint: $ENVOY_CONFIG still has a REPLACE_WITH_ placeholder" >&2
  exit 1
fi
exec "$@"
