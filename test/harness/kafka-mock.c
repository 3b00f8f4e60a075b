/*
 * A Kafka cluster for tests: librdkafka's built-in mock cluster, driven over stdin.
 *
 *   kafka-mock [--brokers N] [--topic name:partitions]...
 *
 * First stdout line: the bootstrap servers ("127.0.0.1:p1,127.0.0.1:p2,...").
 * Then one command per stdin line, each answered by one stdout line ("ok" or "err <reason>"):
 *   down <brokerId>                  disconnect a broker and refuse new connections (-1 = all)
 *   up <brokerId>                    accept connections again
 *   topic <name> <partitions>        create a topic (replication = min(3, brokers))
 *   leader <topic> <partition> <id>  move a partition's leadership
 *   rtt <brokerId> <ms>              add round-trip delay to a broker
 *   errors <apiKey> <count> <code>   fail the next <count> requests of that type with Kafka error <code>
 * Exits cleanly on SIGTERM/SIGINT or stdin EOF.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static int replication_for(int brokers) { return brokers < 3 ? brokers : 3; }

static void answer(rd_kafka_resp_err_t err) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
    printf("ok\n");
  else
    printf("err %s\n", rd_kafka_err2str(err));
  fflush(stdout);
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec, int brokers) {
  char name[512];
  const char *colon = strrchr(spec, ':');
  int partitions = 1;
  size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
  if (len == 0 || len >= sizeof(name)) return -1;
  memcpy(name, spec, len);
  name[len] = '\0';
  if (colon) partitions = atoi(colon + 1);
  if (partitions <= 0) return -1;
  return rd_kafka_mock_topic_create(mc, name, partitions, replication_for(brokers)) == RD_KAFKA_RESP_ERR_NO_ERROR
             ? 0
             : -1;
}

int main(int argc, char **argv) {
  int brokers = 3;
  char errstr[512];

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) brokers = atoi(argv[++i]);
  }
  if (brokers <= 0) {
    fprintf(stderr, "kafka-mock: --brokers must be positive\n");
    return 2;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal; /* no SA_RESTART: a blocked read returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!rk) {
    fprintf(stderr, "kafka-mock: rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    fprintf(stderr, "kafka-mock: could not create the mock cluster\n");
    rd_kafka_destroy(rk);
    return 1;
  }

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
      if (create_topic(mc, argv[++i], brokers) != 0) {
        fprintf(stderr, "kafka-mock: bad --topic %s (want name:partitions)\n", argv[i]);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 2;
      }
    }
  }

  printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  char line[1024];
  while (!stop_requested && fgets(line, sizeof(line), stdin) != NULL) {
    char cmd[32], a[512];
    int b = 0, c = 0;
    int n = sscanf(line, "%31s %511s %d %d", cmd, a, &b, &c);
    if (n < 1) continue;
    if (strcmp(cmd, "down") == 0 && n >= 2) {
      answer(rd_kafka_mock_broker_set_down(mc, atoi(a)));
    } else if (strcmp(cmd, "up") == 0 && n >= 2) {
      answer(rd_kafka_mock_broker_set_up(mc, atoi(a)));
    } else if (strcmp(cmd, "topic") == 0 && n >= 3 && b > 0) {
      answer(rd_kafka_mock_topic_create(mc, a, b, replication_for(brokers)));
    } else if (strcmp(cmd, "leader") == 0 && n >= 4) {
      answer(rd_kafka_mock_partition_set_leader(mc, a, b, c));
    } else if (strcmp(cmd, "rtt") == 0 && n >= 3) {
      answer(rd_kafka_mock_broker_set_rtt(mc, atoi(a), b));
    } else if (strcmp(cmd, "errors") == 0 && n >= 4 && b > 0 && b <= 64) {
      rd_kafka_resp_err_t errs[64];
      for (int i = 0; i < b; i++) errs[i] = (rd_kafka_resp_err_t)c;
      rd_kafka_mock_push_request_errors_array(mc, (int16_t)atoi(a), (size_t)b, errs);
      answer(RD_KAFKA_RESP_ERR_NO_ERROR);
    } else if (strcmp(cmd, "ping") == 0) {
      printf("ok\n");
      fflush(stdout);
    } else {
      printf("err unknown command\n");
      fflush(stdout);
    }
  }

  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
