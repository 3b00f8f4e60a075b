#!/bin/sh
# Fills deploy/nginx-logs/nginx.conf.template (with the explicit variable list its header names) and runs the command
# (nginx -p "$MESHWARD_PREFIX" -c "$MESHWARD_PREFIX/nginx.conf" ...). The token hash key comes from a file.
set -eu

MESHWARD_NGINX_TEMPLATE="${MESHWARD_NGINX_TEMPLATE:-/etc/meshward/nginx-logs/nginx.conf.template}"
MESHWARD_TOKEN_HASH_KEY_FILE="${MESHWARD_TOKEN_HASH_KEY_FILE:-/run/secrets/token_hash_key}"
: "${MESHWARD_PREFIX:?}" "${MESHWARD_LISTEN:?}" "${MESHWARD_UPSTREAM:?}" "${MESHWARD_SYSLOG:?}" "${MESHWARD_CONF_DIR:?}"

MESHWARD_TOKEN_HASH_KEY="$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$MESHWARD_TOKEN_HASH_KEY_FILE" | head -n 1 | tr -d '[:space:]')"
case "$MESHWARD_TOKEN_HASH_KEY" in
  '' | *[!A-Za-z0-9._~-]*)
    echo "nginx-entrypoint: $MESHWARD_TOKEN_HASH_KEY_FILE must hold one value of [A-Za-z0-9._~-]" >&2
    exit 1
    ;;
esac
export MESHWARD_PREFIX MESHWARD_LISTEN MESHWARD_UPSTREAM MESHWARD_SYSLOG MESHWARD_CONF_DIR MESHWARD_TOKEN_HASH_KEY

mkdir -p "$MESHWARD_PREFIX"
# shellcheck disable=SC2016 # the list names the variables envsubst may replace; nginx's own $variables stay
envsubst '${MESHWARD_PREFIX} ${MESHWARD_LISTEN} ${MESHWARD_UPSTREAM} ${MESHWARD_SYSLOG} ${MESHWARD_CONF_DIR} ${MESHWARD_TOKEN_HASH_KEY}' \
  <"$MESHWARD_NGINX_TEMPLATE" >"$MESHWARD_PREFIX/nginx.conf"
exec "$@"
