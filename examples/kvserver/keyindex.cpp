// keyindex.cpp - the ordered key index behind SCAN, in C++17 behind the C API
// of kvindex.h. The index (an std::map of every dataset key) is created once
// and never deleted: it lives as long as the dataset (class 6); its nodes
// live until their key is deleted. A scan collects matching keys into an
// std::vector that dies with the request (class 0).
#include "kvindex.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace {

// What one key costs the index, for the demo's held-bytes count: the tree
// node (four pointer-sized words of links and colour, then the pair) and the
// key's heap buffer when it is too long for the string's inline storage.
size_t indexNodeBytes(const std::string &key) {
  size_t heap = key.size() > 15 ? key.size() + 1 : 0;
  return 4 * sizeof(void *) + sizeof(std::pair<const std::string, uint64_t>) + heap;
}

class KeyIndex {
public:
  void insertKey(const char *key) {
    auto ins = keys_.emplace(std::string(key), ++generation_);
    if (ins.second)
      bytes_ += indexNodeBytes(ins.first->first);
  }

  void eraseKey(const char *key) {
    auto it = keys_.find(key);
    if (it != keys_.end()) {
      bytes_ -= indexNodeBytes(it->first);
      keys_.erase(it);
    }
  }

  std::vector<std::string> collectPrefixRange(const std::string &prefix, size_t limit) const {
    std::vector<std::string> found;
    for (auto it = keys_.lower_bound(prefix);
         it != keys_.end() && found.size() < limit &&
         it->first.compare(0, prefix.size(), prefix) == 0;
         ++it)
      found.push_back(it->first);
    return found;
  }

  size_t size() const { return keys_.size(); }
  size_t bytes() const { return sizeof *this + bytes_; }

private:
  std::map<std::string, uint64_t, std::less<>> keys_;
  uint64_t generation_ = 0;
  size_t bytes_ = 0;
};

KeyIndex *theKeyIndex; // deliberately never deleted

} // namespace

extern "C" void keyindex_init(void) { theKeyIndex = new KeyIndex(); }

extern "C" void keyindex_insert(const char *key) { theKeyIndex->insertKey(key); }

extern "C" void keyindex_erase(const char *key) { theKeyIndex->eraseKey(key); }

extern "C" size_t keyindex_scan_prefix(const char *prefix, size_t limit, keyindex_emit_fn emit,
                                       void *ctx) {
  std::vector<std::string> found = theKeyIndex->collectPrefixRange(prefix, limit);
  for (const std::string &k : found)
    emit(ctx, k.data(), k.size());
  return found.size();
}

extern "C" size_t keyindex_size(void) { return theKeyIndex ? theKeyIndex->size() : 0; }

extern "C" size_t keyindex_bytes(void) { return theKeyIndex ? theKeyIndex->bytes() : 0; }
