// stats.cpp - per-command statistics and the hot-key tracker, in C++17 behind
// the C API of kvindex.h.
//
//  * StatsRegistry: one CommandStats per command name in an std::map that is
//    never freed (class 6). Each keeps the latencies of the current 500 ms
//    window in an std::vector that grows by doubling and is released when the
//    window rolls over (its buffers live up to 500 ms: classes 0-2).
//  * HotKeyTracker: access counts per key in an std::unordered_map, cleared
//    every 250 ms (nodes live under 250 ms: class 2 or less).
//  * renderStatsReport: temporaries for the STATS command (class 0).
#include "kvindex.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

extern "C" char *kv_strdup(const char *s);

namespace {

struct CommandStats {
  uint64_t calls = 0;
  uint64_t totalNs = 0;
  uint32_t lastP50Us = 0, lastP99Us = 0;
  std::vector<uint32_t> windowLatencyUs;
};

class StatsRegistry {
public:
  void recordLatency(const char *name, uint64_t ns) {
    CommandStats &cs = commandStatsFor(name);
    cs.calls++;
    cs.totalNs += ns;
    cs.windowLatencyUs.push_back(static_cast<uint32_t>(ns / 1000));
  }

  void rollWindow(uint64_t nowMs) {
    for (auto &entry : perCommand_) {
      CommandStats &cs = entry.second;
      if (cs.windowLatencyUs.empty())
        continue;
      std::vector<uint32_t> sorted(cs.windowLatencyUs);
      std::sort(sorted.begin(), sorted.end());
      cs.lastP50Us = sorted[sorted.size() / 2];
      cs.lastP99Us = sorted[sorted.size() * 99 / 100];
      cs.windowLatencyUs.clear();
      cs.windowLatencyUs.shrink_to_fit();
    }
    windowsRolled_++;
    lastRollMs_ = nowMs;
  }

  size_t bytes() const {
    size_t n = sizeof *this;
    for (const auto &entry : perCommand_)
      n += 4 * sizeof(void *) + sizeof entry + (entry.first.size() > 15 ? entry.first.size() + 1 : 0) +
           entry.second.windowLatencyUs.capacity() * sizeof(uint32_t);
    return n;
  }

  std::string renderReport() const {
    std::vector<std::pair<uint64_t, const std::string *>> byCalls;
    for (const auto &entry : perCommand_)
      byCalls.emplace_back(entry.second.calls, &entry.first);
    std::sort(byCalls.begin(), byCalls.end(),
              [](const auto &a, const auto &b) { return a.first > b.first; });
    std::string out = "# commandstats\r\n";
    char line[160];
    for (const auto &p : byCalls) {
      const CommandStats &cs = perCommand_.at(*p.second);
      // Fixed-width numbers: the report's size (and so the allocation
      // sequence) does not depend on measured latencies.
      snprintf(line, sizeof line, "cmdstat_%s:calls=%10llu,usec=%12llu,p50=%8u,p99=%8u\r\n",
               p.second->c_str(), static_cast<unsigned long long>(cs.calls),
               static_cast<unsigned long long>(cs.totalNs / 1000), cs.lastP50Us, cs.lastP99Us);
      out += line;
    }
    snprintf(line, sizeof line, "windows_rolled:%llu\r\nlast_roll_ms:%llu\r\n",
             static_cast<unsigned long long>(windowsRolled_),
             static_cast<unsigned long long>(lastRollMs_));
    out += line;
    return out;
  }

private:
  CommandStats &commandStatsFor(const char *name) {
    auto it = perCommand_.find(name);
    if (it == perCommand_.end())
      it = perCommand_.emplace(std::string(name), CommandStats()).first;
    return it->second;
  }

  std::map<std::string, CommandStats, std::less<>> perCommand_;
  uint64_t windowsRolled_ = 0, lastRollMs_ = 0;
};

class HotKeyTracker {
public:
  void touchKey(const char *key) {
    size_t before = counts_.size();
    ++counts_[key];
    if (counts_.size() != before) {
      size_t len = strlen(key);
      nodeBytes_ += kNodeBytes + (len > 15 ? len + 1 : 0);
    }
  }

  void resetWindow(uint64_t nowMs) {
    (void)nowMs;
    if (!counts_.empty())
      rememberTopKeys();
    counts_.clear();
    nodeBytes_ = 0;
  }

  size_t tracked() const { return counts_.size(); }
  size_t bytes() const {
    return sizeof *this + nodeBytes_ + counts_.bucket_count() * sizeof(void *);
  }

private:
  void rememberTopKeys() {
    std::vector<std::pair<uint32_t, std::string>> top;
    top.reserve(counts_.size());
    for (const auto &kv : counts_)
      top.emplace_back(kv.second, kv.first);
    size_t keep = std::min<size_t>(top.size(), 8);
    std::partial_sort(top.begin(), top.begin() + keep, top.end(),
                      [](const auto &a, const auto &b) { return a.first > b.first; });
    hottestCount_ = top.empty() ? 0 : top.front().first;
  }

  // A hash node: the next pointer, the pair and the cached hash.
  static constexpr size_t kNodeBytes =
      sizeof(void *) + sizeof(std::pair<const std::string, uint32_t>) + sizeof(size_t);
  std::unordered_map<std::string, uint32_t> counts_;
  uint32_t hottestCount_ = 0;
  size_t nodeBytes_ = 0;
};

StatsRegistry *theStatsRegistry; // deliberately never deleted
HotKeyTracker *theHotKeyTracker; // deliberately never deleted

StatsRegistry &statsRegistry() {
  if (!theStatsRegistry)
    theStatsRegistry = new StatsRegistry();
  return *theStatsRegistry;
}

HotKeyTracker &hotKeyTracker() {
  if (!theHotKeyTracker)
    theHotKeyTracker = new HotKeyTracker();
  return *theHotKeyTracker;
}

} // namespace

extern "C" void stats_record_command(const char *name, uint64_t latency_ns) {
  statsRegistry().recordLatency(name, latency_ns);
}

extern "C" void stats_roll_window(uint64_t now_ms) { statsRegistry().rollWindow(now_ms); }

extern "C" char *stats_render_report(void) {
  std::string report = statsRegistry().renderReport();
  return kv_strdup(report.c_str());
}

extern "C" void hotkeys_touch(const char *key) { hotKeyTracker().touchKey(key); }

extern "C" void hotkeys_reset(uint64_t now_ms) { hotKeyTracker().resetWindow(now_ms); }

extern "C" size_t hotkeys_tracked(void) { return hotKeyTracker().tracked(); }

extern "C" size_t stats_bytes(void) {
  return (theStatsRegistry ? theStatsRegistry->bytes() : 0) +
         (theHotKeyTracker ? theHotKeyTracker->bytes() : 0);
}
