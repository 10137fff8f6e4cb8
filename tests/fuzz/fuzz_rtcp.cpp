// Compound RTCP iteration and every packet type's parser; parsed values are
// written back out and must parse again.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "rtp/rtcp/Bye.hpp"
#include "rtp/rtcp/Compound.hpp"
#include "rtp/rtcp/Fir.hpp"
#include "rtp/rtcp/Nack.hpp"
#include "rtp/rtcp/Pli.hpp"
#include "rtp/rtcp/ReceiverReport.hpp"
#include "rtp/rtcp/Remb.hpp"
#include "rtp/rtcp/Sdes.hpp"
#include "rtp/rtcp/SenderReport.hpp"
#include "rtp/rtcp/TransportFeedback.hpp"

using namespace sb::rtp;
using namespace sb::rtp::rtcp;

namespace {

std::array<uint8_t, 4096> g_out;

void check(const rtcp::PacketView& p) {
  size_t sum = p.count() + p.body().size();
  if (auto sr = SenderReport::parse(p)) {
    for (const ReportBlock& b : sr->report_blocks()) sum += b.jitter;
  }
  if (auto rr = ReceiverReport::parse(p)) {
    std::vector<ReportBlock> blocks(rr->report_blocks().begin(), rr->report_blocks().end());
    const size_t n = ReceiverReport::write(g_out, rr->sender_ssrc(), blocks);
    if (n == 0 || !rtcp::PacketView::parse(std::span(g_out).first(n))) std::abort();
  }
  if (auto sdes = Sdes::parse(p)) {
    sdes->for_each_item([&](Ssrc, SdesItemType, std::string_view text) { sum += text.size(); });
    (void)sdes->cname(Ssrc{1});
  }
  if (auto bye = Bye::parse(p)) {
    for (Ssrc s : bye->ssrcs()) sum += uint32_t(s);
    sum += bye->reason().size();
  }
  if (auto nack = Nack::parse(p)) {
    std::vector<uint16_t> lost;
    nack->for_each_lost([&](uint16_t s) { lost.push_back(s); });
    const size_t n = Nack::write(g_out, nack->sender_ssrc(), nack->media_ssrc(), lost);
    auto view = rtcp::PacketView::parse(std::span(g_out).first(n));
    if (n == 0 || !view || !Nack::parse(*view)) std::abort();
  }
  if (auto pli = Pli::parse(p)) sum += uint32_t(pli->media_ssrc());
  if (auto fir = Fir::parse(p)) {
    for (FirEntry e : fir->entries()) sum += e.seq;
  }
  if (auto remb = Remb::parse(p)) {
    sum += remb->bitrate_bps() + remb->ssrcs().size();
  }
  if (auto fb = TransportFeedback::parse(p)) {
    size_t n = 0;
    std::vector<TwccEntry> entries;
    fb->for_each_packet([&](const TwccPacketStatus& s) {
      ++n;
      TwccEntry e{s.seq, std::nullopt};
      if (s.received) e.arrival = sb::util::Timestamp(std::chrono::microseconds(s.arrival_us + 1'000'000'000));
      entries.push_back(e);
    });
    if (n != fb->status_count()) std::abort();
    size_t written = 0;
    const size_t size = TransportFeedback::write(g_out, fb->sender_ssrc(), fb->media_ssrc(), 0, entries, &written);
    if (size > 0) {
      auto view = rtcp::PacketView::parse(std::span(g_out).first(size));
      if (!view) std::abort();
      auto again = TransportFeedback::parse(*view);
      if (!again || again->status_count() != written) std::abort();
    }
  }
  (void)sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const sb::util::ByteView input(data, size);
  (void)validate_compound(input);
  rtcp::for_each(input, check);
  // Also walk packet by packet, as far as the headers are valid.
  CompoundIterator it(input);
  while (auto p = it.next()) check(*p);
  return 0;
}
