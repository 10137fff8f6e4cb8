// Reading Switchboard's time-in-server histograms from /stats documents.
#include <gtest/gtest.h>

#include "load/ServerStats.hpp"

namespace sb::load {
namespace {

TEST(ServerStats, SumsWorkersAndTakesTheWindowBetweenTwoSnapshots) {
  auto before = parse_delay_snapshot(R"({"workers":[
      {"forward_delay_us":{"count":3,"buckets":[[10,2],[100,1]]}},
      {"forward_delay_us":{"count":1,"buckets":[[10,1]]}}],"rooms":[]})");
  ASSERT_TRUE(before) << before.error();
  EXPECT_EQ(before->buckets.at(10), 3u);
  auto after = parse_delay_snapshot(R"({"workers":[
      {"forward_delay_us":{"count":103,"buckets":[[10,52],[100,50],[1000,1]]}},
      {"forward_delay_us":{"count":1,"buckets":[[10,1]]}}],"rooms":[]})");
  ASSERT_TRUE(after) << after.error();
  // In the window: 50 at ≤10 µs, 49 at ≤100 µs, 1 at ≤1000 µs.
  auto q = window_quantiles(before->buckets, after->buckets);
  EXPECT_EQ(q.count, 100u);
  EXPECT_EQ(q.p50, 100u);
  EXPECT_EQ(q.p90, 100u);
  EXPECT_EQ(q.p99, 1000u);
  EXPECT_EQ(q.max, 1000u);
  EXPECT_EQ(window_quantiles(after->buckets, after->buckets).count, 0u);
  // A server without receive_wait_us still gives the forward delay.
  EXPECT_TRUE(after->wait_buckets.empty());
}

TEST(ServerStats, ReadsTheReceiveWaitBesideTheForwardDelay) {
  auto before = parse_delay_snapshot(R"({"workers":[
      {"forward_delay_us":{"buckets":[[100,1]]},"receive_wait_us":{"buckets":[[40,1]]}}]})");
  ASSERT_TRUE(before) << before.error();
  auto after = parse_delay_snapshot(R"({"workers":[
      {"forward_delay_us":{"buckets":[[100,11]]},"receive_wait_us":{"buckets":[[40,9],[90,2]]}},
      {"forward_delay_us":{"buckets":[[200,1]]},"receive_wait_us":{"buckets":[[50,1]]}}]})");
  ASSERT_TRUE(after) << after.error();
  // In the window: waits of 8 at ≤40, 1 at ≤50, 2 at ≤90 µs.
  auto w = window_quantiles(before->wait_buckets, after->wait_buckets);
  EXPECT_EQ(w.count, 11u);
  EXPECT_EQ(w.p50, 40u);
  EXPECT_EQ(w.p90, 90u);
  EXPECT_EQ(w.max, 90u);
  auto bad = parse_delay_snapshot(R"({"workers":[{"forward_delay_us":{"buckets":[]},"receive_wait_us":{"buckets":[[1,-2]]}}]})");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("receive_wait_us"), std::string::npos) << bad.error();
}

TEST(ServerStats, RejectsDocumentsWithoutTheHistogramWithAReason) {
  auto janus = parse_delay_snapshot(R"({"janus":"success"})");
  ASSERT_FALSE(janus);
  EXPECT_NE(janus.error().find("no workers"), std::string::npos) << janus.error();
  auto old = parse_delay_snapshot(R"({"workers":[{"index":0}]})");
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().find("forward_delay_us"), std::string::npos) << old.error();
  auto bad = parse_delay_snapshot(R"({"workers":[{"forward_delay_us":{"buckets":[[1]]}}]})");
  ASSERT_FALSE(bad);
  EXPECT_FALSE(parse_delay_snapshot("not json"));
  auto unreachable = fetch_delay_snapshot("ftp://x/stats", std::chrono::milliseconds(100));
  ASSERT_FALSE(unreachable);
  EXPECT_NE(unreachable.error().find("http://"), std::string::npos);
}

}  // namespace
}  // namespace sb::load
