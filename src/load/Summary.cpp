#include "load/Summary.hpp"

#include <boost/json.hpp>
#include <cstdio>

namespace sb::load {

namespace {
boost::json::object quantiles(const Quantiles& q) { return {{"p50", q.p50}, {"p99", q.p99}, {"max", q.max}}; }
boost::json::object quantiles(const DelayQuantiles& q) {
  return {{"count", q.count}, {"p50", q.p50}, {"p90", q.p90}, {"p99", q.p99}, {"p999", q.p999}, {"max", q.max}};
}
}  // namespace

std::string Summary::to_json() const {
  boost::json::array messages;
  for (const auto& m : error_messages) messages.emplace_back(m);
  boost::json::object o{
      {"rooms", rooms},
      {"publishers", publishers},
      {"subscribers", subscribers},
      {"duration_s", duration_s},
      {"sent_packets", sent_packets},
      {"received_packets", received_packets},
      {"expected_packets", expected_packets},
      {"loss_fraction", loss_fraction},
      {"delay_us", quantiles(delay_us)},
      {"join_ms", quantiles(join_ms)},
      {"keyframe_ms", quantiles(keyframe_ms)},
      {"connect_ms", quantiles(connect_ms)},
      {"connected", connected},
      {"receiving", receiving},
      {"expected_receivers", expected_receivers},
      {"errors", errors},
      {"error_messages", std::move(messages)},
      {"retransmissions", retransmissions},
      {"nacks_sent", nacks_sent},
      {"rtcp_sent", rtcp_sent},
      {"rtcp_received", rtcp_received},
      {"keyframes_sent", keyframes_sent},
      {"keyframe_requests", keyframe_requests},
      {"sent_bytes", sent_bytes},
      {"received_bytes", received_bytes},
      {"srtp_profile", srtp_profile},
      {"sockets", sockets},
      {"cpu_s", cpu_s},
      {"media_thread_cpu_s", media_thread_cpu_s},
      {"server_cpu_s", server_cpu_s},
      {"server_rss_kb", {{"start", server_rss_start_kb}, {"steady", server_rss_steady_kb}, {"end", server_rss_end_kb}}},
      {"steady",
       {{"start_s", steady.start_s},
        {"duration_s", steady.duration_s},
        {"settled", steady.settled},
        {"sent_packets", steady.sent_packets},
        {"received_packets", steady.received_packets},
        {"expected_packets", steady.expected_packets},
        {"loss_fraction", steady.loss_fraction},
        {"delay_us", quantiles(steady.delay_us)},
        {"server_cpu_s", steady.server_cpu_s},
        {"media_thread_cpu_s", steady.media_thread_cpu_s},
        {"frame_lateness_us", quantiles(steady.frame_lateness_us)},
        {"server_delay_us", quantiles(steady.server_delay_us)},
        {"server_wait_us", quantiles(steady.server_wait_us)},
        {"server_delay_error", steady.server_delay_error}}},
  };
  return boost::json::serialize(o);
}

std::string Summary::to_text() const {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "%d rooms, %d publishers, %d subscribers, %.1f s, SRTP %s\n"
                "connected %d/%d, receiving %d/%d, errors %llu\n"
                "packets sent %llu, received %llu of %llu expected, loss %.3f%%\n"
                "delay p50 %.0f us, p99 %.0f us, max %.0f us; join p50 %.0f ms, p99 %.0f ms; first keyframe p50 %.0f ms, p99 %.0f ms\n"
                "cpu %.2f s (media thread %.2f s, sockets %s), server cpu %.2f s\n"
                "steady %.1f s: received %llu of %llu expected, loss %.3f%%, delay p50 %.0f us, p99 %.0f us, "
                "server cpu %.2f s\n",
                rooms, publishers, subscribers, duration_s, srtp_profile.c_str(), connected,
                publishers + subscribers, receiving, expected_receivers, (unsigned long long)errors,
                (unsigned long long)sent_packets, (unsigned long long)received_packets,
                (unsigned long long)expected_packets, loss_fraction * 100, delay_us.p50, delay_us.p99, delay_us.max,
                join_ms.p50, join_ms.p99, keyframe_ms.p50, keyframe_ms.p99, cpu_s, media_thread_cpu_s, sockets.c_str(), server_cpu_s, steady.duration_s,
                (unsigned long long)steady.received_packets, (unsigned long long)steady.expected_packets,
                steady.loss_fraction * 100, steady.delay_us.p50, steady.delay_us.p99, steady.server_cpu_s);
  std::string out = buf;
  for (const auto& m : error_messages) out += "  error: " + m + "\n";
  return out;
}

}  // namespace sb::load
