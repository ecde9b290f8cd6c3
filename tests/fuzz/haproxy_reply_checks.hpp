// Runs every HAProxy reply parser on one input and aborts when a result
// breaks what the parsers promise. Shared by the libFuzzer target and the
// unit test that replays the seed corpus, so a crash the fuzzer finds and
// saves into the corpus becomes a regression test in every build.
#ifndef MEND_TESTS_FUZZ_HAPROXY_REPLY_CHECKS_HPP
#define MEND_TESTS_FUZZ_HAPROXY_REPLY_CHECKS_HPP

#include "fuzz_check.hpp"

#include <mend/adapters/haproxy_reply.hpp>

#include <string>
#include <string_view>

namespace mend_test {

inline bool is_blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

inline void check_haproxy_reply_parsers(std::string_view input) {
  namespace haproxy = mend::haproxy;

  std::string message;
  const auto reply = haproxy::parse_command_reply(input, &message);
  MEND_FUZZ_CHECK(static_cast<bool>(reply) == is_blank(input));
  if (!reply) {
    MEND_FUZZ_CHECK(!message.empty());
    MEND_FUZZ_CHECK(reply.error().category() == haproxy::runtime_category());
  }

  message.clear();
  const auto weight = haproxy::parse_weight(input, &message);
  if (weight) {
    MEND_FUZZ_CHECK(weight.value().current >= 0 && weight.value().current <= 256);
    MEND_FUZZ_CHECK(weight.value().initial >= 0 && weight.value().initial <= 256);
  } else {
    MEND_FUZZ_CHECK(!message.empty());
  }

  message.clear();
  const auto servers = haproxy::parse_servers_state(input, &message);
  if (servers) {
    for (const auto& server : servers.value()) {
      MEND_FUZZ_CHECK(!server.backend.empty());
      MEND_FUZZ_CHECK(!server.server.empty());
      MEND_FUZZ_CHECK(server.user_weight >= 0 && server.user_weight <= 256);
      MEND_FUZZ_CHECK(server.initial_weight >= 0 && server.initial_weight <= 256);
      const auto operational = static_cast<int>(server.operational);
      MEND_FUZZ_CHECK(operational >= 0 && operational <= 3);
      MEND_FUZZ_CHECK(!server.summary().empty());
    }
  } else {
    MEND_FUZZ_CHECK(!message.empty());
  }

  (void)haproxy::classify_message(input);
  (void)haproxy::is_valid_name(input);
}

}  // namespace mend_test

#endif  // MEND_TESTS_FUZZ_HAPROXY_REPLY_CHECKS_HPP
