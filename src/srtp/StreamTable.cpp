#include "srtp/StreamTable.hpp"

#include <algorithm>
#include <bit>

namespace sb::srtp {

namespace {
constexpr size_t kMinCapacity = 16;
}

size_t StreamTable::home(uint32_t ssrc) const {
  // Fibonacci hashing spreads sequential SSRCs; the top bits index the table.
  uint32_t h = ssrc * 0x9e3779b1u;
  return size_t(h >> (32 - std::countr_zero(slots_.size())));
}

size_t StreamTable::find_slot(uint32_t ssrc) const {
  if (slots_.empty()) return 0;
  size_t mask = slots_.size() - 1;
  for (size_t i = home(ssrc), n = 0; n < slots_.size(); i = (i + 1) & mask, ++n) {
    uint16_t s = slots_[i];
    if (s == kEmpty) break;
    if (s != kTombstone && streams_[s - 1].ssrc == ssrc) return i;
  }
  return slots_.size();
}

Stream* StreamTable::find(uint32_t ssrc) {
  // SSRCs are unique in the table, so a matching stream at a hint is the one.
  for (uint32_t h : hint_)
    if (h < streams_.size() && streams_[h].ssrc == ssrc) return &streams_[h];
  size_t i = find_slot(ssrc);
  if (i >= slots_.size()) return nullptr;
  uint32_t pos = slots_[i] - 1u;
  hint_[hint_next_] = pos;
  hint_next_ ^= 1;
  return &streams_[pos];
}

void StreamTable::rebuild(size_t capacity) {
  slots_.assign(capacity, kEmpty);
  tombstones_ = 0;
  size_t mask = capacity - 1;
  for (size_t pos = 0; pos < streams_.size(); ++pos) {
    size_t i = home(streams_[pos].ssrc);
    while (slots_[i] != kEmpty) i = (i + 1) & mask;
    slots_[i] = uint16_t(pos + 1);
  }
}

Stream* StreamTable::insert(uint32_t ssrc) {
  if (full()) return nullptr;
  size_t used = streams_.size() + 1 + tombstones_;
  if (slots_.size() < 2 * used) {
    rebuild(std::max(kMinCapacity, std::bit_ceil(2 * (streams_.size() + 1))));
  }
  streams_.push_back(Stream{.ssrc = ssrc});
  size_t mask = slots_.size() - 1;
  size_t i = home(ssrc);
  while (slots_[i] != kEmpty && slots_[i] != kTombstone) i = (i + 1) & mask;
  if (slots_[i] == kTombstone) --tombstones_;
  slots_[i] = uint16_t(streams_.size());
  return &streams_.back();
}

bool StreamTable::erase(uint32_t ssrc) {
  size_t i = find_slot(ssrc);
  if (i >= slots_.size()) return false;
  size_t pos = slots_[i] - 1;
  slots_[i] = kTombstone;
  ++tombstones_;
  size_t last = streams_.size() - 1;
  if (pos != last) {
    // Move the last stream into the hole and repoint its slot.
    size_t j = find_slot(streams_[last].ssrc);
    streams_[pos] = streams_[last];
    slots_[j] = uint16_t(pos + 1);
  }
  streams_.pop_back();
  return true;
}

}  // namespace sb::srtp
