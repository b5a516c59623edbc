/* config.c - what a server builds once and keeps until it exits: the
 * configuration table, the command table and the intern pool of host names.
 * Nothing here is ever freed (class 6), yet it allocates through the same
 * kv_strdup/kv_xmalloc as the per-request code.
 */
#include "kvserver.h"

#include <stdlib.h>
#include <strings.h>
#include <string.h>

struct config_entry {
  char *name;
  char *value;
};

static struct config_entry *config_entries;
static size_t config_count, config_capacity;

static void config_set_value(const char *name, const char *value) {
  for (size_t i = 0; i < config_count; i++)
    if (strcmp(config_entries[i].name, name) == 0) {
      kv_live_sub(kv_str_size(config_entries[i].value));
      kv_free(config_entries[i].value);
      config_entries[i].value = kv_strdup(value);
      kv_live_add(kv_str_size(config_entries[i].value));
      return;
    }
  if (config_count == config_capacity) {
    kv_live_sub(config_capacity * sizeof *config_entries);
    config_capacity = config_capacity ? config_capacity * 2 : 8;
    kv_live_add(config_capacity * sizeof *config_entries);
    config_entries = kv_xrealloc(config_entries, config_capacity * sizeof *config_entries);
  }
  config_entries[config_count].name = kv_strdup(name);
  config_entries[config_count].value = kv_strdup(value);
  kv_live_add(kv_str_size(config_entries[config_count].name) +
              kv_str_size(config_entries[config_count].value));
  config_count++;
}

void config_load_defaults(uint64_t seed) {
  static const char *const defaults[][2] = {
      {"bind", "127.0.0.1"},          {"port", "7379"},
      {"maxclients", "10000"},        {"timeout", "0"},
      {"cache-capacity", "192"},      {"cache-buckets", "4096"},
      {"cache-min-ttl-ms", "200"},    {"cache-max-ttl-ms", "900"},
      {"store-initial-buckets", "64"}, {"log-flush-interval-ms", "50"},
      {"snapshot-interval-ms", "750"}, {"compact-interval-ms", "2000"},
      {"stats-window-ms", "500"},      {"hotkeys-window-ms", "250"},
      {"reply-latency-min-ms", "15"},  {"reply-latency-max-ms", "70"},
      {"counter-keys", "16"},          {"user-key-space", "200000"},
      {"session-min-ms", "2000"},      {"session-max-ms", "5000"},
      {"loglevel", "notice"},          {"appendonly", "no"},
      {"dir", "/var/lib/kvserver"},    {"dbfilename", "dump.kvs"},
  };
  for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
    config_set_value(defaults[i][0], defaults[i][1]);
  /* The "run id", like redis's, formatted once. */
  char *run_id = kv_sprintf_alloc("%016llx", (unsigned long long)(seed * 0x9e3779b97f4a7c15ull));
  config_set_value("run-id", run_id);
  kv_free(run_id);
  config_set_value("loglevel", "verbose"); /* an override, as from a config file */
}

const char *config_get(const char *name) {
  for (size_t i = 0; i < config_count; i++)
    if (strcmp(config_entries[i].name, name) == 0)
      return config_entries[i].value;
  return NULL;
}

long config_get_long(const char *name, long fallback) {
  const char *v = config_get(name);
  return v ? strtol(v, NULL, 10) : fallback;
}

/* ---- the command table ---- */

static struct command_spec **command_table;
static size_t command_count;

void command_table_init(void) {
  command_table = kv_xcalloc(64, sizeof *command_table);
  kv_live_add(64 * sizeof *command_table);
  command_count = 0;
}

void command_table_register(const char *name, const char *summary, command_handler fn,
                            int arity, int is_write) {
  if (command_count == 64)
    kv_die("command table full");
  struct command_spec *c = kv_xcalloc(1, sizeof *c);
  c->name = str_to_lower_copy(name);
  c->summary = kv_strdup(summary);
  c->handler = fn;
  c->arity = arity;
  c->is_write = is_write;
  kv_live_add(sizeof *c + kv_str_size(c->name) + kv_str_size(c->summary));
  command_table[command_count++] = c;
}

struct command_spec *command_table_lookup(const char *name) {
  for (size_t i = 0; i < command_count; i++)
    if (strcasecmp(command_table[i]->name, name) == 0)
      return command_table[i];
  return NULL;
}

/* ---- the intern pool: an open-addressing set of strings ---- */

static const char **intern_slots;
static size_t intern_capacity, intern_used;

static void intern_table_grow(void) {
  size_t cap = intern_capacity ? intern_capacity * 2 : 16;
  const char **slots = kv_xcalloc(cap, sizeof *slots);
  for (size_t i = 0; i < intern_capacity; i++)
    if (intern_slots[i]) {
      size_t j = hash_string(intern_slots[i]) & (cap - 1);
      while (slots[j])
        j = (j + 1) & (cap - 1);
      slots[j] = intern_slots[i];
    }
  kv_live_sub(intern_capacity * sizeof *intern_slots);
  kv_live_add(cap * sizeof *slots);
  kv_free(intern_slots);
  intern_slots = slots;
  intern_capacity = cap;
}

const char *intern_string(const char *s) {
  if (intern_used * 2 >= intern_capacity)
    intern_table_grow();
  size_t j = hash_string(s) & (intern_capacity - 1);
  while (intern_slots[j]) {
    if (strcmp(intern_slots[j], s) == 0)
      return intern_slots[j];
    j = (j + 1) & (intern_capacity - 1);
  }
  intern_slots[j] = kv_strdup(s);
  kv_live_add(kv_str_size(intern_slots[j]));
  intern_used++;
  return intern_slots[j];
}

size_t intern_count(void) { return intern_used; }
