// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_RESULT_HPP
#define MEND_RESULT_HPP

#include <mend/error.hpp>
#include <mend/version.hpp>

#include <boost/outcome/std_result.hpp>

#include <exception>
#include <functional>
#include <new>
#include <system_error>
#include <type_traits>
#include <utility>

MEND_BEGIN_NAMESPACE

// The value of a call, or the std::error_code that explains why there is none.
// value() on an error throws std::system_error with that code.
template <class T>
using result = boost::outcome_v2::std_result<T>;

using boost::outcome_v2::success;

namespace detail {

template <class R>
struct as_result {
  using type = result<R>;
};
template <>
struct as_result<void> {
  using type = result<void>;
};
// A callable that returns std::error_code reports success with an empty code.
template <>
struct as_result<std::error_code> {
  using type = result<void>;
};
template <class T, class E, class P>
struct as_result<boost::outcome_v2::basic_result<T, E, P>> {
  static_assert(std::is_same_v<E, std::error_code>, "mend works with results that carry std::error_code");
  using type = result<T>;
};

// What a wrapped call of F(Args...) returns: T and void become result<T> and
// result<void>, result<T> stays as it is.
template <class F, class... Args>
using invoke_result_t = typename as_result<std::remove_cvref_t<std::invoke_result_t<F, Args...>>>::type;

template <class R>
struct is_result : std::false_type {};
template <class T>
struct is_result<result<T>> : std::true_type {};

// Maps the exception being handled to an error code without losing a
// std::system_error's own code.
inline std::error_code current_exception_code() noexcept {
  try {
    throw;
  } catch (const std::system_error& e) {
    return e.code();
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  } catch (...) {
    return make_error_code(errc::unexpected_exception);
  }
}

// Calls f(args...) and returns its outcome as a result. Exceptions become
// errors, so a wrapped call always ends in a value or an error code.
template <class F, class... Args>
invoke_result_t<F, Args...> invoke_as_result(F&& f, Args&&... args) noexcept {
  using raw = std::remove_cvref_t<std::invoke_result_t<F, Args...>>;
  try {
    if constexpr (std::is_void_v<raw>) {
      std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
      return success();
    } else if constexpr (std::is_same_v<raw, std::error_code>) {
      const std::error_code ec = std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
      if (ec) return ec;
      return success();
    } else {
      return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
    }
  } catch (...) {
    return current_exception_code();
  }
}

}  // namespace detail

MEND_END_NAMESPACE

#endif  // MEND_RESULT_HPP
