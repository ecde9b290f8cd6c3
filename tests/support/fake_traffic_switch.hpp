// A traffic_switch for tests: weights live in a map, every command is
// logged, and a test can make a command fail or be ignored.
#ifndef MEND_TESTS_FAKE_TRAFFIC_SWITCH_HPP
#define MEND_TESTS_FAKE_TRAFFIC_SWITCH_HPP

#include <mend/error.hpp>
#include <mend/result.hpp>
#include <mend/traffic_switch.hpp>

#include <fmt/format.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mend_test {

class fake_traffic_switch final : public mend::traffic_switch {
 public:
  // Starts with the given targets and weights; other targets do not exist.
  explicit fake_traffic_switch(std::map<std::string, int, std::less<>> weights) : weights_(std::move(weights)) {}

  // The weights as they are now.
  std::map<std::string, int, std::less<>> weights() const { return weights_; }
  int weight_of(std::string_view target) const { return weights_.find(target)->second; }

  // Every command received, as "set green 10" or "get green".
  const std::vector<std::string>& commands() const { return commands_; }
  // Only the "set" commands.
  std::vector<std::string> writes() const {
    std::vector<std::string> out;
    for (const auto& command : commands_)
      if (command.starts_with("set ")) out.push_back(command);
    return out;
  }
  void clear_commands() { commands_.clear(); }

  // Makes the next `times` writes to `target` fail with `code` and
  // `message`; times < 0 means every write until allow_writes().
  void reject_writes(std::string target, std::error_code code, std::string message, int times = -1) {
    rejected_[std::move(target)] = {{code, std::move(message)}, times};
  }
  void allow_writes() { rejected_.clear(); }

  // Makes writes to `target` succeed without changing the weight.
  void ignore_writes(std::string target) { ignored_.insert(std::move(target)); }

 protected:
  mend::result<void> write_weight(std::string_view target, int weight, std::string& message) override {
    commands_.push_back(fmt::format("set {} {}", target, weight));
    const auto found = weights_.find(target);
    if (found == weights_.end()) {
      message = "No such server.";
      return make_error_code(mend::errc::invalid_argument);
    }
    if (const auto rejected = rejected_.find(std::string(target));
        rejected != rejected_.end() && rejected->second.times != 0) {
      if (rejected->second.times > 0) --rejected->second.times;
      message = rejected->second.error.message;
      return rejected->second.error.code;
    }
    if (!ignored_.contains(std::string(target))) found->second = weight;
    return mend::success();
  }

  mend::result<int> read_weight(std::string_view target, std::string& message) override {
    commands_.push_back(fmt::format("get {}", target));
    const auto found = weights_.find(target);
    if (found == weights_.end()) {
      message = "No such server.";
      return make_error_code(mend::errc::invalid_argument);
    }
    return found->second;
  }

 private:
  std::map<std::string, int, std::less<>> weights_;
  std::vector<std::string> commands_;
  struct rejection {
    mend::switch_error error;
    int times;
  };
  std::map<std::string, rejection> rejected_;
  std::set<std::string> ignored_;
};

}  // namespace mend_test

#endif  // MEND_TESTS_FAKE_TRAFFIC_SWITCH_HPP
