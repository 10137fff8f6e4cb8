#include "rtp/rtcp/Nack.hpp"

namespace sb::rtp::rtcp {

namespace {

// Walks `lost` and emits (pid, blp) items: a sequence number within 16 after
// the current pid joins its bitmask, anything else starts a new item.
template <typename F>
void pack(std::span<const uint16_t> lost, F&& emit) {
  bool open = false;
  NackItem item;
  for (uint16_t seq : lost) {
    if (open) {
      const uint16_t diff = uint16_t(seq - item.pid);
      if (diff == 0) continue;
      if (diff <= 16) {
        item.blp = uint16_t(item.blp | (1u << (diff - 1)));
        continue;
      }
      emit(item);
    }
    item = NackItem{seq, 0};
    open = true;
  }
  if (open) emit(item);
}

}  // namespace

Parsed<Nack> Nack::parse(const PacketView& p) {
  util::ByteView fci;
  auto header = parse_feedback(p, PacketType::kRtpfb, kFmtNack, fci);
  if (!header) return header.error();
  if (fci.empty() || fci.size() % 4 != 0) return ParseError::kMalformed;
  Nack n;
  n.header_ = *header;
  n.items_ = NackItems(fci);
  return n;
}

size_t Nack::item_count(std::span<const uint16_t> lost) {
  size_t n = 0;
  pack(lost, [&](NackItem) { ++n; });
  return n;
}

size_t Nack::write(util::MutableBytes out, Ssrc sender, Ssrc media, std::span<const uint16_t> lost) {
  const size_t items = item_count(lost);
  if (items == 0) return 0;
  const size_t size = kFeedbackHeaderSize + 4 * items;
  if (size > out.size() || size / 4 - 1 > 0xFFFF) return 0;
  util::ByteWriter w(out);
  write_header(w, kFmtNack, PacketType::kRtpfb, size);
  w.u32(uint32_t(sender));
  w.u32(uint32_t(media));
  pack(lost, [&](NackItem item) {
    w.u16(item.pid);
    w.u16(item.blp);
  });
  return w.ok() ? w.size() : 0;
}

}  // namespace sb::rtp::rtcp
