#pragma once
// A view over a run of fixed-size records (report blocks, SSRCs, FIR entries)
// that decodes each one on access: no copy, no allocation.
#include <cstddef>
#include <cstdint>
#include <iterator>

#include "rtp/Types.hpp"
#include "util/Bytes.hpp"

namespace sb::rtp::rtcp {

template <typename T, size_t kRecordSize, T (*Decode)(const uint8_t*)>
class RecordList {
 public:
  RecordList() = default;
  /// `bytes` holds whole records; a trailing partial record is ignored.
  explicit RecordList(util::ByteView bytes) : bytes_(bytes.first(bytes.size() / kRecordSize * kRecordSize)) {}

  size_t size() const { return bytes_.size() / kRecordSize; }
  bool empty() const { return bytes_.empty(); }
  T operator[](size_t i) const { return Decode(&bytes_[i * kRecordSize]); }

  class Iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::forward_iterator_tag;
    Iterator() = default;
    Iterator(const RecordList* list, size_t i) : list_(list), i_(i) {}
    T operator*() const { return (*list_)[i_]; }
    Iterator& operator++() { ++i_; return *this; }
    Iterator operator++(int) { Iterator t = *this; ++i_; return t; }
    bool operator==(const Iterator& o) const { return i_ == o.i_; }

   private:
    const RecordList* list_ = nullptr;
    size_t i_ = 0;
  };
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, size()); }

 private:
  util::ByteView bytes_;
};

inline Ssrc decode_ssrc(const uint8_t* p) { return Ssrc{util::load_be32(p)}; }
using SsrcList = RecordList<Ssrc, 4, decode_ssrc>;

}  // namespace sb::rtp::rtcp
