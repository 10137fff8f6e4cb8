#pragma once
// The next deadline of every virtual participant, as an indexed binary min-heap:
// the media thread learns the earliest deadline and the participants that are
// due without looking at the others (thousands of them, each with timers every
// few tens of milliseconds), and moving one participant's deadline is O(log n).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/Time.hpp"

namespace sb::load {

class TimerQueue {
 public:
  /// Deadline of `id` (ids are dense, from 0); util::kNever removes it.
  void set(size_t id, util::Timestamp when) {
    if (id >= pos_.size()) pos_.resize(id + 1, kAbsent);
    uint32_t at = pos_[id];
    if (when == util::kNever) {
      if (at != kAbsent) remove_at(at);
      return;
    }
    if (at == kAbsent) {
      at = uint32_t(heap_.size());
      heap_.push_back({when, id});
      pos_[id] = at;
      sift_up(at);
      return;
    }
    util::Timestamp old = heap_[at].when;
    heap_[at].when = when;
    if (when < old) sift_up(at);
    else if (old < when) sift_down(at);
  }

  /// The earliest deadline (util::kNever when none is set).
  util::Timestamp next() const { return heap_.empty() ? util::kNever : heap_.front().when; }
  /// Removes and returns the participant with the earliest deadline (not empty()).
  size_t pop() {
    size_t id = heap_.front().id;
    remove_at(0);
    return id;
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  /// The deadline of `id` (util::kNever when not set).
  util::Timestamp get(size_t id) const {
    return id < pos_.size() && pos_[id] != kAbsent ? heap_[pos_[id]].when : util::kNever;
  }

 private:
  static constexpr uint32_t kAbsent = UINT32_MAX;
  struct Entry {
    util::Timestamp when;
    size_t id;
  };

  void place(uint32_t at, const Entry& e) {
    heap_[at] = e;
    pos_[e.id] = at;
  }
  void sift_up(uint32_t at) {
    Entry e = heap_[at];
    while (at > 0) {
      uint32_t parent = (at - 1) / 2;
      if (!(e.when < heap_[parent].when)) break;
      place(at, heap_[parent]);
      at = parent;
    }
    place(at, e);
  }
  void sift_down(uint32_t at) {
    Entry e = heap_[at];
    const uint32_t n = uint32_t(heap_.size());
    for (;;) {
      uint32_t child = 2 * at + 1;
      if (child >= n) break;
      if (child + 1 < n && heap_[child + 1].when < heap_[child].when) ++child;
      if (!(heap_[child].when < e.when)) break;
      place(at, heap_[child]);
      at = child;
    }
    place(at, e);
  }
  void remove_at(uint32_t at) {
    pos_[heap_[at].id] = kAbsent;
    Entry last = heap_.back();
    heap_.pop_back();
    if (at == heap_.size()) return;
    util::Timestamp old = heap_[at].when;
    place(at, last);
    if (last.when < old) sift_up(at);
    else sift_down(at);
  }

  std::vector<Entry> heap_;
  std::vector<uint32_t> pos_;  ///< index in heap_ by id, kAbsent when not queued
};

}  // namespace sb::load
