#pragma once
// A map from transport address to a pointer, for the lookup every received
// datagram makes (which participant sent this?). Open addressing with linear
// probing over one flat array: key and value share a slot, so a hit costs one
// cache line instead of the bucket, node and key of a node-based hash map.
//
// Insertions grow the table (never on the packet path: addresses are learnt
// from ICE checks); erase_value() rebuilds it, which happens when a
// participant leaves.
#include <bit>
#include <cstddef>
#include <vector>

#include "util/SocketAddr.hpp"

namespace sb::util {

template <typename T>
class AddrMap {
 public:
  /// The value for `addr`, or nullptr.
  T* find(const SocketAddr& addr) const {
    if (slots_.empty()) return nullptr;
    size_t mask = slots_.size() - 1;
    for (size_t i = addr.hash() & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.value == nullptr) return nullptr;
      if (s.addr == addr) return s.value;
    }
  }
  /// Maps `addr` to `value` (non-null), replacing what it mapped to. False,
  /// and nothing changed, if the address is new and the map holds `limit`.
  bool assign(const SocketAddr& addr, T* value, size_t limit) {
    if (Slot* s = slot_of(addr)) {
      s->value = value;
      return true;
    }
    if (size_ >= limit) return false;
    if (2 * (size_ + 1) > slots_.size()) rehash(std::max<size_t>(16, std::bit_ceil(4 * (size_ + 1))));
    place(addr, value);
    ++size_;
    return true;
  }
  /// Removes every address mapped to `value`.
  void erase_value(const T* value) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.size(), Slot{});
    size_ = 0;
    for (const Slot& s : old)
      if (s.value != nullptr && s.value != value) {
        place(s.addr, s.value);
        ++size_;
      }
  }
  size_t size() const { return size_; }

 private:
  struct Slot {
    SocketAddr addr;
    T* value = nullptr;  ///< nullptr: empty
  };
  Slot* slot_of(const SocketAddr& addr) {
    if (slots_.empty()) return nullptr;
    size_t mask = slots_.size() - 1;
    for (size_t i = addr.hash() & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.value == nullptr) return nullptr;
      if (s.addr == addr) return &s;
    }
  }
  void place(const SocketAddr& addr, T* value) {
    size_t mask = slots_.size() - 1;
    size_t i = addr.hash() & mask;
    while (slots_[i].value != nullptr) i = (i + 1) & mask;
    slots_[i] = {addr, value};
  }
  void rehash(size_t capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    for (const Slot& s : old)
      if (s.value != nullptr) place(s.addr, s.value);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace sb::util
