// RTP packet view, RFC 8285 extension iteration and in-place id remapping.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "rtp/ExtensionIdMap.hpp"
#include "rtp/ExtensionValues.hpp"
#include "rtp/MutablePacket.hpp"
#include "rtp/PacketView.hpp"
#include "rtp/PacketWriter.hpp"

using namespace sb::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const sb::util::ByteView input(data, size);
  (void)is_rtp_or_rtcp(input);
  (void)is_rtcp(input);
  auto p = PacketView::parse(input);
  if (!p) return 0;

  size_t sum = p->header_size() + p->payload_size() + p->padding_size();
  if (sum != size) std::abort();
  for (size_t i = 0; i < p->csrc_count(); ++i) sum += p->csrc(i);
  for (const HeaderExtension& e : p->extensions()) {
    sum += e.id + e.value.size();
    (void)read_transport_sequence(e.value);
    (void)read_abs_send_time(e.value);
    (void)read_audio_level(e.value);
    (void)read_string_value(e.value);
  }
  (void)p->extensions().find(uint8_t(size));

  // Remap a copy with a map derived from the input; the result must still parse
  // to the same layout.
  std::vector<uint8_t> copy(size);
  auto m = MutablePacket::copy_from(*p, copy);
  if (!m) std::abort();
  ExtensionIdMap map;
  for (size_t i = 0; i < 256; ++i) map.set(uint8_t(i), data[i % size]);
  remap_extension_ids(*m, map);
  if (auto v = m->find_extension(1)) sum += v->size();
  m->set_sequence(uint16_t(sum));
  m->set_marker(!p->marker());
  m->set_payload_type(PayloadType{uint8_t(sum)});
  m->set_ssrc(Ssrc{uint32_t(sum)});
  m->set_timestamp(uint32_t(sum));
  auto again = PacketView::parse(copy);
  if (!again || again->header_size() != p->header_size() || again->payload_size() != p->payload_size()) {
    std::abort();
  }
  // Every surviving element has an id the map can produce, never 0.
  for (const HeaderExtension& e : again->extensions()) {
    if (e.id == 0) std::abort();
  }

  // Rewrite the payload into a fresh packet of our own.
  std::array<uint8_t, 2048> out{};
  RtpHeader h;
  h.sequence = p->sequence();
  h.ssrc = p->ssrc();
  const size_t n = write_packet(out, h, {}, p->payload(), uint8_t(p->padding_size()));
  if (n > 0 && !PacketView::parse(std::span(out).first(n))) std::abort();
  return 0;
}
