/* kvindex.h - the C API of the C++ part of kvserver (keyindex.cpp, stats.cpp):
 * an ordered key index for prefix scans, per-command statistics and a
 * hot-key tracker. The index and the statistics registry live for the whole
 * process (class 6); scan results and report strings are per-request
 * temporaries (class 0); the hot-key table is reset every 250 ms.
 */
#ifndef KVINDEX_H
#define KVINDEX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*keyindex_emit_fn)(void *ctx, const char *key, size_t len);

void keyindex_init(void);
void keyindex_insert(const char *key);
void keyindex_erase(const char *key);
size_t keyindex_scan_prefix(const char *prefix, size_t limit, keyindex_emit_fn emit, void *ctx);
size_t keyindex_size(void);
/* Bytes the index holds (nodes and key buffers, estimated from libstdc++'s
 * layout), for the demo's fragmentation figure. */
size_t keyindex_bytes(void);

void stats_record_command(const char *name, uint64_t latency_ns);
void stats_roll_window(uint64_t now_ms);
/* A report for the STATS command, allocated with kv_xmalloc (caller frees). */
char *stats_render_report(void);

void hotkeys_touch(const char *key);
void hotkeys_reset(uint64_t now_ms);
size_t hotkeys_tracked(void);
/* Bytes the statistics registry and the hot-key table hold (estimated). */
size_t stats_bytes(void);

#ifdef __cplusplus
}
#endif

#endif /* KVINDEX_H */
