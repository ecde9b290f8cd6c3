// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_DETAIL_OWNED_CONNECTION_HPP
#define MEND_DETAIL_OWNED_CONNECTION_HPP

#include <mend/result.hpp>
#include <mend/version.hpp>

#include <system_error>
#include <utility>

MEND_BEGIN_NAMESPACE
namespace detail {

// Owns one heap-allocated connection and destroys it where the pool decides,
// catching an exception its destructor throws. std::unique_ptr and
// std::optional cannot do that: their reset() is noexcept, so a throwing
// destructor would end the program.
template <class Connection>
class owned_connection {
 public:
  owned_connection() noexcept = default;
  explicit owned_connection(Connection&& connection) : connection_(new Connection(std::move(connection))) {}

  owned_connection(owned_connection&& other) noexcept : connection_(std::exchange(other.connection_, nullptr)) {}
  owned_connection& operator=(owned_connection&& other) noexcept {
    if (this != &other) {
      (void)destroy();
      connection_ = std::exchange(other.connection_, nullptr);
    }
    return *this;
  }
  owned_connection(const owned_connection&) = delete;
  owned_connection& operator=(const owned_connection&) = delete;

  ~owned_connection() {
    if (connection_ != nullptr) (void)destroy();
  }

  Connection* get() const noexcept { return connection_; }
  explicit operator bool() const noexcept { return connection_ != nullptr; }

  // Destroys the connection now. Returns the error of an exception thrown by
  // its destructor, or an empty code. The memory is freed either way.
  std::error_code destroy() noexcept {
    Connection* doomed = std::exchange(connection_, nullptr);
    if (doomed == nullptr) return {};
    try {
      delete doomed;
    } catch (...) {
      return current_exception_code();
    }
    return {};
  }

 private:
  Connection* connection_ = nullptr;
};

}  // namespace detail
MEND_END_NAMESPACE

#endif  // MEND_DETAIL_OWNED_CONNECTION_HPP
