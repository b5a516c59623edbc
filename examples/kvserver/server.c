/* server.c - kvserver's main: options, start-up (configuration, command
 * table, dataset preload), the paced event loop with its periodic tasks, and
 * shutdown.
 *
 *   kvserver [--seed=N] [--seconds=S] [--clients=N] [--rate=R] [--log=PATH]
 *            [--burst=N] [--burst-at=MS] [--burst-every=MS] [--burst-ms=MS]
 *            [--unpaced] [--memstats] [--series=PATH]
 *
 * --seconds is logical time; the loop runs one tick per millisecond, paced
 * against the wall clock, so a run takes about S seconds. --unpaced runs the
 * same ticks back to back (the same allocation sequence, as fast as the
 * allocator allows: a throughput measurement; lifetimes shrink with it).
 * --memstats samples memory every 50 logical ms (memstat.c) and prints one
 * more line at exit; --series=PATH also writes the samples to PATH.
 *
 * Periodic tasks (logical ms): cache expiry every tick, log flush every 50,
 * hot-key reset every 250, statistics window every 500, snapshot every 750,
 * compaction every 2000.
 */
#include "kvserver.h"
#include "kvindex.h"

#include <stdlib.h>
#include <string.h>

struct kv_server g_server;

static void usage(void) {
  fprintf(stderr, "usage: kvserver [--seed=N] [--seconds=S] [--clients=N] [--rate=R] "
                  "[--log=PATH]\n"
                  "                [--burst=N] [--burst-at=MS] [--burst-every=MS] [--burst-ms=MS] "
                  "[--unpaced] "
                  "[--memstats] [--series=PATH]\n");
  exit(2);
}

static int option_value(const char *arg, const char *name, const char **value) {
  size_t n = strlen(name);
  if (strncmp(arg, name, n) == 0 && arg[n] == '=') {
    *value = arg + n + 1;
    return 1;
  }
  return 0;
}

static uint64_t parse_number(const char *s, const char *what) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (!*s || *end)
    kv_die("bad %s '%s'", what, s);
  return v;
}

/* The dataset the server starts with, as if loaded from its last dump:
 * these keys stay until the process exits. */
static void dataset_preload(struct kv_store *st, uint64_t seed) {
  struct kv_rng r;
  rng_seed(&r, seed, 0);
  for (uint32_t i = 0; i < 400; i++) {
    char key[40], val[80];
    snprintf(key, sizeof key, "user:%06u:profile", rng_below(&r, 50000));
    uint32_t len = rng_range(&r, 8, 64);
    for (uint32_t j = 0; j < len; j++)
      val[j] = (char)('a' + rng_below(&r, 26));
    if (store_put(st, key, value_blob_create(val, len)))
      keyindex_insert(key);
  }
  for (uint32_t i = 0; i < 16; i++) {
    char key[24];
    snprintf(key, sizeof key, "counter:%02u", i);
    if (store_put(st, key, value_from_integer(0)))
      keyindex_insert(key);
  }
}

static void server_run_periodic_tasks(uint64_t now) {
  cache_expire_sweep(g_server.cache, now);
  if (now % 50 == 49)
    log_flush_batch(now);
  if (now % 250 == 249)
    hotkeys_reset(now);
  if (now % 500 == 499)
    stats_roll_window(now);
  if (now % 750 == 700)
    snapshot_take(g_server.store, now);
  if (now % 2000 == 1999) {
    store_compact(g_server.store);
    log_event(now, "compacted the store: %zu keys in %zu buckets", g_server.store->count,
              g_server.store->nbuckets);
  }
}

int main(int argc, char **argv) {
  uint64_t seed = 1, seconds = 4, nclients = 16, rate = 250;
  uint64_t burst = 0, burst_at = 2500, burst_every = 5000, burst_ms = 1500;
  const char *log_path = NULL, *series_path = NULL, *v;
  int paced = 1, memstats = 0;
  for (int i = 1; i < argc; i++) {
    if (option_value(argv[i], "--seed", &v))
      seed = parse_number(v, "seed");
    else if (option_value(argv[i], "--seconds", &v))
      seconds = parse_number(v, "seconds");
    else if (option_value(argv[i], "--clients", &v))
      nclients = parse_number(v, "clients");
    else if (option_value(argv[i], "--rate", &v))
      rate = parse_number(v, "rate");
    else if (option_value(argv[i], "--burst", &v))
      burst = parse_number(v, "burst");
    else if (option_value(argv[i], "--burst-at", &v))
      burst_at = parse_number(v, "burst-at");
    else if (option_value(argv[i], "--burst-every", &v))
      burst_every = parse_number(v, "burst-every");
    else if (option_value(argv[i], "--burst-ms", &v))
      burst_ms = parse_number(v, "burst-ms");
    else if (option_value(argv[i], "--log", &v))
      log_path = v;
    else if (strcmp(argv[i], "--unpaced") == 0)
      paced = 0;
    else if (strcmp(argv[i], "--memstats") == 0)
      memstats = 1;
    else if (option_value(argv[i], "--series", &v))
      series_path = v, memstats = 1;
    else
      usage();
  }
  if (nclients < 1 || nclients > 10000 || burst > 100000 || rate > 100000 || seconds > 3600 ||
      burst_at > 3600000 || burst_every > 3600000 || burst_ms > 3600000 ||
      (burst_every && burst_ms > burst_every))
    kv_die("options out of range");

  config_load_defaults(seed);
  command_table_init();
  commands_register_all();
  keyindex_init();
  logger_open(log_path);
  g_server.seed = seed;
  g_server.store = store_create((size_t)config_get_long("store-initial-buckets", 64));
  g_server.cache = cache_create((size_t)config_get_long("cache-capacity", 256),
                                (size_t)config_get_long("cache-buckets", 4096));
  dataset_preload(g_server.store, seed);

  struct workload_options wo = {seed,
                                (uint32_t)nclients,
                                (uint32_t)rate,
                                (uint32_t)burst,
                                (uint32_t)burst_at,
                                (uint32_t)burst_every,
                                (uint32_t)burst_ms};
  workload_init(&wo);

  if (series_path)
    memstat_open_series(series_path);
  uint64_t end_ms = seconds * 1000, now = 0;
  double busy = 0;
  clock_start_pacing();
  for (now = 0; now < end_ms; now++) {
    if (paced)
      clock_wait_until_ms(now);
    double t0 = clock_elapsed_seconds();
    workload_tick(now);
    server_run_periodic_tasks(now);
    double t1 = clock_elapsed_seconds();
    busy += t1 - t0;
    if (memstats && now % 50 == 0)
      memstat_tick(now, t1);
  }

  if (memstats)
    memstat_final();

  /* Shutdown: close the sessions, flush the log, drop the cache, the
   * snapshot and the pooled buffers. The dataset, its index, the statistics,
   * the configuration and the command table stay: the process exits. */
  workload_shutdown(now);
  logger_close(now);
  size_t cached = cache_size(g_server.cache);
  uint64_t evictions = cache_evictions(g_server.cache);
  cache_destroy(g_server.cache);
  g_server.cache = NULL;
  snapshot_release_all();
  bufpool_destroy();

  uint64_t requests = workload_requests_served();
  printf("kvserver: seed=%llu seconds=%llu clients=%llu requests=%llu keys=%zu indexed=%zu "
         "cached=%zu evictions=%llu sessions=%llu log_records=%llu snapshots=%llu "
         "snapshot_sum=%016llx elapsed=%.2fs busy=%.3fs requests_per_busy_s=%.0f\n",
         (unsigned long long)seed, (unsigned long long)seconds, (unsigned long long)nclients,
         (unsigned long long)requests, g_server.store->count, keyindex_size(),
         cached, (unsigned long long)evictions, (unsigned long long)sessions_opened_total(),
         (unsigned long long)log_records_total(), (unsigned long long)snapshots_taken(),
         (unsigned long long)snapshot_last_checksum(), clock_elapsed_seconds(), busy,
         busy > 0 ? (double)requests / busy : 0.0);
  if (memstats)
    memstat_report(stdout);
  return 0;
}
