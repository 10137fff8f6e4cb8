#include "rtp/rtcp/TransportFeedback.hpp"

#include <algorithm>
#include <limits>

namespace sb::rtp::rtcp {

namespace {

constexpr size_t kFixedSize = kFeedbackHeaderSize + 8;  // + base/count + reference/fb count
constexpr size_t kOneBitVectorSymbols = 14;
constexpr size_t kTwoBitVectorSymbols = 7;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t tick_of(util::Timestamp t) {
  return floor_div(util::to_micros(t.time_since_epoch()), TransportFeedback::kDeltaUnitUs);
}

/// Walks status indices 0, 1, 2, … (never backwards) and tells the symbol and
/// receive delta of each. Cheap to copy, which is how chunk encoding looks ahead.
class SymbolCursor {
 public:
  SymbolCursor(std::span<const TwccEntry> entries, int64_t reference_tick)
      : entries_(entries), last_tick_(reference_tick) {}

  struct Status {
    TwccSymbol symbol = TwccSymbol::kNotReceived;
    int64_t delta_ticks = 0;
  };

  Status at(size_t k) {
    const uint16_t base = entries_.empty() ? 0 : entries_[0].seq;
    while (i_ < entries_.size() && uint16_t(entries_[i_].seq - base) < k) {
      if (entries_[i_].arrival) last_tick_ = tick_of(*entries_[i_].arrival);
      ++i_;
    }
    Status s;
    if (i_ < entries_.size() && uint16_t(entries_[i_].seq - base) == k && entries_[i_].arrival) {
      s.delta_ticks = tick_of(*entries_[i_].arrival) - last_tick_;
      s.symbol = s.delta_ticks >= 0 && s.delta_ticks <= 0xFF ? TwccSymbol::kSmallDelta : TwccSymbol::kLargeDelta;
    }
    return s;
  }

 private:
  std::span<const TwccEntry> entries_;
  size_t i_ = 0;
  int64_t last_tick_;
};

size_t delta_size(TwccSymbol s) {
  return s == TwccSymbol::kSmallDelta ? 1 : s == TwccSymbol::kLargeDelta ? 2 : 0;
}

struct Chunk {
  uint16_t bits = 0;
  size_t symbols = 0;      ///< statuses it covers (a vector's unused slots excluded)
  size_t delta_bytes = 0;
};

/// Chooses the chunk for statuses [k, k + remaining): a run when 14 or more
/// statuses repeat, else the densest vector that can hold them.
Chunk next_chunk(SymbolCursor cursor, size_t k, size_t remaining) {
  Chunk c;
  const TwccSymbol first = cursor.at(k).symbol;
  size_t run = 1;
  {
    SymbolCursor look = cursor;
    while (run < std::min(remaining, TransportFeedback::kMaxRunLength) && look.at(k + run).symbol == first) ++run;
  }
  bool fits_one_bit = true;
  const size_t one_bit = std::min(remaining, kOneBitVectorSymbols);
  {
    SymbolCursor look = cursor;
    for (size_t i = 0; i < one_bit; ++i) fits_one_bit = fits_one_bit && look.at(k + i).symbol != TwccSymbol::kLargeDelta;
  }
  if (run >= kOneBitVectorSymbols || run == remaining || (!fits_one_bit && run >= kTwoBitVectorSymbols)) {
    c.bits = uint16_t(uint16_t(first) << 13 | run);
    c.symbols = run;
    c.delta_bytes = run * delta_size(first);
    return c;
  }
  if (fits_one_bit) {
    c.bits = 0x8000;
    for (size_t i = 0; i < one_bit; ++i) {
      const TwccSymbol s = cursor.at(k + i).symbol;
      c.bits = uint16_t(c.bits | uint16_t(s) << (13 - i));
      c.delta_bytes += delta_size(s);
    }
    c.symbols = one_bit;
    return c;
  }
  const size_t two_bit = std::min(remaining, kTwoBitVectorSymbols);
  c.bits = 0xC000;
  for (size_t i = 0; i < two_bit; ++i) {
    const TwccSymbol s = cursor.at(k + i).symbol;
    c.bits = uint16_t(c.bits | uint16_t(s) << (12 - 2 * i));
    c.delta_bytes += delta_size(s);
  }
  c.symbols = two_bit;
  return c;
}

}  // namespace

Parsed<TransportFeedback> TransportFeedback::parse(const PacketView& p) {
  util::ByteView fci;
  auto header = parse_feedback(p, PacketType::kRtpfb, kFmtTransportFeedback, fci);
  if (!header) return header.error();
  if (fci.size() < 8) return ParseError::kTruncated;
  TransportFeedback fb;
  fb.header_ = *header;
  fb.base_seq_ = util::load_be16(&fci[0]);
  fb.status_count_ = util::load_be16(&fci[2]);
  fb.reference_time_ = util::load_be24(&fci[4]);
  fb.feedback_count_ = fci[7];
  fb.chunks_ = fci.subspan(8);
  if (!decode(fb.chunks_, fb.base_seq_, fb.status_count_, 0, [](const TwccPacketStatus&) {})) {
    return ParseError::kMalformed;
  }
  return fb;
}

size_t TransportFeedback::write(util::MutableBytes out, Ssrc sender, Ssrc media, uint8_t feedback_count,
                                std::span<const TwccEntry> entries, size_t* entries_written) {
  if (entries_written) *entries_written = 0;
  if (entries.empty()) return 0;

  // Which prefix of `entries` can be expressed: increasing sequence numbers,
  // at most kMaxStatusCount statuses, every delta within a signed 16-bit field.
  const uint16_t base = entries[0].seq;
  std::optional<int64_t> reference_tick;
  int64_t last_tick = 0;
  size_t usable = 0;
  for (; usable < entries.size(); ++usable) {
    const TwccEntry& e = entries[usable];
    if (usable > 0) {
      const uint16_t step = uint16_t(e.seq - entries[usable - 1].seq);
      const size_t index = uint16_t(entries[usable - 1].seq - base) + size_t(step);
      if (step == 0 || step >= 0x8000 || index >= kMaxStatusCount) break;
    }
    if (!e.arrival) continue;
    const int64_t tick = tick_of(*e.arrival);
    if (!reference_tick) {
      // The reference time is in 64 ms = 256 delta units; the first delta is
      // the remainder and always fits one byte.
      reference_tick = floor_div(tick, 256) * 256;
      last_tick = *reference_tick;
    }
    const int64_t delta = tick - last_tick;
    if (delta < std::numeric_limits<int16_t>::min() || delta > std::numeric_limits<int16_t>::max()) break;
    last_tick = tick;
  }
  if (usable == 0) return 0;
  const int64_t ref_tick = reference_tick.value_or(0);
  std::span<const TwccEntry> used = entries.first(usable);
  const size_t total_statuses = size_t(uint16_t(used.back().seq - base)) + 1;

  // Chunks go right after the fixed part; the deltas follow the last chunk.
  SymbolCursor cursor(used, ref_tick);
  size_t statuses = 0;
  size_t chunks = 0;
  size_t delta_bytes = 0;
  while (statuses < total_statuses) {
    const Chunk c = next_chunk(cursor, statuses, total_statuses - statuses);
    const size_t size = kFixedSize + 2 * (chunks + 1) + delta_bytes + c.delta_bytes;
    if (((size + 3) & ~size_t(3)) > out.size()) break;
    util::store_be16(&out[kFixedSize + 2 * chunks], c.bits);
    ++chunks;
    statuses += c.symbols;
    delta_bytes += c.delta_bytes;
    cursor.at(statuses);  // step past what this chunk covered
  }
  if (statuses == 0) return 0;

  const size_t unpadded = kFixedSize + 2 * chunks + delta_bytes;
  const size_t padding = (4 - unpadded % 4) % 4;
  const size_t total = unpadded + padding;
  if (total / 4 - 1 > 0xFFFF) return 0;
  util::ByteWriter w(out.first(kFixedSize));
  write_header(w, kFmtTransportFeedback, PacketType::kRtpfb, total, padding > 0);
  w.u32(uint32_t(sender));
  w.u32(uint32_t(media));
  w.u16(base);
  w.u16(uint16_t(statuses));
  w.u24(uint32_t(floor_div(ref_tick, 256)) & 0xFFFFFF);
  w.u8(feedback_count);
  // The chunks are already in place; the deltas and padding follow them.
  util::ByteWriter d(out.subspan(kFixedSize + 2 * chunks));
  SymbolCursor deltas(used, ref_tick);
  for (size_t k = 0; k < statuses; ++k) {
    const auto s = deltas.at(k);
    if (s.symbol == TwccSymbol::kSmallDelta) d.u8(uint8_t(s.delta_ticks));
    if (s.symbol == TwccSymbol::kLargeDelta) d.u16(uint16_t(int16_t(s.delta_ticks)));
  }
  if (padding > 0) {
    // RFC 3550 §6.4.1 padding, as Chromium pads its own feedback.
    d.zeros(padding - 1);
    d.u8(uint8_t(padding));
  }
  if (!w.ok() || !d.ok()) return 0;

  if (entries_written) {
    size_t n = 0;
    while (n < used.size() && uint16_t(used[n].seq - base) < statuses) ++n;
    *entries_written = n;
  }
  return total;
}

}  // namespace sb::rtp::rtcp
