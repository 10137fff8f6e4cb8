#include "rtp/RetransmissionCache.hpp"

#include <cstring>


namespace sb::rtp {

namespace {

size_t round_up_to_power_of_two(size_t n) {
  size_t p = 1;
  while (p < n && p < RetransmissionCache::kMaxCapacity) p <<= 1;
  return p;
}

}  // namespace

RetransmissionCache::RetransmissionCache(size_t capacity)
    : slots_(round_up_to_power_of_two(capacity)),
      storage_(slots_.size() * kSlotBytes),
      mask_(slots_.size() - 1) {}

void RetransmissionCache::insert(util::Timestamp now, uint16_t seq, util::ByteView packet) {
  Slot& slot = slots_[seq & mask_];
  bool advances = !newest_seq_ || now - newest_time_ >= kMaxAge;
  if (!advances) {
    const uint16_t behind = uint16_t(*newest_seq_ - seq);
    if (behind >= kRestartDistance) {
      advances = true;  // ahead of the newest (behind >= 0x8000), or a restarted source
    } else if (behind >= slots_.size()) {
      return;  // a late arrival whose slot belongs to a newer packet now
    }
  }
  if (advances) {
    newest_seq_ = seq;
    newest_time_ = now;
  }
  if (packet.size() > kSlotBytes) {
    // Whatever the slot held is older than this packet; keep no stale copy.
    slot.used = false;
    return;
  }
  if (!packet.empty()) std::memcpy(&storage_[(seq & mask_) * kSlotBytes], packet.data(), packet.size());
  slot.stored = now;
  slot.seq = seq;
  slot.size = uint16_t(packet.size());
  slot.used = true;
}

void RetransmissionCache::clear() {
  for (Slot& s : slots_) s.used = false;
  newest_seq_.reset();
}

std::optional<util::ByteView> RetransmissionCache::find(util::Timestamp now, uint16_t seq) const {
  const Slot& slot = slots_[seq & mask_];
  if (!slot.used || slot.seq != seq || now - slot.stored >= kMaxAge) return std::nullopt;
  return util::ByteView(&storage_[(seq & mask_) * kSlotBytes], slot.size);
}

}  // namespace sb::rtp
