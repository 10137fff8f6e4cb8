// Arbitrary text as a client offer, then as an answer to a server offer: the
// negotiator must refuse what it cannot use with a reason, never crash, and
// whatever answer it writes must parse.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rtc/Negotiator.hpp"
#include "sdp/SessionDescription.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sb;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rng = util::make_seeded_random(1);
  rtc::LocalTransportInfo local{"fuzU", "fuzzpasswordfuzzpassword",
                                "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
                                {"candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host"},
                                *util::SocketAddr::parse("127.0.0.1:40000")};
  rtc::Negotiator n(local, *rng);
  if (auto answer = n.handle_offer(text)) {
    if (!sdp::SessionDescription::parse(answer.value())) std::abort();
    // Offer something back and feed the same bytes as its answer.
    rtc::SendTrackSpec spec;
    spec.kind = sdp::MediaKind::Video;
    sdp::Codec vp8;
    vp8.pt = 96;
    vp8.name = "VP8";
    vp8.clock_rate = 90000;
    spec.codecs = {vp8};
    spec.stream_id = "pub";
    spec.track_id = "track";
    spec.cname = "cname";
    spec.ssrc = 1234;
    if (n.add_send_track(spec) && n.create_offer()) (void)n.handle_answer(text);
  }
  return 0;
}
