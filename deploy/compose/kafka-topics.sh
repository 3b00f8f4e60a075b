#!/bin/sh
# Creates meshward's topics (pipeline/bus/bus.ts TOPICS) before any meshward process starts, so they get their
# partition counts instead of the broker's auto-create default. Idempotent. Run with the apache/kafka image:
#   KAFKA_BOOTSTRAP=kafka:9092 sh kafka-topics.sh
# meshward.calls is keyed by service and consumed by the correlator group: its partitions bound how many
# correlators share the work (12 = up to 12 correlators).
set -eu

KAFKA_BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:9092}"
KAFKA_TOPICS_BIN="${KAFKA_TOPICS_BIN:-/opt/kafka/bin/kafka-topics.sh}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-1}"

# <topic>:<partitions>
TOPICS="meshward.calls:12 meshward.calls.by-trace:12 meshward.calls.by-token:12 meshward.calls.dlq:3 meshward.alerts:6 meshward.decisions:3"

for spec in $TOPICS; do
  topic="${spec%%:*}"
  partitions="${spec##*:}"
  "$KAFKA_TOPICS_BIN" --bootstrap-server "$KAFKA_BOOTSTRAP" --create --if-not-exists \
    --topic "$topic" --partitions "$partitions" --replication-factor "$REPLICATION_FACTOR"
done
"$KAFKA_TOPICS_BIN" --bootstrap-server "$KAFKA_BOOTSTRAP" --list
